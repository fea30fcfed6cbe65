"""Every writer goes through one atomic write: a crash leaves the old file or none, never a
half-written one or a stray temp file, and new files get the usual permissions (the umask)."""
import os
import stat

import pytest

from configs.files import atomic_write, write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = write_text(tmp_path / "report.json", "old")

    def crash(tmp):
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(path, crash)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_files_follow_the_umask(tmp_path, tiny_grm):
    from grm.checkpoint import load_model, save_checkpoint

    old = os.umask(0o022)
    try:
        model, cameras, _ = load_model(tiny_grm)
        ckpt = save_checkpoint(tmp_path / "grm.pt", model, cameras)
        text = write_text(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert _mode(ckpt) == 0o644 and _mode(text) == 0o644  # a GRM checkpoint was 0600 (mkstemp)


def test_episode_files_follow_the_umask(tiny_dataset):
    episode = next(tiny_dataset.glob("*/expert_0000.hdf5"))
    assert _mode(episode) == 0o666 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
