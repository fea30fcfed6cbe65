"""The reward-mode grid's report: per task and mode, final success and episodes to 80% per seed and
their IQM over seeds; per mode over tasks, the same IQMs; each with a 95% stratified-bootstrap
interval (rliable); one plot of the curves.

    grm-rl --multirun +grid=rl                  # the runs (configs/grid/rl.yaml)
    python benchmarks/rl_grid_report.py         # this report, from whatever has finished

A finished run is one whose folder holds `report.json`. Its report and the settings it learned
with are kept, small, in `--kept` (committed), so the report can be rebuilt on any machine from
the repository alone (`--runs` pointing at the kept folder works too). Runs that learned with other
settings than the rest (beyond task, reward, seed and the demo in the buffer) are refused rather
than mixed into one table. Writes `--out` (JSON) and the plot beside it (`.png`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from configs.files import write_text

ROOT = Path(__file__).resolve().parents[1]
VARIED = {"task", "reward", "seed", "demo.seed_buffer", "episodes"}  # what a grid's runs may differ in


def _key(task: str, name: str) -> tuple[str, str, int]:
    mode, seed = name.rsplit("-s", 1)
    return task, mode, int(seed)


def _runs(root: Path) -> dict[tuple[str, str, int], dict]:
    """(task, mode, seed) -> {"report": ..., "settings": ...} for every finished run under `root`:
    a sweep's run folders `<task>/<mode>-s<seed>/report.json`, or kept files `<task>/<mode>-s<seed>.json`
    (older kept files hold the report alone)."""
    found = {}
    for path in sorted(root.glob("*/*-s*/report.json")):
        settings = path.parent / "settings.json"
        found[_key(path.parents[1].name, path.parent.name)] = {
            "report": json.loads(path.read_text()),
            "settings": json.loads(settings.read_text()) if settings.is_file() else None}
    for path in sorted(root.glob("*/*-s*.json")):
        entry = json.loads(path.read_text())
        found[_key(path.parent.name, path.stem)] = entry if "report" in entry else {"report": entry, "settings": None}
    return found


def keep(runs: dict, kept: Path) -> None:
    """Each finished run's report and settings as one small committed file."""
    for (task, mode, seed), entry in runs.items():
        write_text(kept / task / f"{mode}-s{seed}.json", json.dumps(entry, indent=1) + "\n")


def check_same_recipe(runs: dict) -> None:
    recorded = {k: v["settings"] for k, v in runs.items() if v["settings"] is not None}
    if not recorded:
        return
    first_key, first = next(iter(recorded.items()))
    for key, settings in recorded.items():
        differ = sorted(k for k in set(first) | set(settings) if k not in VARIED and first.get(k) != settings.get(k))
        if differ:
            sys.exit(f"{'/'.join(map(str, key))} learned with other settings than {'/'.join(map(str, first_key))} "
                     f"({', '.join(f'{k}: {first.get(k)!r} vs {settings.get(k)!r}' for k in differ)}); "
                     f"report them separately (--runs)")


def table(runs: dict) -> dict:
    """{"task/mode": per-seed finals, episodes to 80%, curves} in seed order."""
    cells: dict[str, dict] = {}
    for (task, mode, seed), entry in sorted(runs.items()):
        r = entry["report"]
        cell = cells.setdefault(f"{task}/{mode}", {"seeds": [], "final_success_per_seed": [],
                                                   "episodes_to_80_per_seed": [], "curve_episodes": None,
                                                   "curve_per_seed": []})
        cell["seeds"].append(seed)
        cell["final_success_per_seed"].append(r["final_success_rate"])
        cell["episodes_to_80_per_seed"].append(r["episodes_to_80"])
        cell["curve_episodes"] = [c["episodes"] for c in r["curve"]]
        cell["curve_per_seed"].append([c["success_rate"] for c in r["curve"]])
        cell["episodes"] = r["episodes"]
    for cell in cells.values():
        cell["final_success_mean"] = round(float(np.mean(cell["final_success_per_seed"])), 3)
    return cells


