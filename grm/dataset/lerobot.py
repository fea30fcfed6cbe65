"""LeRobotDataset v3.0 <-> the project's episode files, with pyarrow and PyAV (no `lerobot` import:
its releases pin an older torch than ours).

Layout written (LeRobot's v3.0 templates; all episodes in one file of each kind)::

    meta/info.json                          codebase_version v3.0, fps, features, path templates
    meta/stats.json                         min / max / mean / std / count per feature
    meta/tasks.parquet                      task string (the index) -> task_index
    meta/episodes/chunk-000/file-000.parquet  one row per episode: length, rows, video time ranges
    data/chunk-000/file-000.parquet         one row per frame
    videos/observation.images.<cam>/chunk-000/file-000.mp4   the episodes back to back, per camera

Our episodes have T+1 frames and T actions (frame t is what the robot saw before action t); a
LeRobot frame carries its own action, so the last frame's action is zeros and `next.done` marks it.
Everything else of an episode (the simulator state, progress labels, success per step, keyframes,
kind, seed) travels in extra columns (`observation.physics`, `observation.progress`,
`next.success`, `next.reward`, and `grm/...` in the episode table), so a dataset converted there
and back is the same dataset, frames within the video codec's tolerance. A LeRobot dataset made
elsewhere lacks those: it is read as demonstrations (success at the last frame, keyframes at the
first and last frame, `grm.dataset.episode_builder`), each episode's action after its last frame
dropped.
"""
from __future__ import annotations

import json
import re
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np

from configs.files import atomic_write
from grm.dataset.episode_builder import build_episode
from grm.dataset.episode_io import (FORMAT_VERSION, EpisodeData, episode_path, list_episodes, open_episode,
                                   write_episode)

CODEBASE_VERSION = "v3.0"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_FILE = "meta/episodes/chunk-000/file-000.parquet"
IMAGE_PREFIX = "observation.images."
CODEC, PIX_FMT, CRF = "libx264", "yuv444p", 10  # full-resolution colour: small frames lose edges in 4:2:0


def _frame_columns(ep: EpisodeData) -> dict[str, np.ndarray]:
    """Per-frame arrays (T+1 rows) of one episode, in LeRobot's names."""
    n = ep.num_steps + 1

    def pad(x: np.ndarray, value=0) -> np.ndarray:  # T per-step values -> T+1 rows (nothing after the last frame)
        return np.concatenate([x, np.full((1, *x.shape[1:]), value, dtype=x.dtype)])

    done = np.zeros(n, dtype=bool)
    done[-1] = True
    cols = {"observation.state": ep.state.astype(np.float64), "action": pad(ep.actions.astype(np.float32)),
            "next.reward": pad(ep.rewards.astype(np.float32)), "next.success": pad(ep.step_success.astype(bool), False),
            "next.done": done, "observation.progress": ep.progress.astype(np.float32),
            "observation.physics": ep.physics.astype(np.float64)}
    return cols


def _pad_physics(parts: list[np.ndarray]) -> np.ndarray | None:
    """Tasks' simulator states differ in size: NaN-padded to the widest (each episode's own width
    travels as grm/physics_size); None when no episode has one (recorded elsewhere)."""
    width = max(p.shape[1] for p in parts)
    if not width:
        return None
    return np.concatenate([np.pad(p, ((0, 0), (0, width - p.shape[1])), constant_values=np.nan) for p in parts])


def _feature(values: np.ndarray) -> dict:
    dtype = {"b": "bool", "f": str(values.dtype), "i": "int64"}[values.dtype.kind]
    return {"dtype": dtype, "shape": list(values.shape[1:]) or [1], "names": None}


def _stats(values: np.ndarray) -> dict:
    v = values.astype(np.float64).reshape(len(values), -1)  # NaN: padding (observation.physics), left out
    return {"min": np.nanmin(v, 0).tolist(), "max": np.nanmax(v, 0).tolist(), "mean": np.nanmean(v, 0).tolist(),
            "std": np.nanstd(v, 0).tolist(), "count": [len(v)]}


def _encode(path: Path, frames: np.ndarray, fps: int) -> None:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(CODEC, rate=fps, options={"crf": str(CRF), "g": "2"})
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], PIX_FMT
        stream.time_base = Fraction(1, fps)
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


def _decode(path: Path, fps: int) -> np.ndarray:
    """Every frame of a video, in order, indexed by round(time * fps)."""
    import av

    frames = {}
    with av.open(str(path)) as video:
        for frame in video.decode(video=0):
            frames[int(round(float(frame.time) * fps))] = frame.to_ndarray(format="rgb24")
    if not frames:
        raise ValueError(f"{path}: no frames")
    return np.stack([frames[i] for i in sorted(frames)])


