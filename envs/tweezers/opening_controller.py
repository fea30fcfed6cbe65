"""The classical low level of the tweezers: a proportional controller on the opening, the pick
task's default and the baseline (and replay seed) of the learned low level."""
from __future__ import annotations

import numpy as np


class OpeningPController:
    """action = clip(gain * (opening - goal)) on every finger joint: too open -> flex more."""

    def __init__(self, gain: float = 5.0):
        self.gain = gain

    def __call__(self, obs: dict) -> np.ndarray:
        err = float(obs["achieved_goal"][0] - obs["desired_goal"][0])
        return np.full(6, np.clip(self.gain * err, -1.0, 1.0), dtype=np.float32)
