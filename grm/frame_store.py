"""All frames of an episode dataset in one memory-mapped array, for fast random access.

Training draws a few frames from many episodes per step; decompressing HDF5 chunks for
each draw would dominate a CPU training step. The store decodes every frame once into
`<dataset>/.cache/frames-<cameras>.npy` (uint8, memory-mapped, so the OS pages it in
and out as needed) and keeps the small per-episode metadata (progress, keyframes, kind).
There is one cache per camera set, rebuilt when the set of episode files changes.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from configs.files import atomic_write
from grm.dataset.episode_io import list_episodes, open_episode
from grm.progress_labels import keyframe_progress
from grm.synthetic_failures import synthesize


@dataclass
class EpisodeIndex:
    path: str
    task: str
    kind: str
    success: bool
    offset: int  # first frame in the store
    length: int  # frames (T+1)
    progress: np.ndarray
    keyframes: np.ndarray
    goal: int  # frame index (in the episode) of the first success, or -1

    def frames(self) -> np.ndarray:
        return np.arange(self.offset, self.offset + self.length)


def _fingerprint(paths: list[Path], cameras: list[str]) -> str:
    """'<camera-set key>-<episode-set key>': one cache per camera set, rebuilt when episodes change."""
    h = hashlib.sha1()
    for p in paths:
        st = p.stat()
        h.update(f"{p}:{st.st_size}:{int(st.st_mtime)}".encode())
    return f"{hashlib.sha1(json.dumps(cameras).encode()).hexdigest()[:8]}-{h.hexdigest()[:12]}"


class FrameStore:
    def __init__(self, roots: list[str | Path], cameras: list[str], tasks: list[str] | None = None,
                 kinds: list[str] | None = None, progress: bool = True, keyframes: list[int] | None = None,
                 synthetic_failures: int = 0, seed: int = 0):
        """roots: dataset folders (cached on disk) or single episode files (held in memory).
        keyframes: override the sub-task boundaries of single-file sources (a hand-labelled demo).
        synthetic_failures: failure episodes of each kind made from every successful single-file
        source's own frames (grm/synthetic_failures.py), drawn from `seed`."""
        self.cameras = list(cameras)
        self.episodes: list[EpisodeIndex] = []
        arrays = []
        offset = 0
        for root in roots:
            if Path(root).is_file():
                frames, entry = self._load_file(Path(root), keyframes)
                entry.offset = offset
                arrays.append(frames)
                self.episodes.append(entry)
                offset += len(frames)
                for kind, idx in synthesize(entry.goal, entry.length, synthetic_failures, seed) if entry.success else ():
                    arrays.append(frames[idx])
                    self.episodes.append(EpisodeIndex(
                        path=f"{entry.path}#{kind}-{len(self.episodes)}", task=entry.task, kind=kind, success=False,
                        offset=offset, length=len(idx), progress=entry.progress[idx], keyframes=np.array([0, len(idx) - 1]),
                        goal=-1))
                    offset += len(idx)
                continue
            paths = list_episodes(root, tasks=tasks, kinds=kinds)
            if not paths:
                continue
            frames, meta = self._load_or_build(Path(root), paths, progress)
            arrays.append(frames)
            for m in meta:
                self.episodes.append(EpisodeIndex(
                    path=m["path"], task=m["task"], kind=m["kind"], success=m["success"], offset=offset + m["offset"],
                    length=m["length"], progress=np.asarray(m["progress"], np.float32),
                    keyframes=np.asarray(m["keyframes"]), goal=m["goal"],
                ))
            offset += len(frames)
        if not self.episodes:
            raise ValueError(f"no episodes found under {[str(r) for r in roots]} (tasks={tasks}, kinds={kinds})")
        self._arrays = arrays
        self._starts = np.cumsum([0] + [len(a) for a in arrays])
        self.image_size = arrays[0].shape[2]

    def _load_file(self, path: Path, keyframes: list[int] | None) -> tuple[np.ndarray, EpisodeIndex]:
        with open_episode(path) as ep:
            missing = [c for c in self.cameras if c not in ep.cameras]
            if missing:
                raise ValueError(f"{path} has no camera(s) {missing}; it has {ep.cameras}")
            frames = ep.frames(slice(None), self.cameras)
            kf = np.asarray(keyframes if keyframes is not None else ep.keyframes)
            success = ep.success and ep.kind != "wrong"
            if keyframes is not None:
                if kf[0] != 0 or kf[-1] >= ep.num_frames:
                    raise ValueError(f"keyframes {list(kf)} must start at 0 and end before frame {ep.num_frames}")
                progress, success = keyframe_progress(kf, ep.num_frames), True
            else:
                progress = ep.progress
            entry = EpisodeIndex(path=str(path), task=ep.task, kind=ep.kind, success=success, offset=0,
                                 length=ep.num_frames, progress=progress, keyframes=kf,
                                 goal=int(kf[-1]) if success else -1)
        return frames, entry

    def _load_or_build(self, root: Path, paths: list[Path], progress: bool) -> tuple[np.ndarray, list[dict]]:
        """The cached frames (memory-mapped) and their index; both files are written atomically,
        and a cache that cannot be read back (a crash of an older version) is rebuilt."""
        cache = root / ".cache"
        fp = _fingerprint(paths, self.cameras)
        npy, idx = cache / f"frames-{fp}.npy", cache / f"index-{fp}.json"
        if npy.exists() and idx.exists():
            try:
                return np.load(npy, mmap_mode="r"), json.loads(idx.read_text())
            except ValueError:  # truncated or corrupt (json.JSONDecodeError is a ValueError): rebuild
                pass
        cache.mkdir(exist_ok=True)
        cams = fp.split("-")[0]
        for old in list(cache.glob(f"frames-{cams}-*.npy")) + list(cache.glob(f"index-{cams}-*.json")):
            old.unlink()  # this camera set's cache of an older set of episodes
        meta, total = [], 0
        for p in paths:
            with open_episode(p) as ep:
                missing = [c for c in self.cameras if c not in ep.cameras]
                if missing:
                    raise ValueError(f"{p} has no camera(s) {missing}; it has {ep.cameras}")
                goal = int(ep.keyframes[-1]) if ep.success and ep.kind != "wrong" else -1
                meta.append(dict(path=str(p), task=ep.task, kind=ep.kind, success=bool(ep.success and ep.kind != "wrong"),
                                 offset=total, length=ep.num_frames, progress=ep.progress.tolist(),
                                 keyframes=ep.keyframes.tolist(), goal=goal))
                total += ep.num_frames
                shape = ep.images(self.cameras[0]).shape[1:]

        def write_frames(tmp: Path) -> None:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(total, len(self.cameras), *shape))
            for m in tqdm(meta, desc=f"caching frames of {root}", disable=not progress):
                with open_episode(m["path"]) as ep:
                    for v, cam in enumerate(self.cameras):
                        out[m["offset"]:m["offset"] + m["length"], v] = ep.images(cam)[()]
            out.flush()
            del out

        atomic_write(npy, write_frames)
        atomic_write(idx, lambda tmp: tmp.write_text(json.dumps(meta)))  # last: its presence means complete
        return np.load(npy, mmap_mode="r"), meta

    def get(self, global_frames: np.ndarray) -> np.ndarray:
        """(N,) store indices -> (N, V, H, W, 3) uint8."""
        global_frames = np.asarray(global_frames)
        out = np.empty((len(global_frames), *self._arrays[0].shape[1:]), dtype=np.uint8)
        which = np.searchsorted(self._starts, global_frames, side="right") - 1
        for a in np.unique(which):
            sel = which == a
            out[sel] = self._arrays[a][global_frames[sel] - self._starts[a]]
        return out

    def by_task(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, e in enumerate(self.episodes):
            out.setdefault(e.task, []).append(i)
        return out
