"""Cost of GRM scoring per environment step, batched over 1, 8 and 32 environments.

    python benchmarks/grm_latency.py [--checkpoint grm/pretrained/grm_mt40.pt]

One scoring step = encode every environment's V views once + the three perspectives
(incremental, forward, backward) in one batched head call + fusion. Measured beside a bare
policy step (SB3 SAC MlpPolicy `predict` on the same batch of states) in the same run.
Writes benchmarks/results/grm_latency.json.
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
from grm.model import GRM, GRMConfig


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default="grm/pretrained/grm_mt40.pt")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (RL runs one per process)")
    ap.add_argument("--out", default="benchmarks/results/grm_latency.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if Path(args.checkpoint).is_file():
        rm = RewardModel.load(args.checkpoint)
    else:
        print(f"{args.checkpoint} not found: timing an untrained model of the default architecture")
        rm = RewardModel(GRM(GRMConfig()), ["corner", "topview", "gripperPOV"])
    V, S = len(rm.inputs), rm.image_size
    rng = np.random.default_rng(0)
    rm.set_reference(rng.integers(0, 255, (V, S, S, 3), dtype=np.uint8), rng.integers(0, 255, (V, S, S, 3), dtype=np.uint8))

    from stable_baselines3 import SAC

    from envs.rl_task import RLTask

    sac = SAC("MlpPolicy", RLTask("reach-v3"), device="cpu")  # the policy grm-rl trains, on the state vector
    rows = []
    for B in args.batches:
        views = rng.integers(0, 255, (B, V, S, S, 3), dtype=np.uint8)
        tracker = ProgressTracker(rm, B)
        tracker.reset(views)
        grm_s = timed(lambda: tracker.step(views), args.repeats)
        states = rng.normal(size=(B, 39)).astype(np.float32)
        policy_s = timed(lambda: sac.predict(states, deterministic=True), args.repeats)
        rows.append({"envs": B, "grm_ms_per_batch": grm_s * 1e3, "grm_ms_per_env_step": grm_s * 1e3 / B,
                     "policy_ms_per_batch": policy_s * 1e3, "policy_ms_per_env_step": policy_s * 1e3 / B,
                     "grm_over_policy": grm_s / policy_s})
    print(f"{'envs':>5}{'GRM ms/batch':>14}{'GRM ms/env-step':>17}{'policy ms/batch':>17}{'GRM/policy':>12}")
    for r in rows:
        print(f"{r['envs']:>5}{r['grm_ms_per_batch']:>14.2f}{r['grm_ms_per_env_step']:>17.3f}"
              f"{r['policy_ms_per_batch']:>17.3f}{r['grm_over_policy']:>12.1f}")
    result = {"checkpoint": args.checkpoint, "cameras": rm.inputs, "image_size": S, "threads": args.threads,
              "rows": rows, "cpu_count": os.cpu_count(), "machine": platform.machine(), "torch": torch.__version__}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
