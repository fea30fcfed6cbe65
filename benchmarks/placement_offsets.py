"""Does the adapted GRM's verdict follow the object's placement rather than the task's state?

    python benchmarks/placement_offsets.py --task door-lock-v3      # against the shipped model's finals

One-shot adaptation sees one demo at one placement. For every scored episode of --task this lists
the final progress the GRM gave it (from a grm_heldout JSON) beside where the episode ended
relative to the demo's last frame: the object's offset (Meta-World state 4:7, e.g. door-lock's
lock) and the hand's (0:3). Sorted by the object's x offset, so a verdict that flips with placement
shows as a split in the table. Writes JSON.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from grm.dataset.episode_io import open_episode
from grm.progress_labels import HAND, OBJ1 as OBJ  # Meta-World's state layout


def final_state(path: Path) -> np.ndarray:
    with open_episode(path) as ep:
        return np.asarray(ep.array("obs/state")[-1], dtype=float)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="door-lock-v3")
    ap.add_argument("--dataset", default="data/heldout")
    ap.add_argument("--results", default="benchmarks/results/grm_heldout.json")
    ap.add_argument("--key", default="grm_multi_embodiment/one_shot/fused")
    ap.add_argument("--out", default=None, help="default benchmarks/results/placement_offsets_<task>.json")
    args = ap.parse_args()
    task_dir = Path(args.dataset) / args.task
    demo = final_state(task_dir / "expert_0000.hdf5")
    finals = json.loads(Path(args.results).read_text())[args.key]["per_task"][args.task]["episode_finals"]
    rows = []
    for e in finals:
        s = final_state(task_dir / e["episode"])
        rows.append({"episode": e["episode"], "kind": e["kind"], "success": e["success"], "grm_final": e["final"],
                     "object_offset": np.round(s[OBJ] - demo[OBJ], 3).tolist(),
                     "hand_offset": np.round(s[HAND] - demo[HAND], 3).tolist()})
    rows.sort(key=lambda r: r["object_offset"][0])
    print(f"{'episode':<22}{'success':>8}{'GRM':>7}   object offset (m)        hand offset (m)")
    for r in rows:
        print(f"{r['episode']:<22}{r['success']!s:>8}{r['grm_final']:>7.2f}   {str(r['object_offset']):<25}{r['hand_offset']}")
    out = Path(args.out or f"benchmarks/results/placement_offsets_{args.task}.json")
    out.write_text(json.dumps({"task": args.task, "results": args.results, "key": args.key, "episodes": rows}, indent=2)
                   + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
