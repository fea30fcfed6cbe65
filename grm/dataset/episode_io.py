"""Episode files: HDF5, robomimic layout, one file per episode, written atomically.

Layout of one file (robomimic's ``data/demo_<i>`` group, so its tools and h5py open it)::

    data/                         attrs: env_args (JSON), total
      demo_0/                     attrs: num_samples (= T actions), task, instruction, kind,
                                         success, first_success, seed, cameras, keyframes
        actions      (T, 4)       float32
        rewards      (T,)         float32   Meta-World's dense reward
        dones        (T,)         uint8     1 on the last step
        success      (T,)         uint8     info["is_success"] after each action
        states       (T+1, S)     float64   full MuJoCo physics state (exact restore)
        keyframes    (K,)         int64     sub-task boundaries, frame indices
        progress     (T+1,)       float32   ground-truth progress in [0, 1] (grm/progress_labels.py)
        obs/state    (T+1, 39)    float64   Meta-World observation
        obs/<cam>_image (T+1, H, W, 3) uint8   chunked per frame group, gzip

Unlike robomimic, ``obs`` holds T+1 frames (the final observation included) and there is
no duplicated ``next_obs``: frame t is what the robot saw before action t.
One file per episode makes writes atomic (temp file + rename) and keeps every finished
episode when a collection is interrupted; datasets are read lazily through h5py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from configs.files import atomic_write

FORMAT_VERSION = 2
IMAGE_CHUNK_FRAMES = 16


@dataclass
class EpisodeData:
    """An episode fully in memory (what a rollout produces and `Episode.load` returns)."""

    task: str
    instruction: str
    kind: str  # expert | noisy | early_stop | wrong | reversed
    seed: int
    cameras: list[str]
    images: np.ndarray  # (T+1, V, H, W, 3) uint8
    state: np.ndarray  # (T+1, 39)
    physics: np.ndarray  # (T+1, S)
    actions: np.ndarray  # (T, 4)
    rewards: np.ndarray  # (T,)
    step_success: np.ndarray  # (T,) bool
    keyframes: np.ndarray  # (K,) int
    progress: np.ndarray  # (T+1,) float, ground-truth task progress in [0, 1]
    meta: dict = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        return len(self.actions)

    @property
    def success(self) -> bool:
        return bool(self.step_success.any()) if self.kind != "reversed" else False

    @property
    def first_success(self) -> int:
        """Frame index of the first success, -1 if none."""
        hits = np.nonzero(self.step_success)[0]
        return int(hits[0]) + 1 if len(hits) and self.kind != "reversed" else -1


def write_episode(path: str | Path, ep: EpisodeData, env_args: dict | None = None) -> Path:
    """Write `ep` to `path` atomically: a reader sees either nothing or the whole file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    T = ep.num_steps
    if ep.images.shape[0] != T + 1 or ep.state.shape[0] != T + 1:
        raise ValueError(f"episode needs T+1={T + 1} frames, got {ep.images.shape[0]} images, {ep.state.shape[0]} states")
    if ep.images.shape[1] != len(ep.cameras):
        raise ValueError(f"{ep.images.shape[1]} image streams for cameras {ep.cameras}")

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as f:
            data = f.create_group("data")
            data.attrs["env_args"] = json.dumps(env_args or {"env_name": ep.task, "type": "metaworld"})
            data.attrs["total"] = T
            data.attrs["format_version"] = FORMAT_VERSION
            demo = data.create_group("demo_0")
            attrs = {
                "num_samples": T,
                "task": ep.task,
                "instruction": ep.instruction,
                "kind": ep.kind,
                "seed": int(ep.seed),
                "success": ep.success,
                "first_success": ep.first_success,
                "cameras": json.dumps(list(ep.cameras)),
                "meta": json.dumps(ep.meta),
            }
            demo.attrs.update(attrs)
            demo.create_dataset("actions", data=ep.actions.astype(np.float32))
            demo.create_dataset("rewards", data=ep.rewards.astype(np.float32))
            dones = np.zeros(T, dtype=np.uint8)
            dones[-1:] = 1
            demo.create_dataset("dones", data=dones)
            demo.create_dataset("success", data=ep.step_success.astype(np.uint8))
            demo.create_dataset("states", data=ep.physics.astype(np.float64), compression="gzip", compression_opts=4)
            demo.create_dataset("keyframes", data=np.asarray(ep.keyframes, dtype=np.int64))
            demo.create_dataset("progress", data=np.asarray(ep.progress, dtype=np.float32))
            obs = demo.create_group("obs")
            obs.create_dataset("state", data=ep.state.astype(np.float64))
            _, _, H, W, C = ep.images.shape
            for v, cam in enumerate(ep.cameras):
                obs.create_dataset(
                    f"{cam}_image",
                    data=np.ascontiguousarray(ep.images[:, v]),
                    chunks=(min(IMAGE_CHUNK_FRAMES, T + 1), H, W, C),
                    compression="gzip",
                    compression_opts=4,
                )

    atomic_write(path, write)
    return path


