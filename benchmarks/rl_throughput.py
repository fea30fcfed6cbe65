"""Environment steps per second of grm-rl's SAC loop: the fused learner against SB3's SAC, in one run.

    python benchmarks/rl_throughput.py [--steps 1000] [--out benchmarks/results/rl_throughput.json]

Every loop is the `grm_pbrs` training loop of `grm-rl` on drawer-close-v3 (render three views,
score them with the shipped GRM, shape, update) with configs/rl.yaml's `sac` block: the same
networks (2 LayerNorm critics, 256x256) and the same updates per environment step
(`sac.gradient_steps`). They differ only in the learner and where the env steps:

    sb3_sac        SB3's SAC, env in this process (the loop before the fused learner)
    sac, dummy     the fused learner (policies/fused_sac.py), env in this process
    sac, GRM in learner
                   the fused learner with the env in a worker process, the GRM scoring its frames
                   in the learner's process (grm-rl's loop until the GRM moved into the worker)
    sac            grm-rl's default: the env in a worker process, where the GRM also scores
                   (policies/grm_progress.py): physics, rendering and scoring run on the other
                   core while the updates run
    sac, bf16      the same with bfloat16 hidden layers (sac.bf16=true)

`speedup_vs_sb3` is sac over sb3_sac. One step's time is also broken into its parts, each timed
alone: physics + rendering, GRM scoring, and one step's updates of each learner. The loops run one
after the other in this process (compare the ratio, not the absolute rates: the machine is shared).

`ceilings` says how fast the loop could be on this machine at all. With the env in a worker, a
step takes at least as long as the longer of its two sides: physics + rendering + GRM scoring on
one core, the updates on the other. `env_bound_vs_sb3` is sb3_sac's step time over the env side
alone (updates free); `at_matmul_peak_vs_sb3` also charges the updates their floating-point work
(counted with torch's FlopCounterMode) at the rate this core multiplies 256x256 matrices
(`matmul_gflops`, float32 and bfloat16).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from configs.files import write_text
from envs.rl_task import RLTask
from grm.inference import RewardModel
from policies.rl_run import build_model, compose_rl, ensure_demo, make_vec_env, shaped_vec_env
from policies.shaping import GRMPotential, ShapedRewardVecEnv

ROOT = Path(__file__).resolve().parents[1]
LOOPS = {"sb3_sac": ["algo=sb3_sac", "vec_env=dummy", "sac.bf16=false", "sac.compile=false", "demo.pretrain_updates=0",
                     "demo.bc_weight=0"],
         "sac, dummy": ["algo=sac", "vec_env=dummy"],
         "sac, GRM in learner": ["algo=sac", "vec_env=subproc"],
         "sac": ["algo=sac", "vec_env=subproc"],
         "sac, bf16": ["algo=sac", "vec_env=subproc", "sac.bf16=true"]}
GRM_IN_LEARNER = ("sac, GRM in learner",)  # the GRM scores in the learner's process, one batched call per step


def loop_rate(name: str, rm: RewardModel, steps: int, warmup: int, learning_starts: int, tmp: Path):
    """Env steps/s of one training loop after `warmup` steps (imports, compile, first updates);
    returns the rate and the trained model (for the update timing)."""
    cfg = compose_rl("task=drawer-close-v3", "reward=grm_pbrs", f"out={tmp / 'run'}", "demo.seed_buffer=false",
                     f"sac.learning_starts={learning_starts}", "sac.buffer_size=20000", *LOOPS[name])
    if name in GRM_IN_LEARNER:
        env = ShapedRewardVecEnv(make_vec_env(cfg, rm.inputs, rm.image_size), cfg.reward, cfg.gamma,
                                 GRMPotential(rm, cfg.n_envs, fusion=cfg.grm.fusion), cfg.grm.scale, cfg.reward_scale)
    else:  # as grm-rl builds it: the GRM scores inside the env (with vec_env=subproc, in the worker)
        env = shaped_vec_env(cfg, rm, rm.inputs, rm.image_size)
    model = build_model(cfg, env, None, tmp / "tb")
    model.learn(total_timesteps=warmup)
    t0 = time.perf_counter()
    model.learn(total_timesteps=steps, reset_num_timesteps=False)
    rate = steps / (time.perf_counter() - t0)
    env.close()
    return rate, model, cfg


def step_parts_ms(rm: RewardModel, mesh_keep: float, steps: int) -> dict[str, float]:
    """Physics + rendering and GRM scoring of one env step, each timed alone (random actions)."""
    env = RLTask("drawer-close-v3", rm.inputs, rm.image_size, 150, mesh_keep=mesh_keep)
    potential = GRMPotential(rm, 1)
    _, info = env.reset(seed=0)
    potential.reset(np.array([0]), [info])
    rng = np.random.default_rng(0)
    t_env = t_grm = 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        _, _, terminated, truncated, info = env.step(rng.uniform(-1, 1, 4).astype(np.float32))
        t1 = time.perf_counter()
        potential.step([info])
        t_env, t_grm = t_env + t1 - t0, t_grm + time.perf_counter() - t1
        if terminated or truncated:
            _, info = env.reset()
            potential.reset(np.array([0]), [info])
    env.close()
    return {"physics_and_render": 1e3 * t_env / steps, "grm": 1e3 * t_grm / steps}


def update_ms(model, gradient_steps: int, batch_size: int, repeats: int) -> float:
    """One env step's updates (`gradient_steps` of them), timed alone."""
    train = model.update if hasattr(model, "update") else model.train
    train(gradient_steps, batch_size)
    t0 = time.perf_counter()
    for _ in range(repeats):
        train(gradient_steps, batch_size)
    return 1e3 * (time.perf_counter() - t0) / repeats


