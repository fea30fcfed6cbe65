"""Environment steps per second of the SAC loop: grm_pbrs (render + GRM per step) vs env_dense.

    python benchmarks/rl_throughput.py [--steps 1500] [--mesh-keep 1.0 0.2]

Both loops are the same `grm-rl` SAC setup (configs/rl.yaml's `sac` block: network, updates
per env step, LayerNorm critics; learning started from step 200) on drawer-close-v3; only the
reward differs. grm_pbrs uses
the shipped GRM without adaptation (adaptation is a one-off cost, not a per-step one).
They run one after the other in this process and are reported as a ratio. Rendering is most of
the grm_pbrs cost on a CPU: `--mesh-keep` adds loops whose renderer draws decimated visual
meshes (`mesh_keep` in configs/rl.yaml; what that does to the GRM: benchmarks/render_detail.py).
Writes benchmarks/results/rl_throughput.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch

from policies.rl_run import build_model, compose_rl, ensure_demo, make_vec_env
from policies.shaping import GRMPotential, ShapedRewardVecEnv


SAC_OVERRIDES = ["sac.learning_starts=200", "sac.buffer_size=20000"]  # configs/rl.yaml's SAC, started early, small buffer


def steps_per_s(mode: str, steps: int, checkpoint: str, n_envs: int, vec_env: str, mesh_keep: float = 1.0) -> float:
    from grm.inference import RewardModel

    with tempfile.TemporaryDirectory() as tmp:
        cfg = compose_rl("task=drawer-close-v3", f"out={tmp}", f"reward={mode}", f"n_envs={n_envs}",
                         f"vec_env={vec_env}", "demo.seed_buffer=false", f"mesh_keep={mesh_keep}", *SAC_OVERRIDES)
        potential, cameras, size = None, [], 64
        if mode == "grm_pbrs":
            rm = RewardModel.load(checkpoint)
            rm.set_reference_from_episode(ensure_demo(cfg, rm.cameras, rm.image_size))  # as grm-rl does
            cameras, size = rm.cameras, rm.image_size
            potential = GRMPotential(rm, n_envs)
        venv = make_vec_env(cfg, cameras, size)
        env = ShapedRewardVecEnv(venv, mode, cfg.sac.gamma, potential)
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
    ap.add_argument("--mesh-keep", type=float, nargs="+", default=[1.0, 0.2],
                    help="grm_pbrs loops to run: share of visual-mesh faces rendered (1.0 = full meshes)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (grm-rl's `threads`)")
    ap.add_argument("--out", default="benchmarks/results/rl_throughput.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dense = steps_per_s("env_dense", args.steps, args.checkpoint, args.n_envs, args.vec_env)
    grm = {k: steps_per_s("grm_pbrs", args.steps, args.checkpoint, args.n_envs, args.vec_env, k) for k in args.mesh_keep}
    result = {"env_dense_steps_per_s": round(dense, 1),
              "grm_pbrs": [{"mesh_keep": k, "steps_per_s": round(v, 1), "ratio": round(v / dense, 3)} for k, v in grm.items()],
              "sac": asdict(compose_rl(*SAC_OVERRIDES).sac), "threads": args.threads, "steps": args.steps, "n_envs": args.n_envs, "vec_env": args.vec_env,
              "cpu_count": os.cpu_count(), "machine": platform.machine()}
    print(f"{'loop':<26}{'env steps/s':>12}{'vs env_dense':>14}")
    print(f"{'env_dense':<26}{dense:>12.1f}{1.0:>14.2f}")
    for k, v in grm.items():
        print(f"{f'grm_pbrs (mesh_keep {k})':<26}{v:>12.1f}{v / dense:>14.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