def _scores(cells: dict, mode: str, tasks: list[str], metric) -> np.ndarray | None:
    """(seeds, tasks) array of `metric(cell, seed index)` for the mode, or None where a task lacks it
    or the tasks have different numbers of seeds (rliable's stratified bootstrap needs a full grid)."""
    columns = []
    for task in tasks:
        cell = cells.get(f"{task}/{mode}")
        if cell is None:
            return None
        columns.append([metric(cell, i) for i in range(len(cell["seeds"]))])
    if len({len(c) for c in columns}) != 1:
        return None
    return np.array(columns, dtype=float).T


METRICS = (("final_success", lambda cell, i: cell["final_success_per_seed"][i]),
           # a run that never got to 80% counts as its budget
           ("episodes_to_80", lambda cell, i: cell["episodes_to_80_per_seed"][i] or cell["episodes"]))


def _bootstrap(scores: dict[str, np.ndarray], statistic, reps: int, seed: int) -> tuple[dict, dict]:
    """rliable's point estimates and 95% stratified-bootstrap intervals of `statistic`, seeded."""
    from rliable import library as rly

    np.random.seed(seed)
    return rly.get_interval_estimates(scores, statistic, reps=reps)


def iqm_ci(scores: dict[str, np.ndarray], reps: int, seed: int) -> dict[str, tuple[float, list[float]]]:
    """name -> (IQM, 95% stratified-bootstrap interval) of each (runs, tasks) score array (rliable).
    Each array is bootstrapped alone from `seed`, so its interval does not move when others join."""
    from rliable import metrics

    out = {}
    for k, array in scores.items():
        point, interval = _bootstrap({k: array}, lambda x: np.array([metrics.aggregate_iqm(x)]), reps, seed)
        out[k] = (round(float(point[k][0]), 3), [round(float(v), 3) for v in interval[k][:, 0]])
    return out


def add_cell_intervals(cells: dict, reps: int, seed: int) -> None:
    """Each cell's IQM over its seeds of final success and episodes to 80%, with 95% bootstrap CIs."""
    for name, metric in METRICS:
        scores = {key: _scores(cells, key.split("/")[1], [key.split("/")[0]], metric) for key in cells}
        for key, (point, ci) in iqm_ci(scores, reps, seed).items():
            cells[key][f"iqm_{name}"], cells[key][f"iqm_{name}_ci95"] = point, ci


def aggregate(cells: dict, reps: int, seed: int) -> dict:
    """Per mode that ran every task of the grid, over those tasks: IQM of final success and of
    episodes to 80%, each with a 95% stratified-bootstrap CI."""
    modes = sorted({k.split("/")[1] for k in cells})
    tasks = sorted({k.split("/")[0] for k in cells})
    out = {}
    for name, metric in METRICS:
        scores = {m: s for m in modes if (s := _scores(cells, m, tasks, metric)) is not None}
        if not scores:
            continue
        for m, (point, ci) in iqm_ci(scores, reps, seed).items():
            out.setdefault(m, {"tasks": tasks, "runs": int(scores[m].size)})
            out[m][f"iqm_{name}"], out[m][f"iqm_{name}_ci95"] = point, ci
    return out


NO_DEMO = "_nodemo"  # the suffix of a mode run without the demo in the buffer (configs/grid/rl_nodemo.yaml)


def panels(cells: dict) -> list[tuple[str, list[str]]]:
    """(title, "task/mode" keys) of each plot panel: one per task, and the task's modes run without
    the demo in the buffer on a panel of their own, so neither is crowded and each compares like with like."""
    out: dict[str, list[str]] = {}
    for key in sorted(cells):
        task, mode = key.split("/")
        out.setdefault(f"{task}, no demo in the buffer" if mode.endswith(NO_DEMO) else task, []).append(key)
    return sorted(out.items())


