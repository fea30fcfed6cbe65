"""Environment steps per second of the SAC loop: grm_pbrs (render + GRM per step) vs env_dense.

    python benchmarks/rl_throughput.py [--steps 1500]

Both loops are the same `grm-rl` SAC setup (same network, one gradient step per env step,
learning started from step 200) on drawer-close-v3; only the reward differs. grm_pbrs uses
the shipped GRM without adaptation (adaptation is a one-off cost, not a per-step one).
They run one after the other in this process and are reported as a ratio.
Writes benchmarks/results/rl_throughput.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from policies.rl_run import RLConfig, build_model, ensure_demo, make_vec_env
from grm.shaping import GRMPotential, ShapedRewardVecEnv


def steps_per_s(mode: str, steps: int, checkpoint: str, n_envs: int, vec_env: str) -> float:
    from grm.inference import RewardModel

    with tempfile.TemporaryDirectory() as tmp:
        cfg = RLConfig(task="drawer-close-v3", out=tmp, reward=mode, n_envs=n_envs, vec_env=vec_env, seed_buffer=False,
                       sac={"learning_starts": 200, "buffer_size": 20000, "gamma": 0.99, "train_freq": 1,
                            "gradient_steps": 1})
        potential, cameras, size = None, [], 64
        if mode == "grm_pbrs":
            rm = RewardModel.load(checkpoint)
            rm.set_reference_from_episode(ensure_demo(cfg, rm.cameras, rm.image_size))  # as grm-rl does
            cameras, size = rm.cameras, rm.image_size
            potential = GRMPotential(rm, n_envs)
        venv = make_vec_env(cfg, cameras, size)
        env = ShapedRewardVecEnv(venv, mode, 0.99, potential)
        model = build_model(cfg, env, None, Path(tmp) / "tb")
        model.learn(total_timesteps=300)  # warm-up: imports, first gradient steps
        t0 = time.perf_counter()
        model.learn(total_timesteps=steps, reset_num_timesteps=False)
        rate = steps / (time.perf_counter() - t0)
        env.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--checkpoint", default="grm/pretrained/grm_mt40.pt")
    ap.add_argument("--n-envs", type=int, default=1)
    ap.add_argument("--vec-env", default="dummy")
    ap.add_argument("--out", default="benchmarks/results/rl_throughput.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    dense = steps_per_s("env_dense", args.steps, args.checkpoint, args.n_envs, args.vec_env)
    grm = steps_per_s("grm_pbrs", args.steps, args.checkpoint, args.n_envs, args.vec_env)
    result = {"env_dense_steps_per_s": round(dense, 1), "grm_pbrs_steps_per_s": round(grm, 1),
              "ratio": round(grm / dense, 3), "steps": args.steps, "n_envs": args.n_envs, "vec_env": args.vec_env,
              "cpu_count": os.cpu_count(), "machine": platform.machine()}
    print(f"{'loop':<12}{'env steps/s':>12}")
    print(f"{'env_dense':<12}{dense:>12.1f}")
    print(f"{'grm_pbrs':<12}{grm:>12.1f}")
    print(f"grm_pbrs / env_dense = {grm / dense:.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