def update_mflop(model, batch_size: int) -> float:
    """Floating-point work of one update (millions), counted on the eager update (a compiled one
    does the same arithmetic)."""
    fused = hasattr(model, "update")
    compiled = fused and model.compile
    if fused:
        model.compile = False
    try:
        with FlopCounterMode(display=False) as counter:
            (model.update if fused else model.train)(1, batch_size)
    finally:
        if fused:
            model.compile = compiled
    return counter.get_total_flops() / 1e6


def matmul_gflops(width: int, dtype: torch.dtype, repeats: int = 2000) -> float:
    """The rate one thread multiplies a pair of width x width matrices (the critics' hidden layer)."""
    a, b = torch.randn(2, width, width, dtype=dtype), torch.randn(2, width, width, dtype=dtype)
    for _ in range(50):
        torch.bmm(a, b)
    t0 = time.perf_counter()
    for _ in range(repeats):
        torch.bmm(a, b)
    return repeats * 2 * 2 * width ** 3 / (time.perf_counter() - t0) / 1e9


def ceilings(sb3_rate: float, parts: dict, mflop: float, gflops: dict, gradient_steps: int) -> dict:
    """The loop's best speedups over sb3_sac here: env side alone, then with the updates' work at
    the matmul rate (float32 and bfloat16)."""
    sb3_ms, env_ms = 1e3 / sb3_rate, parts["physics_and_render"] + parts["grm"]
    out = {"env_bound_vs_sb3": sb3_ms / env_ms}
    for name, rate in gflops.items():  # MFLOP / (GFLOP/s) = ms
        out[f"at_matmul_peak_vs_sb3_{name}"] = sb3_ms / max(env_ms, gradient_steps * mflop / rate)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1000, help="timed env steps per loop")
    ap.add_argument("--warmup", type=int, default=400, help="untimed env steps first (updates start at --learning-starts)")
    ap.add_argument("--learning-starts", type=int, default=200)
    ap.add_argument("--part-steps", type=int, default=200, help="env steps and update repeats for the breakdown")
    ap.add_argument("--checkpoint", default=str(ROOT / "grm/pretrained/grm_multi_embodiment.pt"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/rl_throughput.json"))
    args = ap.parse_args()
    if args.warmup <= args.learning_starts:
        ap.error(f"--warmup ({args.warmup}) must exceed --learning-starts ({args.learning_starts}): "
                 f"the timed steps must include updates")
    torch.set_num_threads(1)
    os.environ.setdefault("LP_NUM_THREADS", "1")  # as grm-rl's threads=1: one core for the learner, one for the env
    rm = RewardModel.load(args.checkpoint)
    rates, models, cfgs = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        rm.set_reference_from_episode(ensure_demo(compose_rl(f"out={tmp}/demo"), rm.inputs, rm.image_size))
        for name in LOOPS:
            rates[name], models[name], cfgs[name] = loop_rate(name, rm, args.steps, args.warmup, args.learning_starts,
                                                              Path(tmp) / name.replace(", ", "_"))
            print(f"{name}: {rates[name]:.1f} env steps/s", flush=True)
    cfg = cfgs["sac"]  # the loop `speedup_vs_sb3` is about
    sac = cfg.sac
    parts = step_parts_ms(rm, cfg.mesh_keep, args.part_steps)
    repeats = max(1, args.part_steps // 10)
    parts["updates_sb3_sac"] = update_ms(models["sb3_sac"], sac.gradient_steps, sac.batch_size, repeats)
    parts["updates_sac"] = update_ms(models["sac"], sac.gradient_steps, sac.batch_size, repeats)
    mflop = {name: update_mflop(models[name], sac.batch_size) for name in ("sb3_sac", "sac")}
    gflops = {"float32": matmul_gflops(sac.net_arch[-1], torch.float32),
              "bfloat16": matmul_gflops(sac.net_arch[-1], torch.bfloat16)}
    result = {
        "loops": [{"name": n, "env_steps_per_s": round(r, 1), "vs_sb3_sac": round(r / rates["sb3_sac"], 2)}
                  for n, r in rates.items()],
        "speedup_vs_sb3": round(rates["sac"] / rates["sb3_sac"], 2),
        "step_parts_ms": {k: round(v, 2) for k, v in parts.items()},
        "update_mflop": {k: round(v, 1) for k, v in mflop.items()},
        "update_gflops": {k: round(mflop[k] * sac.gradient_steps / parts[f"updates_{k}"], 1) for k in mflop},
        "matmul_gflops": {k: round(v, 1) for k, v in gflops.items()},
        "ceilings": {k: round(v, 2) for k, v in
                     ceilings(rates["sb3_sac"], parts, mflop["sac"], gflops, sac.gradient_steps).items()},
        "sac": {k: getattr(sac, k) for k in ("gradient_steps", "batch_size", "net_arch", "n_critics",
                                            "critic_layer_norm", "bf16", "compile", "n_steps")},
        "mesh_keep": cfg.mesh_keep, "steps": args.steps, "warmup": args.warmup,
        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
    }
    print(f"\n{'loop':<22}{'env steps/s':>12}{'vs sb3_sac':>12}")
    for row in result["loops"]:
        print(f"{row['name']:<22}{row['env_steps_per_s']:>12.1f}{row['vs_sb3_sac']:>12.2f}")
    print("\none step, its parts timed alone (ms): " +
          ", ".join(f"{k} {v:.1f}" for k, v in result["step_parts_ms"].items()))
    print("one update (MFLOP): " + ", ".join(f"{k} {v:.0f} at {result['update_gflops'][k]:.0f} GFLOP/s"
                                             for k, v in result["update_mflop"].items()) +
          "; 256x256 matmul here (GFLOP/s): " + ", ".join(f"{k} {v:.0f}" for k, v in result["matmul_gflops"].items()))
    print("best speedup over sb3_sac on this machine: " +
          ", ".join(f"{k} {v:.2f}" for k, v in result["ceilings"].items()))
    write_text(Path(args.out), json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
