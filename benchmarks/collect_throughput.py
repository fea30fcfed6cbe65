"""Frames/s of multi-view collection vs raw stepping of the same task, in one run.

    python benchmarks/collect_throughput.py            # writes benchmarks/results/collect_throughput.json

Three measurements on the same task and seeds, side by side so machine noise hits all:
  raw_steps_per_s        expert + env.step, no rendering (the simulator's ceiling)
  render_1proc_fps       expert + step + 3-camera render, one process, no disk
  collect_fps            grm-collect's real pipeline (render, compress, atomic write) with W workers
A "frame" is one time step seen by every camera (3 images).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

from envs.metaworld_env import DEFAULT_CAMERAS, MetaWorldTask  # noqa: E402
from grm.dataset.collect import EnvSettings, collect  # noqa: E402
from envs.scripted_expert import ScriptedExpert  # noqa: E402


def steps_per_s(env: MetaWorldTask, task: str, steps: int) -> float:
    expert = ScriptedExpert(task)
    obs, _ = env.reset(seed=0)
    t0 = time.perf_counter()
    for i in range(steps):
        obs, _, _, truncated, _ = env.step(expert.act(obs["state"])[0])
        if truncated:
            obs, _ = env.reset(seed=i)
    return steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="drawer-open-v3")
    ap.add_argument("--image-size", type=int, default=96)
    ap.add_argument("--episodes", type=int, default=12)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--out", default="benchmarks/results/collect_throughput.json")
    args = ap.parse_args()
    cams = DEFAULT_CAMERAS

    raw = steps_per_s(MetaWorldTask(args.task, (), args.image_size), args.task, 2000)
    one = steps_per_s(MetaWorldTask(args.task, cams, args.image_size), args.task, 300)
    env = EnvSettings(tuple(cams), args.image_size, 300)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = collect([args.task], {"expert": args.episodes}, 0, tmp, env, workers=args.workers, progress=False)
        wall = time.perf_counter() - t0
    collect_fps = summary["frames"] / wall

    result = {
        "task": args.task, "cameras": list(cams), "image_size": args.image_size, "workers": args.workers,
        "episodes": args.episodes, "frames": summary["frames"],
        "raw_steps_per_s": round(raw, 1), "render_1proc_fps": round(one, 1), "collect_fps": round(collect_fps, 1),
        "collect_vs_raw": round(collect_fps / raw, 4), "collect_vs_1proc": round(collect_fps / one, 2),
        "cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
    }
    print(f"{'measurement':<22}{'per second':>12}")
    print(f"{'raw steps (no render)':<22}{raw:>12.1f}")
    print(f"{'3-view render, 1 proc':<22}{one:>12.1f}")
    print(f"{f'collect, {args.workers} workers':<22}{collect_fps:>12.1f}")
    print(f"collect / 1-proc render = {collect_fps / one:.2f}x, collect / raw = {collect_fps / raw:.3f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
