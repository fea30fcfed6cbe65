"""Held-out GRM evaluation: zero-shot vs one-shot adapted, and the ablation table.

    python benchmarks/grm_heldout.py                                  # zero-shot + one-shot, every held-out task
    python benchmarks/grm_heldout.py --variants grm/pretrained/grm_multi_embodiment.pt runs/ablate-single/grm.pt ...

Two groups of held-out tasks, each mean reported on its own: Meta-World tasks no pretraining saw
(`held_out`, data/heldout) and a whole embodiment no pretraining saw (`robosuite_held_out`: the
IIWA arm's robosuite tasks, data/heldout-embodiment). Both datasets come from
scripts/make_pretrained_grm.sh. For each task, `expert_0000` of its dataset is the ONE demo: it adapts the GRM
(grm-adapt's defaults) and is the START/END reference; every other episode of the task (10
experts, 10 failed or perturbed) is scored. Adapted checkpoints are cached in
runs/heldout-adapt/<variant>/a<adapt steps>-<hash of settings, checkpoint and demo>/<task>/grm.pt, so
reruns only evaluate.
Each variant is also evaluated per perspective (incremental, forward, backward, fused: their median,
the default; "mean": fused by the paper's average; "guarded": the mean with the consistency guard).
Tables written before the median became the default hold no "fusion" field: their "fused" rows are the mean.
Writes benchmarks/results/grm_heldout.json.

On two cores, run two processes over disjoint --tasks (each with its own --out; the adaptation
cache is shared), then join them: `python benchmarks/grm_heldout.py --merge A.json B.json --out X.json`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from configs.typed import compose, learned_settings
from envs.tasks import GROUPS, HELD_OUT_GROUPS, resolve_tasks
from grm.evaluate import METRICS, evaluate, summarize
from grm.inference import RewardModel
from grm.one_shot import AdaptConfig, one_shot_config
from grm.train import RunBookkeeping, train

OUT = Path("benchmarks/results/grm_heldout")  # plots (committed)
ADAPTED = Path("runs/heldout-adapt")  # adapted checkpoints (a cache, not committed)


def adapt(checkpoint: str, demo: Path, cache: Path, steps: int, overrides: tuple[str, ...] = ()) -> Path:
    """grm-adapt's settings (configs/adaptation/one_shot.yaml) with `steps` and `overrides` (grm-adapt's
    command-line form, e.g. synthetic_failures=2); cached under a key of those
    settings and of the checkpoint's and demo's bytes, so a change to any of them (a retrained
    model shipped under the same name, a recollected demo) adapts afresh instead of reusing
    stale checkpoints."""
    settings = compose("adapt", AdaptConfig, [f"checkpoint={checkpoint}", f"demo={demo}", f"steps={steps}", *overrides])
    bookkeeping = RunBookkeeping(log_every=50, ckpt_every=steps, resume=True, threads=settings.threads, progress=False)
    cfg = one_shot_config(demo, "", checkpoint, settings, settings.seed, None, bookkeeping)
    content = [hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in (checkpoint, demo)]
    learned = {k: v for k, v in learned_settings(cfg).items() if k not in ("datasets", "init")}  # bytes: content
    key = hashlib.sha1(json.dumps([learned, content], sort_keys=True).encode()).hexdigest()[:8]
    out = cache / f"a{steps}-{key}" / demo.parent.name
    if (out / "grm.pt").is_file():
        return out / "grm.pt"
    cfg.out = str(out)
    return train(cfg)


DATASETS = ["data/heldout", "data/heldout-embodiment"]
# a row name -> how progress is read (perspective, fusion, guard; the fusion matters for "fused" alone)
ROWS = {"fused": ("fused", "median", False), "mean": ("fused", "mean", False), "guarded": ("fused", "mean", True),
        **{p: (p, "median", False) for p in ("incremental", "forward", "backward")}}


def variant_name(checkpoint: str) -> str:
    """A checkpoint's name in tables, plots and the adaptation cache: its run folder for a run's
    `grm.pt`, else its file stem (grm/pretrained/grm_multi_embodiment.pt -> grm_multi_embodiment)."""
    path = Path(checkpoint)
    return path.parent.name if path.name == "grm.pt" else path.stem


def task_root(task: str, datasets: list[Path]) -> Path:
    """The dataset folder that holds `task`'s episodes."""
    for root in datasets:
        if (root / task).is_dir():
            return root
    raise SystemExit(f"no episodes of {task} in --dataset {' '.join(map(str, datasets))}: collect them "
                     f"(scripts/make_pretrained_grm.sh does) or leave the task out of --tasks")


