"""When the GRM calls a task done: the one success detector, numpy only (the ROS monitor and RL
shaping with task_reward=grm both use it, so training pays what the robot would call success)."""
from __future__ import annotations

import numpy as np

SUCCESS_DELTA = 0.05  # the GRM calls success at Phi >= 1 - delta ...
SUCCESS_HOLD = 3  # ... held this many consecutive steps (the ROS monitor's and grm-rl's task_reward=grm default)


class SuccessDetector:
    """The GRM's own success signal where the environment has none (a real robot):
    Phi >= 1 - delta for `hold` consecutive steps, so one over-confident frame is no success.
    The one definition: RL shaping with task_reward=grm and the ROS monitor both use it."""

    def __init__(self, num_envs: int, delta: float = SUCCESS_DELTA, hold: int = SUCCESS_HOLD):
        if not 0 < delta < 1 or hold < 1:
            raise ValueError(f"need 0 < delta < 1 and hold >= 1, got delta={delta}, hold={hold}")
        self.threshold, self.hold = 1.0 - delta, int(hold)
        self.count = np.zeros(num_envs, dtype=np.int64)

    def reset(self, env_ids: np.ndarray | None = None) -> None:
        if env_ids is None:
            self.count[:] = 0
        else:
            self.count[env_ids] = 0

    def update(self, phi: np.ndarray) -> np.ndarray:
        self.count = np.where(np.asarray(phi) >= self.threshold, self.count + 1, 0)
        return self.count >= self.hold
