"""Failure episodes made from one successful demo's own frames, for failure-aware adaptation.

One-shot adaptation sees a single success. These episodes show, with the demo's pixels, what
not finishing looks like: each is a sequence of the demo's frame indices, and every frame keeps
the progress it has in the demo, so no label is invented.

    truncated   the demo cut before its first success (stopped short)
    rewound     forward to some point, then played backwards part of the way (undoing progress)
    reversed    the demo from its first success back to the start (progress falling throughout)
    stalled     the demo up to some point, then that frame held (frozen)
"""
from __future__ import annotations

import numpy as np

KINDS = ("truncated", "rewound", "reversed", "stalled")


def failure_indices(goal: int, length: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One frame-index sequence per kind for a demo of `length` frames that first succeeds at
    frame `goal`; none of them reaches the goal frame going forward (reversed starts there)."""
    if not 2 <= goal < length:
        raise ValueError(f"a demo to synthesize failures from needs its first success at frame 2..{length - 1}, "
                         f"got {goal}")
    cut = int(rng.integers(max(1, goal // 3), goal))  # where the forward part stops, before success
    back = int(rng.integers(0, max(1, cut // 2) + 1))  # how far the rewind goes back to
    hold = int(rng.integers(goal // 2, goal + 1))  # frames the stall stays frozen
    forward = np.arange(cut + 1)
    return {
        "truncated": forward,
        "rewound": np.concatenate([forward, np.arange(cut - 1, back - 1, -1)]),
        "reversed": np.arange(goal, -1, -1),
        "stalled": np.concatenate([forward, np.full(hold, cut)]),
    }


def synthesize(goal: int, length: int, per_kind: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """`per_kind` episodes of every kind as (kind, frame indices), drawn from `seed`."""
    rng = np.random.default_rng(seed)
    episodes = []
    for _ in range(per_kind):
        episodes += [(f"synthetic_{kind}", idx) for kind, idx in failure_indices(goal, length, rng).items()]
    return episodes
