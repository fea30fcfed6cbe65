"""What every task environment shares, whatever simulator family it wraps (envs/task_env.py)."""
from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import mujoco
import numpy as np


def observation_space(state_dim: int, cameras: Sequence[str], image_size: int) -> gym.spaces.Dict:
    """{"state": (state_dim,), "pixels": (V, H, W, 3) uint8 when there are cameras}."""
    spaces: dict[str, gym.Space] = {"state": gym.spaces.Box(-np.inf, np.inf, shape=(state_dim,), dtype=np.float64)}
    if cameras:
        spaces["pixels"] = gym.spaces.Box(0, 255, shape=(len(cameras), image_size, image_size, 3), dtype=np.uint8)
    return gym.spaces.Dict(spaces)


ACTION_SPACE = gym.spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)  # (dx, dy, dz, grip), Meta-World's


def physics_state(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """Full MuJoCo physics state (time, qpos, qvel, act, mocap...). Restoring a frame exactly:
    reset(seed=episode seed) (the seed may also move bodies and sites in the model), then
    `mj_setState` with this vector and `mj_forward`."""
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    out = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, data, out, spec)
    return out
