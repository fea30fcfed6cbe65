"""Cost of GRM scoring per environment step, batched over 1, 8 and 32 environments, beside what
the same step costs to render and to act.

    python benchmarks/grm_latency.py [--checkpoints grm/pretrained/grm_multi_embodiment.pt runs/grm-retract-effnet/grm.pt]

One scoring step = encode every environment's V views once + the three perspectives
(incremental, forward, backward) in one batched head call + fusion. Measured in the same run
beside rendering the same views of a Meta-World task (the model's cameras and image size, the
decimated meshes grm-rl renders with: `mesh_keep=0.2`; rendering does not batch, so its cost per
environment step is one environment's) and a bare policy step (SB3 SAC MlpPolicy `predict` on the
same batch of states). Each checkpoint gets its rows (`grm_over_render` < 1: scoring costs less
than rendering the frame it scores). Writes benchmarks/results/grm_latency.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from grm.inference import ProgressTracker, RewardModel


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def render_ms(cameras: list[str], image_size: int, repeats: int) -> float:
    """One environment's render of `cameras` as grm-rl renders them, in ms."""
    from envs.task_env import make_task

    env = make_task("drawer-close-v3", cameras, image_size, mesh_keep=0.2)
    env.reset(seed=0)
    ms = timed(env.render, repeats) * 1e3
    env.close()
    return ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoints", nargs="+", default=["grm/pretrained/grm_multi_embodiment.pt"])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (RL runs one per process)")
    ap.add_argument("--out", default="benchmarks/results/grm_latency.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    missing = [c for c in args.checkpoints if not Path(c).is_file()]
    if missing:
        raise SystemExit(f"grm_latency: --checkpoints: no such file {missing[0]} (a GRM checkpoint: grm.pt)")

    from stable_baselines3 import SAC

    from envs.rl_task import RLTask

    sac = SAC("MlpPolicy", RLTask("reach-v3"), device="cpu")  # the policy grm-rl trains, on the state vector
    rng = np.random.default_rng(0)
    models, rows = [], []
    for checkpoint in args.checkpoints:
        rm = RewardModel.load(checkpoint)
        V, S = len(rm.inputs), rm.image_size
        rm.set_reference(rng.integers(0, 255, (V, S, S, 3), dtype=np.uint8), rng.integers(0, 255, (V, S, S, 3), dtype=np.uint8))
        render = render_ms(rm.inputs, S, args.repeats)
        models.append({"checkpoint": checkpoint, "trunk": rm.model.cfg.trunk, "cameras": rm.inputs, "image_size": S,
                       "render_ms_per_env_step": render})
        for B in args.batches:
            views = rng.integers(0, 255, (B, V, S, S, 3), dtype=np.uint8)
            tracker = ProgressTracker(rm, B)
            tracker.reset(views)
            grm_ms = timed(lambda: tracker.step(views), args.repeats) * 1e3
            states = rng.normal(size=(B, 39)).astype(np.float32)
            policy_ms = timed(lambda: sac.predict(states, deterministic=True), args.repeats) * 1e3
            rows.append({"checkpoint": checkpoint, "envs": B, "grm_ms_per_batch": grm_ms, "grm_ms_per_env_step": grm_ms / B,
                         "render_ms_per_env_step": render, "grm_over_render": grm_ms / B / render,
                         "policy_ms_per_batch": policy_ms, "policy_ms_per_env_step": policy_ms / B,
                         "grm_over_policy": grm_ms / policy_ms})
    print(f"{'checkpoint':<36}{'envs':>5}{'GRM ms/env-step':>17}{'render ms':>11}{'GRM/render':>12}{'GRM/policy':>12}")
    for r in rows:
        print(f"{r['checkpoint'][-36:]:<36}{r['envs']:>5}{r['grm_ms_per_env_step']:>17.3f}{r['render_ms_per_env_step']:>11.2f}"
              f"{r['grm_over_render']:>12.2f}{r['grm_over_policy']:>12.1f}")
    result = {"models": models, "threads": args.threads, "rows": rows, "cpu_count": os.cpu_count(),
              "machine": platform.machine(), "torch": torch.__version__}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
