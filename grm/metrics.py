"""Reward-model metrics the field reports (docs/method.md), without extra dependencies."""
from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau, spearmanr


def voc(progress: np.ndarray) -> float:
    """Value-order correlation: Spearman of predicted progress vs time; constant -> 0."""
    p = np.asarray(progress, dtype=np.float64)
    if len(p) < 2 or np.ptp(p) == 0:
        return 0.0
    return float(spearmanr(np.arange(len(p)), p).statistic)


def roc_auc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> float:
    """Probability a positive scores above a negative (ties count half): the ROC AUC."""
    pos, neg = np.asarray(scores_pos, float), np.asarray(scores_neg, float)
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def preference_accuracy(pred: np.ndarray, truth: np.ndarray, margin: float = 0.2) -> tuple[float, int]:
    """Share of episode pairs whose true quality differs by > margin that the prediction orders right."""
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    i, j = np.triu_indices(len(pred), k=1)
    keep = np.abs(truth[i] - truth[j]) > margin
    if not keep.any():
        return float("nan"), 0
    agree = np.sign(pred[i] - pred[j])[keep] == np.sign(truth[i] - truth[j])[keep]
    return float(agree.mean()), int(keep.sum())


def kendall(pred: np.ndarray, truth: np.ndarray) -> float:
    if len(pred) < 2 or np.ptp(pred) == 0:
        return 0.0
    return float(kendalltau(pred, truth).statistic)
