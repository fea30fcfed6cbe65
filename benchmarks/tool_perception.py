"""How well the pick task perceives its object: the anchor's near face and the affordance extent.

    python benchmarks/tool_perception.py [--objects 30]

Per split (the pick benchmark's), each object is placed as the pick task places it and seen once
by the two depth cameras; compared with the simulator's truth:
- near face (where the rear tip goes): the nearest visible point (`raw`) and the task's anchor,
  which takes the face half a top-camera pixel beyond it (`anchor`: envs/tweezers/point_cloud.py);
- extent across the tips: the affordance encoder's estimate.
Writes benchmarks/results/tool_perception.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from policies.tool_pick_eval import SPLITS

OUT = Path(__file__).parent / "results" / "tool_perception.json"


def errors(values: list[float]) -> dict:
    e = np.asarray(values) * 1000
    return {"mean_mm": float(e.mean()), "mae_mm": float(np.abs(e).mean()), "max_abs_mm": float(np.abs(e).max())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=30)
    ap.add_argument("--seed", type=int, default=5000)
    ap.add_argument("--affordance", default="runs/tool-affordance/affordance.pt")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    from policies.tool_high_level import load_affordance, make_pick_env

    try:
        affordance = load_affordance(args.affordance)
    except FileNotFoundError as e:
        raise SystemExit(f"--affordance: {e}")
    result = {"objects_per_split": args.objects, "splits": {}}
    print(f"{'split':<16}{'raw near face':>28}{'anchor near face':>28}{'extent estimate':>28}   (mean / MAE / max |err|, mm)")
    for split, dists in SPLITS.items():
        raw, anchor, extent = [], [], []
        for k in range(args.objects):
            env = make_pick_env(dists[k % len(dists)], False, affordance)
            env.reset(seed=args.seed + k)
            p = env.data.body("object").xpos
            true_near = p[1] - env.obj.extent_y() / 2
            pts = env.cameras.points(env.data)
            raw.append(pts[:, 1].min() - true_near)
            anchor.append(env.anchor[1] - true_near)
            if affordance is not None:
                extent.append(env.afford[2] - env.obj.extent_y())
            env.close()
        row = {"raw_near_face": errors(raw), "anchor_near_face": errors(anchor)}
        if extent:
            row["extent_estimate"] = errors(extent)
        result["splits"][split] = row

        def cell(e: dict | None) -> str:
            return f"{e['mean_mm']:+.1f} / {e['mae_mm']:.1f} / {e['max_abs_mm']:.1f}" if e else "-"
        print(f"{split:<16}{cell(row['raw_near_face']):>28}{cell(row['anchor_near_face']):>28}"
              f"{cell(row.get('extent_estimate')):>28}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
