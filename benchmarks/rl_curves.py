"""Learning curves: success rate vs training episodes for each reward mode on held-out tasks.

    python benchmarks/rl_curves.py                       # the full grid (many CPU-hours)
    python benchmarks/rl_curves.py --tasks drawer-close-v3 --modes grm_pbrs sparse --seeds 0

Every (task, mode, seed) is one `grm-rl` run in benchmarks/results/rl_curves/<task>/<mode>-s<seed>
(a work folder, not committed: checkpoints, replay buffer, demo, adapted GRM). A finished run's
report is kept in benchmarks/results/rl_curves_runs/<task>/<mode>-s<seed>.json, which is committed:
finished runs are skipped on any machine that has the repository, unfinished ones resume from their
checkpoints where the work folder survives, so the grid can span several working sessions. Runs go `--jobs` at a time (one
per core). The table, benchmarks/results/rl_curves.json and rl_curves.png are rebuilt from
whatever runs have finished. The grid's recipe (configs/rl.yaml's learner, rendering and GRM settings,
configs/adaptation/one_shot.yaml's one-shot adaptation, the budget, extra overrides) is kept in
rl_curves_runs/recipe.json: a grid started under other defaults is refused rather than mixed into
one table. The GRM's part of the recipe (its settings and the checkpoint's content hash) binds only
the GRM-shaped runs: a new GRM checkpoint invalidates grm_* runs, never the sparse or env_dense ones.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

TASKS = ["drawer-close-v3", "window-close-v3", "door-lock-v3", "box-close-v3"]
MODES = ["sparse", "env_dense", "grm_naive", "grm_pbrs"]
ROOT = Path("benchmarks/results/rl_curves")  # work folders of the runs (not committed)
KEPT = Path("benchmarks/results/rl_curves_runs")  # finished runs' reports and the recipe (committed)


def kept_report(task: str, mode: str, seed: int) -> Path:
    return KEPT / task / f"{mode}-s{seed}.json"


def reuse_sibling_work(task: str, mode: str, seed: int, out: Path) -> None:
    """Copy the scripted demo and the adapted GRM from a finished-or-running sibling of the same task.

    Every run of a task collects the same demo (demo.seed is fixed) and the GRM modes of one seed
    adapt the same GRM the same way; the run caches both in its folder (demo/, grm_adapt/grm.pt),
    so seeding that cache from a sibling skips minutes of identical work and changes no result."""
    import shutil

    from policies.shaping import GRM_MODES

    if not (out / "demo").is_dir():  # GRM modes render the demo as the GRM sees; others as the env's default
        for episode in sorted((ROOT / task).glob(f"*-s*/demo/{task}/expert_0000.hdf5")):  # written atomically
            sib = episode.parents[2]
            if (sib.name.rsplit("-s", 1)[0] in GRM_MODES) == (mode in GRM_MODES):
                shutil.copytree(sib / "demo", out / "demo")
                break
    if mode in GRM_MODES and not (out / "grm_adapt" / "grm.pt").is_file():
        for other in sorted(set(GRM_MODES) - {mode}):
            src = ROOT / task / f"{other}-s{seed}" / "grm_adapt" / "grm.pt"
            if src.is_file():
                (out / "grm_adapt").mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, out / "grm_adapt" / "grm.pt")
                break


def run_one(task: str, mode: str, seed: int, episodes: int, max_steps: int, extra: list[str]) -> Path:
    out, kept = ROOT / task / f"{mode}-s{seed}", kept_report(task, mode, seed)
    if kept.is_file():
        return out
    cmd = [sys.executable, "-m", "policies.cli_rl", f"task={task}", f"reward={mode}", f"seed={seed}", f"episodes={episodes}",
           f"max_steps={max_steps}", f"out={out}", "progress=false", "eval.video=false", *extra]
    log = out.parent / f"{mode}-s{seed}.log"
    out.mkdir(parents=True, exist_ok=True)
    reuse_sibling_work(task, mode, seed, out)
    with open(log, "w") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0 or not (out / "report.json").is_file():
        print(f"FAILED {task} {mode} s{seed}: see {log}")
        return out
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text((out / "report.json").read_text())
    return out


def recipe(episodes: int, max_steps: int, extra: list[str]) -> dict:
    """What every run of one grid shares: configs/rl.yaml's learner and rendering, the budget, overrides."""
    from dataclasses import asdict

    from policies.rl_run import compose_rl

    cfg = compose_rl()
    grm = asdict(cfg.grm)
    grm["checkpoint"] = os.path.relpath(grm["checkpoint"])  # where it lies in the repository, not on this disk
    grm["checkpoint_sha256"] = hashlib.sha256(Path(cfg.grm.checkpoint).read_bytes()).hexdigest()[:16]
    return {"sac": asdict(cfg.sac), "mesh_keep": cfg.mesh_keep, "reward_scale": cfg.reward_scale,
            "demo_ratio": cfg.demo.ratio, "grm": grm, "episodes": episodes, "max_steps": max_steps,
            "extra": list(extra)}


