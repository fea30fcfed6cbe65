"""grm-eval's work: per-task VOC, success detection and preference on an episode dataset.

For each task, one successful episode is the reference demo (its first frame and success
frame are the GRM's START/END references, as in deployment) and is left out; every other
episode is scored frame by frame with the fused progress tracker.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from configs.files import write_text
from grm.dataset import list_episodes, open_episode
from grm.inference import RewardBackend, progress_from_embeddings
from grm.metrics import kendall, preference_accuracy, roc_auc, voc

SAMPLINGS = {"sparse": 10, "medium": 25, "dense": None}  # frames per expert trajectory (None = all)


@dataclass
class EpisodeScore:
    name: str
    kind: str
    success: bool
    true_final: float
    pred: np.ndarray  # dense predicted progress, every frame
    voc: dict[str, float]


def _subsample(n: int, count: int | None) -> np.ndarray:
    return np.arange(n) if count is None or count >= n else np.unique(np.round(np.linspace(0, n - 1, count)).astype(int))


def reference_episode(root: Path, task: str, name: str) -> Path:
    path = root / task / name
    if not path.is_file():
        raise FileNotFoundError(f"reference demo {path} not found; pass reference=<episode file name>")
    return path


def score_task(rm: RewardBackend, root: Path, task: str, reference: str, perspective: str = "fused",
               guard: bool = False, cache: dict | None = None, fusion: str = "median") -> tuple[dict, list[EpisodeScore]]:
    """`cache` (optional) keeps frame embeddings per episode across calls with the same model."""
    cache = {} if cache is None else cache
    ref = reference_episode(root, task, reference)
    rm.set_reference_from_episode(ref)
    scores = []
    for path in list_episodes(root, tasks=[task]):
        if path == ref:
            continue
        with open_episode(path) as ep:
            key = (id(rm.model), str(path))
            if key not in cache:
                cache[key] = rm.encode(ep.frames(slice(None), rm.inputs))
            z = cache[key]
            truth = ep.progress
            success = ep.success  # the simulator's verdict, also when a wandering (`wrong`) run did the task
            pred = progress_from_embeddings(rm, z, perspective, guard, fusion)
            vocs = {}
            if success and ep.kind != "wrong":  # VOC needs a demonstration: time order = progress order
                end = int(ep.keyframes[-1]) + 1  # up to the first success: afterwards time passes, progress cannot
                for name, count in SAMPLINGS.items():
                    idx = _subsample(end, count)
                    vocs[name] = voc(pred[:end] if count is None else progress_from_embeddings(rm, z[idx], perspective, guard, fusion))
                # the same frames played backwards undo the task: a progress model scores them falling
                # (VOC near -1); one that keys on time or motion scores them rising as well
                vocs["reversed"] = voc(progress_from_embeddings(rm, z[np.arange(end)[::-1].copy()], perspective, guard, fusion))
            scores.append(EpisodeScore(path.name, ep.kind, success, float(truth[-1]), pred, vocs))
    if not scores:
        raise ValueError(f"{root / task} holds no episode besides the reference {reference}: nothing to score")
    pos = [s.pred[-1] for s in scores if s.success]
    neg = [s.pred[-1] for s in scores if not s.success]
    final_pred = np.array([s.pred[-1] for s in scores])
    final_true = np.array([1.0 if s.success else min(s.true_final, 0.99) for s in scores])
    pref, n_pairs = preference_accuracy(final_pred, final_true)
    summary = {
        "episodes": len(scores), "successes": len(pos), "failures": len(neg),
        **{f"voc_{k}": float(np.mean([s.voc[k] for s in scores if s.voc])) if any(s.voc for s in scores) else float("nan")
           for k in (*SAMPLINGS, "reversed")},
        "success_auc": roc_auc(np.array(pos), np.array(neg)),
        "preference_acc": pref, "preference_pairs": n_pairs,
        "kendall_tau": kendall(final_pred, final_true),
        "final_progress_success": float(np.mean(pos)) if pos else float("nan"),
        "final_progress_failure": float(np.mean(neg)) if neg else float("nan"),
        # which episodes are misjudged: what success detection read, episode by episode
        "episode_finals": [{"episode": s.name, "kind": s.kind, "success": s.success, "final": round(float(s.pred[-1]), 3)}
                           for s in scores],
    }
    return summary, scores


METRICS = ("voc_sparse", "voc_medium", "voc_dense", "voc_reversed", "success_auc", "preference_acc", "kendall_tau")


def summarize(per_task: dict[str, dict]) -> dict[str, float]:
    """Mean over tasks of each metric, over the tasks where it is defined (success AUC needs
    both successes and failures); NaN where it is defined for none."""
    out = {}
    for m in METRICS:
        values = np.array([r[m] for r in per_task.values()], dtype=float)
        out[m] = float(values[~np.isnan(values)].mean()) if (~np.isnan(values)).any() else float("nan")
    return out


def plot_task(task: str, scores: list[EpisodeScore], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    for s in scores:
        t = np.arange(len(s.pred))
        ax.plot(t, s.pred, color="tab:blue" if s.success else "tab:red", alpha=0.6, lw=1.2)
    ax.plot([], [], color="tab:blue", label="success")
    ax.plot([], [], color="tab:red", label="failure / perturbed")
    ax.set(title=task, xlabel="step", ylabel="predicted progress", ylim=(-0.02, 1.02))
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def format_table(per_task: dict[str, dict], mean: dict[str, float]) -> str:
    def cell(v: float) -> str:
        return f"{'n/a':>15}" if np.isnan(v) else f"{v:>15.3f}"

    head = f"{'task':<26}" + "".join(f"{m:>15}" for m in METRICS)
    rows = [head] + [f"{t:<26}" + "".join(cell(r[m]) for m in METRICS) for t, r in per_task.items()]
    rows.append(f"{'MEAN':<26}" + "".join(cell(mean[m]) for m in METRICS))
    if np.isnan(mean["success_auc"]):
        rows.append("n/a: success AUC, preference and Kendall tau need failed episodes beside the successes "
                    "(grm-collect failures.early_stop=N failures.wrong=N)")
    return "\n".join(rows)


def evaluate(rm: RewardBackend, root: str | Path, tasks: list[str] | None, reference: str, out: str | Path | None,
             perspective: str = "fused", guard: bool = False, plots: bool = True, cache: dict | None = None,
             fusion: str = "median") -> dict:
    root = Path(root)
    tasks = tasks or sorted({p.parent.name for p in list_episodes(root)})
    if not tasks:
        raise ValueError(f"dataset {root} holds no episodes; collect some with grm-collect")
    per_task, all_scores = {}, {}
    for task in tasks:
        per_task[task], all_scores[task] = score_task(rm, root, task, reference, perspective, guard, cache, fusion)
    result = {"per_task": per_task, "mean": summarize(per_task), "perspective": perspective, "fusion": fusion, "guard": guard,
              "reference": reference, "dataset": str(root)}
    if hasattr(rm, "unparsed"):  # a generative backend: how many of its replies stated no score
        result.update(replies=rm.replies, unparsed_replies=rm.unparsed)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "metrics.json", json.dumps(result, indent=2) + "\n")
        if plots:
            for task, scores in all_scores.items():
                plot_task(task, scores, out / "plots" / f"{task}.png")
    return result
