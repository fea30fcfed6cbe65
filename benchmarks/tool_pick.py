"""Pick success with the tweezers, by object size bin, on training and held-out objects.

    python benchmarks/tool_pick.py [--episodes 30]

Splits: `train` (boxes and cylinders, 1.0-2.2 cm wide), `held_out_sizes` (the same shapes,
0.6-1.0 and 2.2-2.6 cm), `held_out_shapes` (capsules, ellipsoids and spheres, 1.0-2.2 cm).
Each episode draws one object (size, aspect, yaw, a +-2 cm offset) from the split's seeded
stream. Policies: `privileged` (PrivilegedPickHeuristic: reads the true object pose and size;
the reference the learned high level is seeded from) and `hierarchical` (the SAC high level from
tool-train-high over the low-level controller, fed the affordance encoder's estimate). Bins are
the object's extent across the tips. Writes benchmarks/results/tool_pick.json (one entry per
policy; entries of policies not rerun are kept).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from envs.tweezers.pick_env import ObjectDistribution, PrivilegedPickHeuristic, TweezerPickEnv

OUT = Path(__file__).parent / "results" / "tool_pick.json"
SPLITS = {
    "train": [ObjectDistribution(("box", "cylinder"), (0.010, 0.022))],
    "held_out_sizes": [ObjectDistribution(("box", "cylinder"), (0.006, 0.010)),
                       ObjectDistribution(("box", "cylinder"), (0.022, 0.026))],
    "held_out_shapes": [ObjectDistribution(("capsule", "ellipsoid", "sphere"), (0.010, 0.022))],
}
BINS = [0.0, 0.01, 0.015, 0.02, 0.025, 0.05]


def run_split(dists: list[ObjectDistribution], episodes: int, seed: int, model, affordance) -> list[dict]:
    """One split; `model` is the learned high level (None: the privileged heuristic)."""
    rows = []
    for k in range(episodes):
        env = TweezerPickEnv(dists[k % len(dists)], affordance=affordance)
        policy = (PrivilegedPickHeuristic(env) if model is None
                  else (lambda obs: model.predict(obs, deterministic=True)[0]))
        obs, _ = env.reset(seed=seed + k)
        for _ in range(env.max_steps):
            obs, _, terminated, truncated, info = env.step(policy(obs))
            if info["is_success"] or terminated or truncated:
                break
        rows.append({"shape": env.obj.shape, "extent": env.obj.extent_y(), "success": bool(info["is_success"]),
                     "dropped": bool(info["dropped"])})
    return rows


def by_bin(rows: list[dict]) -> dict:
    out = {}
    for lo, hi in zip(BINS, BINS[1:]):
        sel = [r["success"] for r in rows if lo <= r["extent"] < hi]
        if sel:
            out[f"{lo * 100:.1f}-{hi * 100:.1f} cm"] = {"n": len(sel), "success": float(np.mean(sel))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--policies", nargs="+", default=["privileged"], choices=["privileged", "hierarchical"])
    ap.add_argument("--high", default="runs/tool-high/model.zip", help="tool-train-high's model.zip")
    ap.add_argument("--affordance", default="runs/tool-affordance/affordance.pt")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    from policies.tool_high_level import load_affordance

    out = Path(args.out)
    result = json.loads(out.read_text()) if out.is_file() else {"benchmark": "tool_pick", "policies": {}}
    for name in args.policies:
        model, affordance = None, None
        if name == "hierarchical":
            from stable_baselines3 import SAC

            model, affordance = SAC.load(args.high, device="cpu"), load_affordance(args.affordance)
        table = {}
        for i, (split, dists) in enumerate(SPLITS.items()):
            rows = run_split(dists, args.episodes, args.seed + 1000 * i, model, affordance)
            table[split] = {"success": float(np.mean([r["success"] for r in rows])), "bins": by_bin(rows),
                            "dropped": int(sum(r["dropped"] for r in rows)), "episodes": rows}
            print(f"{name:<13} {split:<16} success {table[split]['success']:.2f}  " +
                  "  ".join(f"{b}: {v['success']:.2f} (n={v['n']})" for b, v in table[split]["bins"].items()),
                  flush=True)
        result["policies"][name] = table
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