GRM_ONLY = {"grm"}  # recipe keys that only the GRM-shaped modes depend on


def check_recipe(current: dict) -> None:
    """Refuse to mix runs of two recipes in one table: the grid spans sessions, defaults change.

    A change in the GRM's part is refused only while GRM-shaped runs (finished or partial) exist."""
    from policies.shaping import GRM_MODES

    path = KEPT / "recipe.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        changed = sorted(k for k in set(current) | set(saved) if saved.get(k) != current.get(k))
        finished = {str(r.relative_to(KEPT).with_suffix("")) for m in GRM_MODES for r in KEPT.glob(f"*/{m}-s*.json")}
        partial = {str(d.relative_to(ROOT)) for m in GRM_MODES for d in ROOT.glob(f"*/{m}-s*") if d.is_dir()}
        dependent = sorted(finished | partial)
        if changed and (set(changed) - GRM_ONLY or dependent):
            runs = f" and GRM-shaped runs depend on it ({', '.join(dependent)})" if not set(changed) - GRM_ONLY else ""
            sys.exit(f"{KEPT} holds runs of another recipe (differs in {changed}){runs}; move them aside "
                     f"(e.g. mv {KEPT} {KEPT}-old; mv {ROOT} {ROOT}-old) to start a grid with the current one")
    KEPT.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n")


def collect_results() -> dict:
    results: dict = {}
    for report in sorted(KEPT.glob("*/*-s*.json")):
        r = json.loads(report.read_text())
        results.setdefault(r["task"], {}).setdefault(r["reward"], []).append(r)
    return results


def summarize(results: dict) -> dict:
    table = {}
    for task, modes in results.items():
        for mode, runs in modes.items():
            e80 = [r["episodes_to_80"] for r in runs]
            table[f"{task}/{mode}"] = {
                "seeds": len(runs),
                "final_success_mean": float(np.mean([r["final_success_rate"] for r in runs])),
                "final_success_per_seed": [r["final_success_rate"] for r in runs],
                "episodes_to_80_per_seed": e80,
                "curves": [r["curve"] for r in runs],
            }
    return table


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted(results)
    if not tasks:
        return
    fig, axes = plt.subplots(1, len(tasks), figsize=(4 * len(tasks), 3.2), dpi=100, squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for mode, runs in sorted(results[task].items()):
            eps = sorted({c["episodes"] for r in runs for c in r["curve"]})
            mean = [np.mean([c["success_rate"] for r in runs for c in r["curve"] if c["episodes"] == e]) for e in eps]
            ax.plot(eps, mean, marker=".", label=f"{mode} ({len(runs)} seeds)")
        ax.set(title=task, xlabel="training episodes", ylabel="eval success", ylim=(-0.02, 1.02))
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=TASKS)
    ap.add_argument("--modes", nargs="+", default=MODES)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--episodes", type=int, default=150)
    ap.add_argument("--max-steps", type=int, default=150)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--report-only", action="store_true", help="only rebuild the table from finished runs")
    ap.add_argument("extra", nargs="*", help="more grm-rl overrides, e.g. sac.gradient_steps=2")
    args = ap.parse_args()
    if not args.report_only:
        check_recipe(recipe(args.episodes, args.max_steps, args.extra))
        grid = [(t, m, s) for s in args.seeds for t in args.tasks for m in args.modes]
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda x: run_one(*x, args.episodes, args.max_steps, args.extra), grid))
    results = collect_results()
    table = summarize(results)
    print(f"{'task/mode':<34}{'seeds':>6}{'final success':>15}{'episodes to 80%':>24}")
    for key, row in sorted(table.items()):
        print(f"{key:<34}{row['seeds']:>6}{row['final_success_mean']:>15.2f}{str(row['episodes_to_80_per_seed']):>24}")
    (KEPT.parent / "rl_curves.json").write_text(json.dumps(table, indent=2) + "\n")
    plot(results, KEPT.parent / "rl_curves.png")
    print(f"wrote {KEPT.parent / 'rl_curves.json'} and rl_curves.png")


if __name__ == "__main__":
    main()