class Episode:
    """Lazy read access to one episode file; slices load only what they touch."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"episode file not found: {self.path}")
        try:
            self._file = h5py.File(self.path, "r")
            self._demo = self._file["data/demo_0"]
        except (OSError, KeyError) as exc:
            raise ValueError(f"{self.path} is not a readable episode file ({exc})") from exc
        a = self._demo.attrs
        self.task: str = str(a["task"])
        self.instruction: str = str(a["instruction"])
        self.kind: str = str(a["kind"])
        self.seed: int = int(a["seed"])
        self.success: bool = bool(a["success"])
        self.first_success: int = int(a["first_success"])
        self.cameras: list[str] = json.loads(a["cameras"])
        self.meta: dict = json.loads(a["meta"])
        self.num_steps: int = int(a["num_samples"])

    @property
    def num_frames(self) -> int:
        return self.num_steps + 1

    @property
    def keyframes(self) -> np.ndarray:
        return self._demo["keyframes"][()]

    @property
    def progress(self) -> np.ndarray:
        return self._demo["progress"][()]

    def images(self, camera: str) -> h5py.Dataset:
        """The lazily-indexable (T+1, H, W, 3) stream of one camera."""
        if camera not in self.cameras:
            raise KeyError(f"camera {camera!r} not in episode {self.path.name}; it has {self.cameras}")
        return self._demo[f"obs/{camera}_image"]

    def frames(self, index, cameras: list[str] | None = None) -> np.ndarray:
        """Multi-view frames at `index` (int or sorted index array): (..., V, H, W, 3)."""
        cams = cameras or self.cameras
        return np.stack([self.images(c)[index] for c in cams], axis=-4)

    def array(self, key: str) -> np.ndarray:
        return self._demo[key][()]

    def load(self) -> EpisodeData:
        d = self._demo
        return EpisodeData(
            task=self.task,
            instruction=self.instruction,
            kind=self.kind,
            seed=self.seed,
            cameras=self.cameras,
            images=np.stack([d[f"obs/{c}_image"][()] for c in self.cameras], axis=1),
            state=d["obs/state"][()],
            physics=d["states"][()],
            actions=d["actions"][()],
            rewards=d["rewards"][()],
            step_success=d["success"][()].astype(bool),
            keyframes=d["keyframes"][()],
            progress=d["progress"][()],
            meta=self.meta,
        )

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Episode":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_episode(path: str | Path) -> Episode:
    return Episode(path)


def episode_path(root: str | Path, task: str, kind: str, index: int) -> Path:
    return Path(root) / task / f"{kind}_{index:04d}.hdf5"


def list_episodes(root: str | Path, tasks: list[str] | None = None, kinds: list[str] | None = None) -> list[Path]:
    """Finished episode files under `root` (temp files of interrupted writes are ignored)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {root}")
    paths = sorted(p for p in root.glob("*/*.hdf5") if not p.name.startswith(".tmp-"))
    if tasks is not None:
        paths = [p for p in paths if p.parent.name in tasks]
    if kinds is not None:
        paths = [p for p in paths if p.name.rsplit("_", 1)[0] in kinds]
    return paths


def dataset_cameras(root: str | Path) -> list[str]:
    """The cameras of a dataset folder (its dataset.json) or of one episode file: the one place
    commands read them from."""
    if Path(root).is_file():
        with open_episode(root) as ep:
            return ep.cameras
    info = Path(root) / "dataset.json"
    if not info.is_file():
        raise FileNotFoundError(f"{root} is not a dataset folder (no dataset.json); make one with grm-collect")
    return list(json.loads(info.read_text())["env"]["cameras"])
