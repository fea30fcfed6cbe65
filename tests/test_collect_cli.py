"""grm-collect end to end as a user runs it: outputs, resume after a kill, clear errors."""
import os
import signal
import subprocess
import sys
import time

import numpy as np

from grm.dataset import list_episodes, open_episode

CLI = [sys.executable, "-m", "grm.cli.collect"]


def run(*args, check=True, timeout=600):
    out = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(out.stderr[-3000:])
    return out


def test_collect_two_episodes_readback(tmp_path):
    run("task=window-close-v3", "episodes=2", "seed=1", f"out={tmp_path}", "env.image_size=64")
    paths = list_episodes(tmp_path)
    assert [p.name for p in paths] == ["expert_0000.hdf5", "expert_0001.hdf5"]
    for p in paths:
        with open_episode(p) as ep:
            assert ep.success and ep.cameras == ["corner", "topview", "gripperPOV"]
            assert len(ep.keyframes) >= 2 and ep.keyframes[-1] == ep.first_success
            for cam in ep.cameras:
                assert ep.images(cam).shape == (ep.num_frames, 64, 64, 3)
                assert ep.images(cam)[::10].std() > 5
            assert ep.instruction == "push and close the window"


def test_killed_collection_resumes_without_corrupt_files(tmp_path):
    args = ["task=reach-v3", "episodes=6", "seed=2", f"out={tmp_path}", "workers=1", "env.image_size=48"]
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and len(list((tmp_path / "reach-v3").glob("expert_*.hdf5"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # a hard kill, mid-episode
    proc.wait()
    done_before = {p.name for p in list_episodes(tmp_path)}
    assert 2 <= len(done_before) < 6
    for p in list_episodes(tmp_path):  # everything visible is complete
        open_episode(p).close()

    out = run(*args)
    assert f'"skipped": {len(done_before)}' in out.stdout
    assert not list(tmp_path.glob("*/.tmp-*")), "stale temp files are cleaned up"
    assert len(list_episodes(tmp_path)) == 6

    # resuming gives the same data as an uninterrupted run (seeds are per episode)
    fresh = tmp_path.parent / "fresh"
    run("task=reach-v3", "episodes=6", "seed=2", f"out={fresh}", "workers=2", "env.image_size=48")
    for name in ("expert_0000.hdf5", "expert_0005.hdf5"):
        a, b = open_episode(tmp_path / "reach-v3" / name), open_episode(fresh / "reach-v3" / name)
        np.testing.assert_array_equal(a.array("obs/state"), b.array("obs/state"))
        np.testing.assert_array_equal(a.images("corner")[-1], b.images("corner")[-1])


def test_cli_errors_are_clear(tmp_path):
    bad_task = run("task=drawer-opne-v3", f"out={tmp_path}", check=False)
    assert bad_task.returncode != 0 and "unknown task 'drawer-opne-v3'" in bad_task.stderr
    bad_cam = run("task=reach-v3", "env.cameras=[corner,frontview]", f"out={tmp_path}", check=False)
    assert bad_cam.returncode != 0 and "unknown camera(s) ['frontview']" in bad_cam.stderr
    bad_value = run("task=reach-v3", "episodes=lots", f"out={tmp_path}", check=False)
    assert bad_value.returncode != 0 and "episodes" in bad_value.stderr
    bad_key = run("task=reach-v3", "episdoes=2", f"out={tmp_path}", check=False)
    assert bad_key.returncode != 0 and "episdoes" in bad_key.stderr
    cfg = run("--cfg", "job", "task=reach-v3")
    assert "task: reach-v3" in cfg.stdout and "cameras:" in cfg.stdout
