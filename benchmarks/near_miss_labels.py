"""Failures labelled as done: unfinished episodes whose stored progress label ends near 1.

    python benchmarks/near_miss_labels.py                    # data/heldout, against the shipped model's finals

Nearest-state matching labels a run that stops beside the goal as finished (docs/grm_experiments.md,
"Capped failure labels"). This lists every episode the simulator never calls a success whose label
ends at or above --threshold, beside the final progress the GRM gave it (from a grm_heldout
JSON), so the label defect and the misjudged episodes can be compared. Writes JSON.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from grm.dataset.episode_io import list_episodes, open_episode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="data/heldout")
    ap.add_argument("--results", default="benchmarks/results/grm_heldout.json")
    ap.add_argument("--key", default="grm_multi_embodiment/one_shot/fused")
    ap.add_argument("--threshold", type=float, default=0.95)
    ap.add_argument("--out", default="benchmarks/results/near_miss_labels.json")
    args = ap.parse_args()
    per_task = json.loads(Path(args.results).read_text())[args.key]["per_task"]
    finals = {(t, e["episode"]): e["final"] for t, r in per_task.items() for e in r["episode_finals"]}
    unfinished, rows = 0, []
    for path in list_episodes(args.dataset):
        with open_episode(path) as ep:
            if ep.success:
                continue
            unfinished += 1
            label = float(ep.progress[-1])
        if label >= args.threshold:
            rows.append({"task": path.parent.name, "episode": path.name, "label_final": round(label, 3),
                         "grm_final": finals.get((path.parent.name, path.name))})
    print(f"{len(rows)} of {unfinished} unfinished episodes end with a label >= {args.threshold}")
    print(f"{'task':<22}{'episode':<20}{'label':>7}{'GRM':>7}")
    for r in rows:
        grm = "-" if r["grm_final"] is None else f"{r['grm_final']:.3f}"  # a task the table did not score
        print(f"{r['task']:<22}{r['episode']:<20}{r['label_final']:>7.3f}{grm:>7}")
    Path(args.out).write_text(json.dumps({"dataset": args.dataset, "results": args.results, "key": args.key,
                                          "threshold": args.threshold, "unfinished": unfinished, "rows": rows},
                                         indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
