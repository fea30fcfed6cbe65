"""Pick success with the tweezers, by object size bin, on training and held-out objects.

    python benchmarks/tool_pick.py --policies privileged hierarchical flat [--episodes 30]

Splits: `train` (boxes and cylinders, 1.0-2.2 cm wide), `held_out_sizes` (the same shapes,
0.6-1.0 and 2.2-2.6 cm), `held_out_shapes` (capsules, ellipsoids and spheres, 1.0-2.2 cm).
Each episode draws one object (size, aspect, yaw, a +-2 cm offset) from the split's seeded
stream. Policies: `privileged` (PickHeuristic reading the true object pose and size),
`heuristic` (the same heuristic on what the robot perceives: the demonstrator the learned levels
are seeded and labelled by), `hierarchical` (tool-train-high's high level over the low level,
fed the affordance encoder's estimate: SAC's or the clone, whichever did better on validation),
`flat` (tool-train-high flat=true: one policy on arm + finger targets, same observation, demos
and budget), `hierarchical_bc` / `flat_bc` (their behaviour clones before any SAC update) and
`hierarchical_sac` / `flat_sac` (after online SAC). `--noise STD`: the learned policies act
with exploration noise, as in training. Bins are the
object's extent across the tips. Writes benchmarks/results/tool_pick.json (one entry per policy;
entries of policies not rerun are kept) and tool_pick.png (success by size bin).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from configs.files import write_text
from policies.tool_pick_eval import POLICIES, SPLITS, load_pick_policy, run_pick_episode, split_success

OUT = Path(__file__).parent / "results" / "tool_pick.json"
BINS = [0.0, 0.01, 0.015, 0.02, 0.025, 0.05]


def run_split(dists, episodes: int, seed: int, make_policy, affordance, flat: bool, low_level) -> list[dict]:
    """One split: episode k draws from dists[k % len(dists)] with reset seed seed + k."""
    from policies.tool_high_level import make_pick_env

    rows = []
    for k in range(episodes):
        env = make_pick_env(dists[k % len(dists)], flat, affordance, low_level)
        rows.append(run_pick_episode(env, make_policy, seed + k))
        env.close()  # its depth cameras' renderers
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
    ap.add_argument("--policies", nargs="+", default=["privileged"], choices=list(POLICIES))
    ap.add_argument("--high", default="runs/tool-high", help="tool-train-high's run folder")
    ap.add_argument("--flat", default="runs/tool-flat", help="tool-train-high flat=true's run folder")
    ap.add_argument("--low", default=None, help="tool-train-low's model.zip (default: the P controller)")
    ap.add_argument("--affordance", default="runs/tool-affordance/affordance.pt")
    ap.add_argument("--noise", type=float, default=None, metavar="STD",
                    help="learned policies act with Gaussian noise of this std (before tanh), as in training")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    from policies.tool_high_level import load_affordance

    out = Path(args.out)
    result = json.loads(out.read_text()) if out.is_file() else {"benchmark": "tool_pick", "policies": {}}
    from policies.tool_low_level import load_low_level

    try:
        affordance, low_level = load_affordance(args.affordance), load_low_level(args.low)
    except FileNotFoundError as e:
        raise SystemExit(f"--affordance/--low: {e}")
    for name in args.policies:
        try:
            flat, make_policy = load_pick_policy(name, args.high, args.flat, args.noise)
        except (FileNotFoundError, ValueError) as e:
            raise SystemExit(str(e))
        table = {}
        for i, (split, dists) in enumerate(SPLITS.items()):
            rows = run_split(dists, args.episodes, args.seed + 1000 * i, make_policy, affordance, flat, low_level)
            table[split] = {"success": split_success(rows), "bins": by_bin(rows),
                            "dropped": int(sum(r["dropped"] for r in rows)), "episodes": rows}
            print(f"{name:<13} {split:<16} success {table[split]['success']:.2f}  " +
                  "  ".join(f"{b}: {v['success']:.2f} (n={v['n']})" for b, v in table[split]["bins"].items()),
                  flush=True)
        table["source"] = {"run": args.flat if flat else args.high, "low": args.low or "P controller",
                           **({"noise_std": args.noise} if args.noise is not None else {})}
        result["policies"][name] = table
    write_text(out, json.dumps(result, indent=2))  # atomic: an interrupted run leaves the old file whole
    plot(result, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


def plot(result: dict, path: Path) -> None:
    """Success by object-size bin: one panel per split, one line per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SPLITS), figsize=(4.2 * len(SPLITS), 3.2), dpi=100, sharey=True)
    for ax, split in zip(axes, SPLITS):
        for name, table in sorted(result["policies"].items()):
            if split in table:
                bins = table[split]["bins"]
                ax.plot(list(bins), [v["success"] for v in bins.values()], marker="o",
                        label=f"{name} ({table[split]['success']:.2f})")
        ax.set(title=split, xlabel="object extent across the tips", ylim=(-0.02, 1.02))
        ax.legend(fontsize=7)
    axes[0].set_ylabel("pick success")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
