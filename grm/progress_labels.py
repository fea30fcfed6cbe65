"""Ground-truth progress of every frame, the raw material of the GRM's hop labels.

Successful episodes: step-wise discretization (docs/method.md). Keyframes K0..KN split
the episode into N sub-tasks and each sub-task gets the same share 1/N of progress, so
progress is uniform per sub-task, not per unit of time. Frames after KN are at 1.

Episodes that do not finish (cut off, wandering, noisy misses) have no keyframes of their
own; they are labelled by matching each frame's simulator state (hand and object positions)
to the nearest frame of the expert run from the same seed, whose progress is known; optionally
(collect's `rollout.cap_unfinished`) capped below 1 where the simulator never calls them a success.
"""
from __future__ import annotations

import numpy as np

from envs.task_spaces import HAND, OBJ1, OBJ2
OBJECT_WEIGHT = 2.0  # objects moving is the task; the hand is only the means


def unfinished_cap(n_subtasks: int) -> float:
    """The most progress a frame of an episode that never succeeds may carry: last sub-task begun.

    Nearest-state matching alone gives 1.0 to a failure that ends beside the goal (a box lid
    dropped next to the box, the hand parked where the expert's ends); a GRM trained on that
    learns to call such near misses successes. Capping at (N-1)/N keeps them a sub-task short.
    """
    return 1.0 - 1.0 / max(2, int(n_subtasks))


def keyframe_progress(keyframes: np.ndarray, n_frames: int) -> np.ndarray:
    """Per-frame progress in [0, 1]: piecewise linear, each sub-task worth 1/N."""
    k = np.asarray(keyframes, dtype=np.float64)
    if len(k) < 2 or k[0] != 0 or np.any(np.diff(k) <= 0):
        raise ValueError(f"keyframes must start at 0 and increase, got {keyframes}")
    n = len(k) - 1
    return np.interp(np.arange(n_frames), k, np.arange(n + 1) / n).astype(np.float32)


def step_samples(keyframes: np.ndarray, n_frames: int, chunk: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The design's discrete states: m = floor(floor(L / C) / N) per sub-task, Phi(s_i) = i / M.

    Returns (frame indices, progress) of s_0..s_M, s_M being the success keyframe.
    """
    k = np.asarray(keyframes, dtype=np.int64)
    n = len(k) - 1
    m = max(1, (n_frames // max(1, chunk)) // n)
    idx = [np.round(np.linspace(k[j], k[j + 1], m, endpoint=False)).astype(np.int64) for j in range(n)]
    frames = np.concatenate(idx + [k[-1:]])
    return frames, np.arange(len(frames), dtype=np.float32) / (len(frames) - 1)


def state_features(states: np.ndarray) -> np.ndarray:
    s = np.asarray(states, dtype=np.float64)
    return np.concatenate([s[:, HAND], OBJECT_WEIGHT * s[:, OBJ1], OBJECT_WEIGHT * s[:, OBJ2]], axis=1)


def nearest_reference(states: np.ndarray, ref_states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each state's nearest reference (expert) state, and the distance to it (state_features' units)."""
    a, b = state_features(states), state_features(ref_states)
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    nearest = d.argmin(axis=1)
    return nearest, np.sqrt(d[np.arange(len(a)), nearest])


def matched_progress(states: np.ndarray, ref_states: np.ndarray, ref_progress: np.ndarray) -> np.ndarray:
    """Progress of each state = progress of the nearest reference (expert) state."""
    return np.asarray(ref_progress, dtype=np.float32)[nearest_reference(states, ref_states)[0]]


def path_progress(states: np.ndarray, ref_states: np.ndarray, ref_progress: np.ndarray, width: float) -> np.ndarray:
    """Matched progress, fading with the distance d to the expert's path: times exp(-d^2 / (2 width^2)).

    The nearest expert state says how far a state is along the path only near that path; a hand
    raised 40 cm beside an untouched lock is nearest to the expert's hand raised above it, and
    matched_progress credits it 0.9. Fading keeps far-off states near 0 and points back to the path.
    """
    nearest, dist = nearest_reference(states, ref_states)
    fade = np.exp(-0.5 * (dist / width) ** 2)
    return (np.asarray(ref_progress, dtype=np.float32)[nearest] * fade).astype(np.float32)


def hop_label(phi_p: np.ndarray, phi_q: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Hop H(p -> q) in [-1, 1]: share of the remaining work done, or of the achieved work undone."""
    p, q = np.broadcast_arrays(np.asarray(phi_p, dtype=np.float64), np.asarray(phi_q, dtype=np.float64))
    fwd = (q - p) / np.maximum(1.0 - p, eps)
    bwd = (q - p) / np.maximum(p, eps)
    h = np.where(q >= p, np.where(1.0 - p > eps, fwd, 0.0), bwd)
    return np.clip(h, -1.0, 1.0)
