"""Parallel, resumable collection of scripted episodes into an episode dataset.

Every episode is a job (task, kind, index) whose seed derives from the collection seed,
so a dataset is reproducible and an interrupted run resumes by skipping finished files.
Workers are separate processes, each with its own software renderer, to use every core.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from configs.files import atomic_write
from envs.rendering import ViewRandomization
from grm.dataset.episode_io import FORMAT_VERSION, episode_path, list_episodes, write_episode
from grm.dataset.rollout import KINDS, RolloutSettings, UnsolvableSeed, record_episode


@dataclass(frozen=True)
class EnvSettings:
    cameras: tuple[str, ...]
    image_size: int
    max_steps: int
    fast_render: bool = True
    mesh_keep: float = 1.0  # < 1: decimated visual meshes (envs/mesh_detail.py)
    randomize: ViewRandomization = ViewRandomization()  # per-episode camera, light and colour changes


@dataclass(frozen=True)
class Job:
    task: str
    kind: str
    index: int
    seed: int


def episode_seed(base_seed: int, task: str, kind: str, index: int) -> int:
    """A stable per-episode seed: independent of job order, worker count and resumption."""
    entropy = [int(base_seed), zlib.crc32(task.encode()), KINDS.index(kind), int(index)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0] % (2**31))


def plan_jobs(tasks: list[str], counts: dict[str, int], base_seed: int) -> list[Job]:
    unknown = [k for k in counts if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown episode kind(s) {unknown}; valid: {', '.join(KINDS)}")
    bad = {k: n for k, n in counts.items() if int(n) < 0}
    if bad:
        raise ValueError(f"episode counts must be >= 0, got {bad}")
    return [Job(t, k, i, episode_seed(base_seed, t, k, i)) for t in tasks for k in KINDS for i in range(int(counts.get(k, 0)))]


class _Worker:
    """Per-process state: one rendering env and one pixel-free twin per task, reused across jobs."""

    def __init__(self, env: EnvSettings, rollout: RolloutSettings, out: Path):
        from envs.task_env import make_task

        self._make = make_task
        self.env, self.rollout, self.out = env, rollout, out
        self._envs: dict[str, tuple] = {}

    def _pair(self, task: str):
        if task not in self._envs:
            e = self.env
            self._envs[task] = (
                self._make(task, e.cameras, e.image_size, e.max_steps, e.fast_render, e.mesh_keep, e.randomize),
                self._make(task, (), e.image_size, e.max_steps),
            )
        return self._envs[task]

    def __call__(self, job: Job) -> tuple[Job, int]:
        env, state_env = self._pair(job.task)
        for attempt in range(MAX_SEED_TRIES):  # a fixed, deterministic sequence of candidate seeds
            try:
                ep = record_episode(env, state_env, job.kind, job.seed + attempt, self.env.max_steps, self.rollout)
                break
            except UnsolvableSeed:
                continue
        else:
            raise UnsolvableSeed(f"{job.task}: expert failed from {MAX_SEED_TRIES} seeds from {job.seed}; raise env.max_steps?")
        write_episode(episode_path(self.out, job.task, job.kind, job.index), ep)
        return job, ep.num_steps + 1


_WORKER: _Worker | None = None
MAX_SEED_TRIES = 20


def _init_worker(env: EnvSettings, rollout: RolloutSettings, out: Path) -> None:
    global _WORKER
    os.environ.setdefault("LP_NUM_THREADS", "1")  # one rasterizer thread per process: processes share the cores
    _WORKER = _Worker(env, rollout, out)


def _run_job(job: Job) -> tuple[Job, int]:
    assert _WORKER is not None
    return _WORKER(job)


def _check_dataset_info(out: Path, env: EnvSettings, rollout: RolloutSettings) -> None:
    """Refuse to mix episodes of different camera sets, resolutions, post-success behaviours or label
    rules in one folder."""
    info_path = out / "dataset.json"
    info = {"format": "robomimic-hdf5-per-episode", "format_version": FORMAT_VERSION, "env": asdict(env),
            "post_success": rollout.post_success, "labels": rollout.label_rule}
    info["env"]["cameras"] = list(env.cameras)
    if not env.randomize.active:  # recorded when used, so folders collected before it stay current
        del info["env"]["randomize"]
    if info_path.exists():
        old = json.loads(info_path.read_text())
        # settings that change every frame; a missing key means collected before the setting existed
        for key, before in (("env", None), ("post_success", "expert")):
            if old.get(key, before) != info[key]:
                raise ValueError(f"{out} already holds episodes collected with {key}={old.get(key, before)!r}; "
                                 f"this run asks for {key}={info[key]!r}. Collect into a new out= folder.")
        old_labels = old.get("labels", RolloutSettings(cap_unfinished=False).label_rule)  # no key: before the cap
        if old_labels == info["labels"]:
            return
        relabelled = list_episodes(out, kinds=["noisy", "wrong"])
        if relabelled:
            raise ValueError(
                f"{out} holds episodes labelled by another rule ({old_labels!r}), e.g. {relabelled[0].name}; "
                f"this run labels by {info['labels']!r}. Collect into a new out= folder."
            )
        # experts, cut-off runs and reversals only: labelled the same under both rules, so the folder is current
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(info_path, lambda tmp: tmp.write_text(json.dumps(info, indent=2)))


def collect(tasks: list[str], counts: dict[str, int], base_seed: int, out: str | Path, env: EnvSettings,
            rollout: RolloutSettings = RolloutSettings(), workers: int = 0, progress: bool = True) -> dict:
    """Collect every planned episode not yet on disk; returns a summary dict."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"out={out} exists and is not a folder")
    try:
        _check_dataset_info(out, env, rollout)
    except PermissionError as exc:
        raise PermissionError(f"cannot write to out={out}: {exc}") from exc
    for stale in out.glob("*/.tmp-*.hdf5"):  # left by a killed run; the episode will be redone
        stale.unlink()
    jobs = plan_jobs(tasks, counts, base_seed)
    todo = [j for j in jobs if not episode_path(out, j.task, j.kind, j.index).exists()]
    frames = 0
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="episodes", unit="ep", disable=not progress)
    if workers and workers > 1 and len(todo) > 1:
        ctx = mp.get_context("spawn")
        with ctx.Pool(min(workers, len(todo)), initializer=_init_worker, initargs=(env, rollout, out)) as pool:
            for _, n in pool.imap_unordered(_run_job, todo, chunksize=1):
                frames += n
                bar.update(1)
    else:
        worker = _Worker(env, rollout, out)
        for job in todo:
            frames += worker(job)[1]
            bar.update(1)
    bar.close()
    return {"planned": len(jobs), "collected": len(todo), "skipped": len(jobs) - len(todo), "frames": frames, "out": str(out)}
