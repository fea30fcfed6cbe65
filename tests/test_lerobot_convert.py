"""grm-convert: episode files -> LeRobotDataset v3.0 -> episode files is the same dataset (frames
within the codec's tolerance); a LeRobot dataset recorded elsewhere becomes a demo that adapts the GRM;
a partial dataset is refused naming the missing part."""
import json
import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from grm.dataset import list_episodes, open_episode
from grm.dataset.lerobot import EPISODES_FILE, from_lerobot, to_lerobot


@pytest.fixture(scope="module")
def lerobot_dir(tiny_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("lerobot") / "le"
    to_lerobot(tiny_dataset, out, fps=80)
    return out


def test_layout_is_lerobot_v3(tiny_dataset, lerobot_dir):
    info = json.loads((lerobot_dir / "meta/info.json").read_text())
    episodes = list_episodes(tiny_dataset)
    frames = sum(open_episode(p).num_frames for p in episodes)
    assert info["codebase_version"] == "v3.0" and info["total_episodes"] == len(episodes) == 12
    assert info["total_frames"] == frames and info["fps"] == 80
    assert info["features"]["observation.images.corner"]["dtype"] == "video"
    assert info["features"]["observation.images.corner"]["shape"] == [32, 32, 3]
    assert info["features"]["observation.state"] == {"dtype": "float64", "shape": [39], "names": None}
    data = pq.read_table(lerobot_dir / "data/chunk-000/file-000.parquet")
    assert data.num_rows == frames and data.column("index").to_pylist() == list(range(frames))
    eps = pq.read_table(lerobot_dir / EPISODES_FILE).to_pandas()
    assert list(eps["dataset_to_index"] - eps["dataset_from_index"]) == list(eps["length"])
    assert eps["videos/observation.images.gripperPOV/to_timestamp"].iloc[-1] == pytest.approx(frames / 80)
    tasks = pd.read_parquet(lerobot_dir / "meta/tasks.parquet")
    assert tasks.index.name == "task" and len(tasks) == 2  # two tasks' instructions
    stats = json.loads((lerobot_dir / "meta/stats.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert np.array(stats["observation.images.corner"]["mean"]).shape == (3, 1, 1)
    assert stats["action"]["count"] == [frames]
    for cam in ("corner", "gripperPOV"):
        assert (lerobot_dir / f"videos/observation.images.{cam}/chunk-000/file-000.mp4").stat().st_size > 1000


def test_round_trip_is_the_same_dataset(tiny_dataset, lerobot_dir, tmp_path):
    back = tmp_path / "back"
    from_lerobot(lerobot_dir, back)
    pairs = list(zip(list_episodes(tiny_dataset), list_episodes(back), strict=True))
    for a, b in pairs:
        assert a.relative_to(tiny_dataset) == b.relative_to(back)
        with open_episode(a) as ha, open_episode(b) as hb:
            A, B = ha.load(), hb.load()
        for key in ("state", "physics", "actions", "rewards", "step_success", "keyframes", "progress"):
            np.testing.assert_array_equal(getattr(A, key), getattr(B, key), err_msg=f"{b.name}: {key}")
        assert (A.task, A.kind, A.seed, A.instruction, A.cameras, A.meta) == \
            (B.task, B.kind, B.seed, B.instruction, B.cameras, B.meta)
        assert np.abs(A.images.astype(int) - B.images.astype(int)).mean() < 4  # h264, 4:4:4
    assert json.loads((back / "dataset.json").read_text()) == json.loads((tiny_dataset / "dataset.json").read_text())


def test_a_demo_recorded_elsewhere_adapts_the_grm(lerobot_dir, tiny_grm, tmp_path):
    """Without this project's columns an episode is a demonstration: success at its end, keyframe progress."""
    from configs.typed import compose
    from grm.one_shot import AdaptConfig, one_shot_config
    from grm.train import train

    foreign = tmp_path / "foreign"
    shutil.copytree(lerobot_dir, foreign)
    eps = pq.read_table(foreign / EPISODES_FILE)
    pq.write_table(eps.drop([c for c in eps.column_names if c.startswith("grm/")]), foreign / EPISODES_FILE)
    written = from_lerobot(foreign, tmp_path / "demos", task="my-task")
    with open_episode(written[0]) as ep:
        assert ep.task == "my-task" and ep.kind == "demo" and ep.success and ep.cameras == ["corner", "gripperPOV"]
        assert ep.progress[0] == 0 and ep.progress[-1] == 1 and list(ep.keyframes) == [0, ep.num_frames - 1]
    settings = compose("adapt", AdaptConfig, [f"demo={written[0]}", "steps=2", "batch_size=2", "progress=false"])
    out = train(one_shot_config(written[0], tmp_path / "adapted", tiny_grm, settings, 0, None, settings))
    assert out.is_file()


def test_partial_or_foreign_datasets_are_refused_by_name(tiny_dataset, lerobot_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(lerobot_dir, broken)
    shutil.rmtree(broken / "videos/observation.images.corner")
    with pytest.raises(ValueError, match="observation.images.corner/chunk-000/file-000.mp4: missing .the "
                                         "observation.images.corner video."):
        from_lerobot(broken, tmp_path / "out1")
    info = json.loads((broken / "meta/info.json").read_text())
    (broken / "meta/info.json").write_text(json.dumps({**info, "codebase_version": "v2.1"}))
    with pytest.raises(ValueError, match="codebase_version 'v2.1'; this reads v3.0"):
        from_lerobot(broken, tmp_path / "out2")
    with pytest.raises(ValueError, match="out=.*exists and is not empty"):
        to_lerobot(tiny_dataset, broken, fps=80)