def table_row(per_task: dict, fusion: str | None = None) -> dict:
    """The mean over all tasks, and per group (GROUPS) of which the row holds tasks; `fusion`: how
    the row's progress was fused (None: a table written before the setting, the mean)."""
    groups = {g: {t: per_task[t] for t in GROUPS[g] if t in per_task} for g in HELD_OUT_GROUPS}
    row = {"mean": summarize(per_task), "groups": {g: summarize(r) for g, r in groups.items() if r},
           "per_task": per_task}
    return row if fusion is None else {**row, "fusion": fusion}


def merge(parts: list[str]) -> dict:
    """Join tables of the same rows written over disjoint task sets; the means are recomputed over all tasks."""
    rows: dict = {}
    fusions: dict = {}
    for part in parts:
        for key, row in json.loads(Path(part).read_text()).items():
            tasks = rows.setdefault(key, {})
            if tasks.keys() & row["per_task"].keys():
                raise ValueError(f"{part}: {key} repeats tasks {sorted(tasks.keys() & row['per_task'].keys())}")
            tasks.update(row["per_task"])
            fusions[key] = row.get("fusion")
    return {key: table_row(per_task, fusions[key]) for key, per_task in rows.items()}


def write(table: dict, out: str) -> None:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(table, indent=2) + "\n")
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", nargs="+", default=DATASETS, help="folders holding the tasks' episodes")
    ap.add_argument("--demos", help="take each task's one demo (expert_0000) from this folder instead, e.g. the same "
                                    "placement collected with rollout.post_success=retract; references stay the dataset's")
    ap.add_argument("--variants", nargs="+", default=["grm/pretrained/grm_multi_embodiment.pt"])
    ap.add_argument("--tasks", nargs="+", default=list(HELD_OUT_GROUPS), help="task names or groups (envs/tasks.py GROUPS)")
    ap.add_argument("--adapt-steps", type=int, default=150)
    ap.add_argument("--adapt-overrides", nargs="+", default=[], metavar="KEY=VALUE",
                    help="grm-adapt settings for the one-shot stage, e.g. synthetic_failures=2")
    ap.add_argument("--perspectives", nargs="+", choices=list(ROWS), default=["fused", "incremental", "forward", "backward"])
    ap.add_argument("--out", default="benchmarks/results/grm_heldout.json")
    ap.add_argument("--plots", default=str(OUT), help="per-episode progress plots go under DIR/<variant>/<stage>/<task>; "
                                                     "'' writes none (probes with other settings, so the committed plots stay)")
    ap.add_argument("--adapted", default=str(ADAPTED), help="cache of adapted checkpoints")
    ap.add_argument("--merge", nargs="+", metavar="JSON", help="only join these tables (disjoint --tasks runs) into --out")
    args = ap.parse_args()
    if args.merge:
        return write(merge(args.merge), args.out)
    tasks = resolve_tasks(args.tasks)
    roots = {task: task_root(task, [Path(d) for d in args.dataset]) for task in tasks}
    table: dict = {}
    for variant in args.variants:
        name = variant_name(variant)
        for stage in ("zero_shot", "one_shot"):
            models = {}  # per task: the model and its cached frame embeddings, shared by the perspectives
            for task in tasks:
                demo = Path(args.demos or roots[task]) / task / "expert_0000.hdf5"
                cache = Path(args.adapted) / name
                ckpt = variant if stage == "zero_shot" else adapt(variant, demo, cache, args.adapt_steps,
                                                                           tuple(args.adapt_overrides))
                models[task] = (RewardModel.load(ckpt), {})
            for perspective in args.perspectives:
                how, fusion, guard = ROWS[perspective]
                per_task = {}
                for task in tasks:
                    rm, cache = models[task]
                    plots_dir = Path(args.plots) / name / stage / task if perspective == "fused" and args.plots else None
                    res = evaluate(rm, roots[task], [task], "expert_0000.hdf5", plots_dir, how, guard=guard,
                                   plots=plots_dir is not None, cache=cache, fusion=fusion)
                    per_task[task] = res["per_task"][task]
                # a single perspective's row has no fusion to record
                table[f"{name}/{stage}/{perspective}"] = result = table_row(per_task, fusion if how == "fused" else None)
                for group, mean in result["groups"].items():
                    print(f"{name:<24}{stage:<10}{perspective:<12}{group:<20}"
                          + "".join(f"{m}={mean[m]:.3f} " for m in METRICS), flush=True)
    write(table, args.out)


if __name__ == "__main__":
    main()