def to_lerobot(src: str | Path, dst: str | Path, fps: int, robot_type: str = "sawyer") -> dict:
    """Write every episode under `src` as one LeRobotDataset v3.0 at `dst` (built beside it, then
    renamed into place: an interrupted conversion leaves nothing half-written). Returns info.json."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    src, dst = Path(src), Path(dst)
    paths = list_episodes(src)
    if not paths:
        raise ValueError(f"src={src}: no episode files (grm-collect writes them)")
    if dst.exists() and any(dst.iterdir()):
        raise ValueError(f"out={dst}: exists and is not empty; give a new folder")
    tmp = dst.with_name(dst.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    rows: dict[str, list] = {}
    videos: dict[str, list[np.ndarray]] = {}
    episodes, tasks, first, start = [], {}, None, 0
    for e, path in enumerate(paths):
        with open_episode(path) as handle:
            ep = handle.load()
        shape = (ep.cameras, ep.images.shape[2:], ep.state.shape[1:], ep.actions.shape[1:])
        first = first or (shape, path)
        if shape != first[0]:
            raise ValueError(f"{path}: cameras, image size or state/action sizes differ from {first[1]}'s; "
                             f"a LeRobot dataset has one feature layout: convert them separately")
        n = ep.num_steps + 1
        task_index = tasks.setdefault(ep.instruction, len(tasks))
        cols = {**_frame_columns(ep), "timestamp": (np.arange(n) / fps).astype(np.float32),
                "frame_index": np.arange(n, dtype=np.int64), "episode_index": np.full(n, e, dtype=np.int64),
                "index": np.arange(start, start + n, dtype=np.int64), "task_index": np.full(n, task_index, np.int64)}
        for k, v in cols.items():
            rows.setdefault(k, []).append(v)
        row = {"episode_index": e, "tasks": [ep.instruction], "length": n, "data/chunk_index": 0,
               "data/file_index": 0, "dataset_from_index": start, "dataset_to_index": start + n,
               "meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0}
        t0 = start / fps  # every camera's video holds all episodes' frames back to back, as the rows do
        for v, cam in enumerate(ep.cameras):
            key = IMAGE_PREFIX + cam
            videos.setdefault(key, []).append(ep.images[:, v])
            row.update({f"videos/{key}/chunk_index": 0, f"videos/{key}/file_index": 0,
                        f"videos/{key}/from_timestamp": t0, f"videos/{key}/to_timestamp": t0 + n / fps})
        row.update({"grm/task": ep.task, "grm/kind": ep.kind, "grm/seed": int(ep.seed), "grm/source": path.name,
                    "grm/physics_size": int(ep.physics.shape[1]),
                    "grm/keyframes": [int(k) for k in ep.keyframes], "grm/meta": json.dumps(ep.meta)})
        episodes.append(row)
        start += n
    physics = _pad_physics(rows.pop("observation.physics"))
    data = {k: np.concatenate(v) for k, v in rows.items()}
    if physics is not None:
        data["observation.physics"] = physics
    features, stats = {}, {}
    for key, values in data.items():
        features[key] = _feature(values)
        if values.dtype.kind != "b" and key not in ("task_index",):
            stats[key] = _stats(values)
    for key, parts in videos.items():
        frames = np.concatenate(parts)
        _encode(tmp / VIDEO_PATH.format(video_key=key, chunk_index=0, file_index=0), frames, fps)
        H, W = frames.shape[1:3]
        features[key] = {"dtype": "video", "shape": [H, W, 3], "names": ["height", "width", "channels"],
                         "info": {"video.height": H, "video.width": W, "video.codec": "h264", "video.pix_fmt": PIX_FMT,
                                  "video.is_depth_map": False, "video.fps": fps, "video.channels": 3,
                                  "has_audio": False}}
        channels = _stats(frames.reshape(-1, 3) / 255.0)  # per channel, shaped (3, 1, 1) as LeRobot's
        stats[key] = {m: [[[x]] for x in channels[m]] for m in ("min", "max", "mean", "std")} | {"count": [len(frames)]}
    table = pa.table({k: (list(v) if v.ndim > 1 else v) for k, v in data.items()})
    (tmp / "data/chunk-000").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, tmp / DATA_PATH.format(chunk_index=0, file_index=0))
    (tmp / EPISODES_FILE).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(episodes), tmp / EPISODES_FILE)
    pd.DataFrame({"task_index": list(tasks.values())}, index=pd.Index(list(tasks), name="task")).to_parquet(
        tmp / "meta/tasks.parquet")
    info = {"codebase_version": CODEBASE_VERSION, "robot_type": robot_type, "total_episodes": len(episodes),
            "total_frames": len(data["index"]), "total_tasks": len(tasks), "fps": fps, "chunks_size": 1000,
            "data_files_size_in_mb": 100, "video_files_size_in_mb": 200, "splits": {"train": f"0:{len(episodes)}"},
            "data_path": DATA_PATH, "video_path": VIDEO_PATH, "features": features}
    if (src / "dataset.json").is_file():  # how the episodes were collected: restored on the way back
        info["grm/dataset"] = json.loads((src / "dataset.json").read_text())
    (tmp / "meta/info.json").write_text(json.dumps(info, indent=4) + "\n")
    (tmp / "meta/stats.json").write_text(json.dumps(stats, indent=4) + "\n")
    if dst.exists():
        dst.rmdir()
    tmp.rename(dst)
    return info


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise ValueError(f"{path}: missing ({what}); not a complete LeRobotDataset v3.0")
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "task"


def from_lerobot(src: str | Path, dst: str | Path, task: str | None = None) -> list[Path]:
    """Write each episode of the LeRobotDataset v3.0 at `src` as an episode file under `dst`."""
    import pyarrow.parquet as pq

    src, dst = Path(src), Path(dst)
    if dst.exists() and any(dst.iterdir()):
        raise ValueError(f"out={dst}: exists and is not empty; give a new folder")
    info = json.loads(_require(src / "meta/info.json", "the dataset's schema").read_text())
    if info.get("codebase_version") != CODEBASE_VERSION:
        raise ValueError(f"{src}: codebase_version {info.get('codebase_version')!r}; this reads {CODEBASE_VERSION} "
                         f"(LeRobot converts older datasets to it)")
    features, fps = info["features"], int(info["fps"])
    for key in ("observation.state", "action"):
        if key not in features:
            raise ValueError(f"{src}: no `{key}` feature; features are {', '.join(features)}")
    cams = [k for k, f in features.items() if f["dtype"] == "video"]
    if not cams:
        raise ValueError(f"{src}: no video features (observation.images.*): a reward model needs camera views")
    episodes = pq.read_table(_require(src / EPISODES_FILE, "episode metadata")).to_pylist()
    data_files, decoded, written = {}, {}, []
    for row in episodes:
        dkey = (row["data/chunk_index"], row["data/file_index"])
        if dkey not in data_files:
            path = _require(src / info["data_path"].format(chunk_index=dkey[0], file_index=dkey[1]), "frame data")
            data_files[dkey] = pq.read_table(path).to_pydict()
        frames = data_files[dkey]
        first = frames["index"].index(row["dataset_from_index"])
        rows = slice(first, first + row["length"])
        images = []
        for key in cams:
            vkey = (key, row[f"videos/{key}/chunk_index"], row[f"videos/{key}/file_index"])
            if vkey not in decoded:
                path = src / info["video_path"].format(video_key=key, chunk_index=vkey[1], file_index=vkey[2])
                decoded[vkey] = _decode(_require(path, f"the {key} video"), fps)
            t0 = int(round(row[f"videos/{key}/from_timestamp"] * fps))
            images.append(decoded[vkey][t0:t0 + row["length"]])
        images = np.stack(images, axis=1)
        col = {k: np.asarray(v[rows]) for k, v in frames.items()}
        cameras = [k[len(IMAGE_PREFIX):] if k.startswith(IMAGE_PREFIX) else k for k in cams]
        instruction = row["tasks"][0] if row.get("tasks") else ""
        if "grm/kind" in row:  # written by to_lerobot: the episode exactly as it was
            ep = EpisodeData(task=row["grm/task"], instruction=instruction, kind=row["grm/kind"], seed=row["grm/seed"],
                             cameras=cameras, images=images, state=col["observation.state"],
                             physics=col.get("observation.physics",
                                             np.zeros((len(images), 0)))[:, :row["grm/physics_size"]],
                             actions=col["action"][:-1].astype(np.float32),
                             rewards=col["next.reward"][:-1].astype(np.float32),
                             step_success=col["next.success"][:-1].astype(bool),
                             keyframes=np.asarray(row["grm/keyframes"], dtype=np.int64),
                             progress=col["observation.progress"].astype(np.float32), meta=json.loads(row["grm/meta"]))
            out = dst / ep.task / row["grm/source"]
        else:  # recorded elsewhere: a demonstration
            name = task or _slug(instruction)
            ep = build_episode(name, instruction, cameras, images, col["observation.state"],
                               col["action"][:-1], success=True, meta={"source": f"lerobot:{src.name}"})
            out = episode_path(dst, name, "demo", row["episode_index"])
        written.append(write_episode(out, ep, {"env_name": ep.task, "type": "lerobot", "source": str(src)}))
    dataset = info.get("grm/dataset") or {
        "format": "robomimic-hdf5-per-episode", "format_version": FORMAT_VERSION, "source": f"lerobot:{src}",
        "env": {"cameras": cameras, "image_size": int(images.shape[2])}, "post_success": "none", "labels": "keyframes"}
    atomic_write(dst / "dataset.json", lambda tmp: tmp.write_text(json.dumps(dataset, indent=2)))
    return written
