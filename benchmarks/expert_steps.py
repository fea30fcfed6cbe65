"""How many steps each task's scripted expert needs to first succeed, and the horizon that leaves
a learner time to hold a success: the source of `horizons` in configs/rl.yaml.

    python benchmarks/expert_steps.py [--tasks ...] [--episodes 20]

The placements are grm-rl's evaluation stream (seed 10000, as its first evaluation draws them).
Suggested horizon: `--factor` times the slowest success, rounded up to 10 steps, never below
`--floor` (the default horizon). Writes benchmarks/results/expert_steps.json.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from configs.files import write_text
from envs.scripted_expert import ScriptedExpert
from policies.rl_run import run_episodes

ROOT = Path(__file__).resolve().parents[1]
GRID_TASKS = ["drawer-close-v3", "window-close-v3", "door-lock-v3", "box-close-v3", "peg-insert-side-v3",
              "pick-place-wall-v3"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=GRID_TASKS)
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--limit", type=int, default=500, help="steps before an episode counts as never succeeding")
    ap.add_argument("--factor", type=float, default=1.5)
    ap.add_argument("--floor", type=int, default=150)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/expert_steps.json"))
    args = ap.parse_args(argv)
    rows = {}
    print(f"{'task':<24}{'min':>6}{'median':>8}{'max':>6}{'never':>7}{'horizon':>9}")
    for task in args.tasks:
        expert = ScriptedExpert(task)
        episodes = run_episodes(lambda obs: expert.act(obs)[0], task, args.limit, args.episodes, seed=10_000)
        steps = [e["steps"] for e in episodes if e["success"]]
        slowest = max(steps) if steps else args.limit
        horizon = max(args.floor, int(math.ceil(args.factor * slowest / 10.0)) * 10)
        rows[task] = {"steps_to_success": steps, "never": args.episodes - len(steps), "min": min(steps, default=None),
                      "median": float(np.median(steps)) if steps else None, "max": max(steps, default=None),
                      "horizon": horizon}
        r = rows[task]
        print(f"{task:<24}{r['min'] or '-':>6}{r['median'] or '-':>8}{r['max'] or '-':>6}{r['never']:>7}{horizon:>9}")
    write_text(args.out, json.dumps({"episodes": args.episodes, "factor": args.factor, "floor": args.floor,
                                     "limit": args.limit, "tasks": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
