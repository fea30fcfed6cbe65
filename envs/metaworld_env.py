"""A gymnasium task over Meta-World v3 with multi-view pixels, state and a language instruction.

Observations are a dict: ``state`` (Meta-World's 39-d goal-observable vector) and, when
cameras are configured, ``pixels`` of shape (V, H, W, 3). ``reset(seed=s)`` draws the task's
object/goal placement from ``s`` alone, so a seed plus an action sequence replays exactly.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from envs.rendering import MultiViewRenderer, ViewRandomization, randomization_rng
from envs.task_spaces import ACTION_SPACE, observation_space, physics_state
from envs.tasks import INSTRUCTIONS, check_task

DEFAULT_CAMERAS = ("corner", "topview", "gripperPOV")
WORKSPACE = (np.array([-0.3, 0.45, 0.05]), np.array([0.3, 0.85, 0.3]))  # where WrongBehaviour wanders (m)


def _metaworld_class(task: str):
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS_GOAL_OBSERVABLE

    return ALL_V3_ENVIRONMENTS_GOAL_OBSERVABLE[f"{task}-goal-observable"]


class MetaWorldTask(gym.Env):
    """One Meta-World task as a gymnasium env; time limit is truncation, never termination."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 80}

    def __init__(
        self,
        task: str,
        cameras: Sequence[str] = DEFAULT_CAMERAS,
        image_size: int = 96,
        max_steps: int = 200,
        fast_render: bool = True,
        mesh_keep: float = 1.0,
        randomization: ViewRandomization = ViewRandomization(),
    ):
        """randomization: render-only camera, light and colour changes drawn at every reset from its seed."""
        self.task = check_task(task)
        self.instruction = INSTRUCTIONS[task]
        if max_steps <= 0:
            raise ValueError(f"max_steps must be positive, got {max_steps}")
        self.max_steps = int(max_steps)
        self._mw = _metaworld_class(task)(seed=0)
        self._mw.max_path_length = self.max_steps
        self._mw.seeded_rand_vec = True
        self.cameras = list(cameras)
        self._renderer = (
            MultiViewRenderer(self._mw.model, self.cameras, image_size, image_size, fast_render, mesh_keep=mesh_keep,
                              randomization=randomization)
            if self.cameras else None
        )
        self.observation_space = observation_space(39, self.cameras, image_size)
        self.action_space = ACTION_SPACE
        self.workspace = WORKSPACE
        self._steps = 0

    @property
    def model(self) -> mujoco.MjModel:
        return self._mw.model

    @property
    def data(self) -> mujoco.MjData:
        return self._mw.data

    def _obs(self, state: np.ndarray) -> dict[str, np.ndarray]:
        obs = {"state": np.asarray(state, dtype=np.float64)}
        if self._renderer is not None:
            obs["pixels"] = self._renderer.render(self._mw.data)
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._mw.seed(int(seed))
        self._mw._freeze_rand_vec = False  # draw a new placement from the env's own seeded RNG
        state, _ = self._mw.reset()
        self._mw._freeze_rand_vec = True
        self._steps = 0
        if self._renderer is not None:
            self._renderer.randomize(randomization_rng(seed, self.np_random))
        return self._obs(state), {"is_success": False, "instruction": self.instruction}

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)
        state, reward, _, _, info = self._mw.step(action)
        self._steps += 1
        info = dict(info)
        info["is_success"] = bool(info.pop("success", 0.0))  # the gymnasium-robotics / SB3 key, as every task here
        truncated = self._steps >= self.max_steps
        return self._obs(state), float(reward), False, truncated, info

    def physics_state(self) -> np.ndarray:
        """Full MuJoCo physics state (envs/task_spaces.py: how a frame is restored)."""
        return physics_state(self.model, self.data)

    def render(self):
        return None if self._renderer is None else self._renderer.render(self._mw.data)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self._mw.close()
