"""Scores per second of each reward model backend on this machine, side by side in one run.

    python benchmarks/grm_backends.py [--robodopamine DIR] [--steps 4]

One score = one tracker step of one environment: its views encoded and the three perspectives'
hops (incremental, forward, backward) answered and fused, exactly as shaping and grm-eval use it.
- `grm`: the shipped checkpoint, 3 views at 64 px, one environment.
- `robodopamine`: the official GRM from --robodopamine DIR (e.g. a download of
  Robo-Dopamine-GRM-3B) on the GPU if there is one; without DIR, a tiny random Qwen2.5-VL
  (grm/robodopamine_tiny.py), which measures what the pipeline itself costs (prompt, image
  processing, tokenisation, generation loop), not the 3B model.
Writes benchmarks/results/grm_backends.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from grm.inference import ProgressTracker, RewardModel

CAMERAS = ["corner", "topview", "gripperPOV"]


def scores_per_s(rm, steps: int, size: int = 64) -> float:
    """Tracker steps per second on random frames (one environment), after one warm-up step."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (steps + 3, len(rm.inputs), size, size, 3), dtype=np.uint8)
    rm.set_reference(frames[0], frames[1], "stack the red cube on the green cube")
    tracker = ProgressTracker(rm, 1)
    tracker.reset(frames[2:3])
    tracker.step(frames[3:4])
    t0 = time.perf_counter()
    for t in range(steps):
        tracker.step(frames[3 + t:4 + t])
    return steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default="grm/pretrained/grm_multi_embodiment.pt")
    ap.add_argument("--robodopamine", help="directory of the official GRM's weights; default: the tiny random model")
    ap.add_argument("--steps", type=int, default=4, help="tracker steps timed per backend")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (RL runs one per process)")
    ap.add_argument("--out", default="benchmarks/results/grm_backends.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from grm.robodopamine import RoboDopamineGRM
    from grm.robodopamine_tiny import write_tiny_model

    rows = [{"backend": "grm", "model": args.checkpoint,
             "scores_per_s": scores_per_s(RewardModel.load(args.checkpoint), max(args.steps, 20))}]
    with tempfile.TemporaryDirectory() as tmp:
        path = args.robodopamine or write_tiny_model(Path(tmp) / "tiny")
        rm = RoboDopamineGRM.load(path, available=CAMERAS, views={"front": "corner", "left_wrist": "gripperPOV",
                                                                   "right_wrist": None})
        rows.append({"backend": "robodopamine", "device": str(rm.device),
                     "model": str(args.robodopamine) if args.robodopamine else "tiny random Qwen2.5-VL (pipeline cost only)",
                     "scores_per_s": scores_per_s(rm, args.steps)})
    for r in rows:
        r["ms_per_score"] = 1000.0 / r["scores_per_s"]
        print(f"{r['backend']:<14}{r['scores_per_s']:>10.2f} scores/s {r['ms_per_score']:>10.1f} ms   {r['model']}")
    result = {"rows": rows, "threads": args.threads, "machine": platform.processor() or platform.machine(),
              "grm_vs_robodopamine": rows[0]["scores_per_s"] / rows[1]["scores_per_s"]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
