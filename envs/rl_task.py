"""The RL view of a task: the policy sees state, the reward model sees pixels.

`RLTask` wraps a task environment (envs/task_env.py: Meta-World or robosuite) for learning
agents: observations are the state vector, the reward is the step's success; with `terminate_on_success` reaching success is a true
termination (the absorbing goal, where shaping sets Phi = 0), otherwise episodes run to the
time limit, which is truncation. Pixels for the GRM travel in `info["pixels"]`, so the policy's
replay buffer never stores images; `info["state"]` is the full-precision state (the observation
is its float32 copy).
"""
from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from envs.task_env import make_task


def draw_episode_seed(rng: np.random.Generator) -> int:
    """The next placement of a seeded stream (`default_rng(seed)`): one definition, so grm-rl's
    evaluation and the ROS simulated robot draw the same placements from the same seed."""
    return int(rng.integers(2**31))


class RLTask(gym.Wrapper):
    def __init__(self, task: str, cameras: Sequence[str] = (), image_size: int = 64, max_steps: int = 150,
                 terminate_on_success: bool = True, mesh_keep: float = 1.0):
        super().__init__(make_task(task, cameras, image_size, max_steps, mesh_keep=mesh_keep))
        self.observation_space = self.env.observation_space["state"]
        self.terminate_on_success = terminate_on_success
        self._seed_rng = np.random.default_rng()

    def _pack(self, obs: dict, info: dict) -> tuple[np.ndarray, dict]:
        if "pixels" in obs:
            info["pixels"] = obs["pixels"]
        info["state"] = obs["state"]
        return obs["state"].astype(np.float32), info

    def reset(self, *, seed: int | None = None, options=None):
        if seed is not None:
            self._seed_rng = np.random.default_rng(seed)
        episode_seed = draw_episode_seed(self._seed_rng)  # one reproducible stream of placements
        obs, info = self.env.reset(seed=episode_seed)
        info["episode_seed"] = episode_seed
        return self._pack(obs, info)

    def step(self, action):
        obs, reward, _, truncated, info = self.env.step(action)
        info["env_reward"] = float(reward)
        terminated = bool(info["is_success"]) and self.terminate_on_success
        state, info = self._pack(obs, info)
        return state, float(info["is_success"]), terminated, truncated and not terminated, info