def plot(cells: dict, path: Path, reps: int, seed: int) -> None:
    """Success vs episodes: IQM over seeds with its 95% bootstrap interval, one line per mode; a mode
    without the demo is dashed, in the colour of its reward with the demo."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rliable import metrics

    layout = panels(cells)
    rewards = sorted({k.split("/")[1].removesuffix(NO_DEMO) for k in cells})
    colors = {r: f"C{i}" for i, r in enumerate(rewards)}  # one colour per reward on every panel
    fig, axes = plt.subplots(1, len(layout), figsize=(4 * len(layout), 3.4), squeeze=False)
    for ax, (title, keys) in zip(axes[0], layout):
        for key in keys:
            cell, mode = cells[key], key.split("/")[1]
            if len({len(c) for c in cell["curve_per_seed"]}) != 1:
                continue
            curves = np.array(cell["curve_per_seed"], dtype=float)[:, None, :]  # (seeds, 1 task, points)
            point, interval = _bootstrap(
                {mode: curves}, lambda x: np.array([metrics.aggregate_iqm(x[..., t]) for t in range(x.shape[-1])]),
                reps, seed)
            x, color = cell["curve_episodes"], colors[mode.removesuffix(NO_DEMO)]
            ax.plot(x, point[mode], color=color, linestyle="--" if mode.endswith(NO_DEMO) else "-",
                    label=f"{mode} ({len(cell['seeds'])})")
            ax.fill_between(x, interval[mode][0], interval[mode][1], color=color, alpha=0.2)
        ax.set(title=title, xlabel="training episodes", ylim=(-0.02, 1.02))
        ax.legend(fontsize=7, loc="best", title="mode (seeds)", title_fontsize=7)
    axes[0][0].set_ylabel("success (IQM over seeds, 95% CI)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _iqm_text(entry: dict, name: str, fmt: str) -> str:
    lo, hi = entry[f"iqm_{name}_ci95"]
    return f"{entry[f'iqm_{name}']:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", default=str(ROOT / "benchmarks/results/rl_grid"), help="the sweep's run folders")
    ap.add_argument("--kept", default=str(ROOT / "benchmarks/results/rl_grid_runs"),
                    help="where finished runs' reports are kept (committed); read as well")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/rl_curves.json"))
    ap.add_argument("--reps", type=int, default=2000, help="bootstrap resamples")
    ap.add_argument("--seed", type=int, default=0, help="the bootstrap's random seed")
    args = ap.parse_args(argv)
    runs, kept = _runs(Path(args.runs)), Path(args.kept)
    separate_kept = kept.resolve() != Path(args.runs).resolve()
    if separate_kept:
        runs = {**_runs(kept), **runs}
    if not runs:
        sys.exit(f"no finished runs under {args.runs} or {args.kept}; start them with grm-rl --multirun +grid=rl")
    check_same_recipe(runs)
    if separate_kept:
        keep(runs, kept)
    cells = table(runs)
    add_cell_intervals(cells, args.reps, args.seed)
    result = {**cells, "aggregate": aggregate(cells, args.reps, args.seed),  # "task/mode" keys, then the aggregate
              "bootstrap": {"reps": args.reps, "seed": args.seed, "interval": "95% stratified"}}
    out = Path(args.out)
    write_text(out, json.dumps(result, indent=1) + "\n")
    plot(cells, out.with_suffix(".png"), args.reps, args.seed)
    print(f"{'task/mode':<30}{'final success per seed':>26}{'mean':>6}{'IQM [95% CI]':>20}"
          f"{'episodes to 80%':>20}{'IQM [95% CI]':>22}")
    for key, cell in cells.items():
        finals = " ".join(f"{v:.2f}" for v in cell["final_success_per_seed"])
        to80 = " ".join("-" if v is None else str(v) for v in cell["episodes_to_80_per_seed"])
        print(f"{key:<30}{finals:>26}{cell['final_success_mean']:>6.2f}{_iqm_text(cell, 'final_success', '.2f'):>20}"
              f"{to80:>20}{_iqm_text(cell, 'episodes_to_80', '.0f'):>22}")
    print("\nover tasks (IQM, 95% stratified-bootstrap CI):")
    if not result["aggregate"]:
        print("  none yet: no mode has run every task of the table")
    for mode, agg in result["aggregate"].items():
        parts = [f"{name} {_iqm_text(agg, name, '.2f')}" for name, _ in METRICS if f"iqm_{name}" in agg]
        print(f"  {mode:<20}" + "; ".join(parts) + f"  ({agg['runs']} runs on {len(agg['tasks'])} tasks)")
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
