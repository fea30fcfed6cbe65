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


# The state vector's layout: Meta-World's 39-d observation, which robosuite tasks fill the same way
HAND, GRIPPER = slice(0, 3), 3  # hand (end effector) position; gripper opening
OBJ1, OBJ1_QUAT, OBJ2, OBJ2_QUAT = slice(4, 7), slice(7, 11), slice(11, 14), slice(14, 18)  # zeros if absent
PREVIOUS = 18  # entries 18..35 repeat entries 0..17 one step earlier
GOAL = slice(36, 39)


def previous(index: slice) -> slice:
    """The same entries of the state one step earlier (the previous-frame half)."""
    return slice(index.start + PREVIOUS, index.stop + PREVIOUS)

ACTION_SPACE = gym.spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)  # (dx, dy, dz, grip), Meta-World's


def physics_state(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """Full MuJoCo physics state (time, qpos, qvel, act, mocap...). Restoring a frame exactly:
    reset(seed=episode seed) (the seed may also move bodies and sites in the model), then
    `mj_setState` with this vector and `mj_forward`."""
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    out = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, data, out, spec)
    return out
