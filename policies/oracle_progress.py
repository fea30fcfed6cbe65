"""Ground-truth progress for RL: `info["oracle_progress"]` on every reset and step of an `RLTask`.

The progress of the current simulator state, matched against the scripted expert's run from the
same placement (grm/progress_labels.py), is what a perfect reward model would say: `oracle_pbrs`
shapes with it, to tell a weak learner from a weak reward. A placement the expert cannot solve has
nothing to measure against, so the next placement of the same seeded stream is drawn instead.
"""
from __future__ import annotations

import gymnasium as gym

from envs.task_env import make_task
from envs.rl_task import RLTask
from grm.dataset.rollout import RolloutSettings, UnsolvableSeed, expert_reference
from grm.progress_labels import matched_progress

EXPERT_STEPS = 500  # the expert's time limit when it sets the reference


class OracleProgress(gym.Wrapper):
    def __init__(self, env: RLTask, task: str):
        super().__init__(env)
        self._expert_env = make_task(task, (), 64, EXPERT_STEPS)
        self._ref = None

    def _add_progress(self, info: dict) -> None:
        info["oracle_progress"] = float(matched_progress(info["state"][None], self._ref.states, self._ref.progress)[0])

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
