"""Turn streams recorded elsewhere (a robot, a rosbag, a LeRobot dataset) into one episode file of
the project's dataset format, so a single teleoperated demo can drive `grm-adapt` (and
`grm-eval`, `grm-rl demo.path=`).

Real recordings have no simulator state and no ground-truth progress: `physics` is empty,
keyframes are the operator's marks (plus the first and the success frame) and progress is the
step-wise keyframe progress that adaptation trains on.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from grm.dataset.episode_io import EpisodeData, episode_path, list_episodes, write_episode
from grm.progress_labels import keyframe_progress


def build_episode(task: str, instruction: str, cameras: list[str], images: np.ndarray, state: np.ndarray,
                  actions: np.ndarray, success: bool, marks: list[int] | None = None, meta: dict | None = None,
                  kind: str = "demo") -> EpisodeData:
    """images (T+1, V, H, W, 3), state (T+1, S), actions (T, A); marks = operator keyframes."""
    n = len(images)
    if n < 2:
        raise ValueError(f"an episode needs at least 2 frames, got {n}")
    if len(state) != n or len(actions) != n - 1:
        raise ValueError(f"{n} frames need {n} states and {n - 1} actions, got {len(state)} and {len(actions)}")
    keyframes = sorted({0, n - 1, *[int(m) for m in (marks or []) if 0 < int(m) < n - 1]})
    step_success = np.zeros(n - 1, dtype=bool)
    step_success[-1] = bool(success)
    return EpisodeData(
        task=task, instruction=instruction, kind=kind, seed=-1, cameras=list(cameras),
        images=np.asarray(images, dtype=np.uint8), state=np.asarray(state, dtype=np.float64),
        physics=np.zeros((n, 0)), actions=np.asarray(actions, dtype=np.float32),
        rewards=np.zeros(n - 1, dtype=np.float32), step_success=step_success,
        keyframes=np.asarray(keyframes, dtype=np.int64), progress=keyframe_progress(keyframes, n), meta=meta or {},
    )


def next_episode_path(root: str | Path, task: str, kind: str = "demo") -> Path:
    existing = list_episodes(root, [task], [kind]) if Path(root).is_dir() else []
    return episode_path(root, task, kind, len(existing))


def save_episode(root: str | Path, ep: EpisodeData, source: str) -> Path:
    """Write atomically as the next `<root>/<task>/<kind>_NNNN.hdf5`."""
    return write_episode(next_episode_path(root, ep.task, ep.kind), ep,
                         {"env_name": ep.task, "type": "real", "source": source})
