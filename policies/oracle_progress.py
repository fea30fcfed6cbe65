"""Ground-truth progress for RL: `info["oracle_progress"]` on every reset and step of an `RLTask`.

The progress of the current simulator state, matched against the scripted expert's run from the
same placement and fading with the distance from that run's path (grm/progress_labels.py,
`path_progress`), and 1 wherever the simulator calls the state a success (the expert's way there is
not the only one), is what a perfect reward model would say: `oracle_pbrs` shapes with it, to
tell a weak learner from a weak reward. A placement the expert cannot solve has
nothing to measure against, so the next placement of the same seeded stream is drawn instead.
"""
from __future__ import annotations

import gymnasium as gym

from envs.task_env import make_task
from envs.rl_task import RLTask
from grm.dataset.rollout import RolloutSettings, UnsolvableSeed, expert_reference
from grm.progress_labels import path_progress

EXPERT_STEPS = 500  # the expert's time limit when it sets the reference
PATH_WIDTH = 0.1  # metres in state_features' units (hand, 2x objects): 10 cm off the path keeps 61%, 30 cm 1%


class OracleProgress(gym.Wrapper):
    def __init__(self, env: RLTask, task: str):
        super().__init__(env)
        self._expert_env = make_task(task, (), 64, EXPERT_STEPS)
        self._ref = None

    def _add_progress(self, info: dict) -> None:
        info["oracle_progress"] = 1.0 if info["is_success"] else float(
            path_progress(info["state"][None], self._ref.states, self._ref.progress, PATH_WIDTH)[0])

    def reset(self, *, seed: int | None = None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        while True:
            try:
                self._ref = expert_reference(self._expert_env, info["episode_seed"], EXPERT_STEPS, RolloutSettings())
                self._add_progress(info)
                return obs, info
            except UnsolvableSeed:  # the seeded stream's next placement
                obs, info = self.env.reset(options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._add_progress(info)
        return obs, reward, terminated, truncated, info

    def close(self):
        self._expert_env.close()
        super().close()
