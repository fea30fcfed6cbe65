"""robosuite arms (Panda, Sawyer, UR5e, Kinova3, IIWA) as tasks with the interface of `MetaWorldTask`.

They are the GRM's other embodiments: other arms and grippers, another table and lighting, other
cameras. Each looks to the rest of the project exactly like a Meta-World task:

- the action is Meta-World's (dx, dy, dz, grip) in [-1, 1], through robosuite's OSC_POSITION
  controller (the gripper keeps its orientation), so experts, noise and retracts mean the same;
- the state vector follows the layout of Meta-World's observation where the labels read it (hand
  xyz at 0:3, grip opening at 3, first object xyz at 4:7 and quaternion at 7:11, second object at
  11:14 and 14:18), so progress matching (grm/progress_labels.py) needs no per-robot code;
- `reset(seed=s)` draws the placement from `s` alone, and `physics_state()` restores a frame;
- frames come from the project's fast renderer over robosuite's own MjModel, from views named by
  role as Meta-World's cameras are (corner, topview, gripperPOV), so the defaults of every command work.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from envs.rendering import FreeCamera, MultiViewRenderer, ViewRandomization, randomization_rng
from envs.task_spaces import ACTION_SPACE, observation_space, physics_state
from envs.tasks import INSTRUCTIONS, ROBOSUITE_TASKS, check_task

# The views by role, named as Meta-World's cameras are, so a GRM's views are fed by name in both
# families. robosuite's own agentview/birdview frame the whole room for 256 px images (at 64-96 px
# the cube is a few pixels): corner, front and topview frame the table's workspace instead (the
# arm's base stands at x = -0.56); gripperPOV is robosuite's wrist camera.
VIEWS: dict[str, FreeCamera | str] = {
    "corner": FreeCamera("corner", (-0.05, 0.0, 0.9), 0.85, azimuth=150.0, elevation=-30.0),
    "front": FreeCamera("front", (-0.05, 0.0, 0.9), 0.85, azimuth=180.0, elevation=-25.0),
    "topview": FreeCamera("topview", (-0.1, 0.0, 0.85), 0.8, azimuth=180.0, elevation=-85.0),
    "gripperPOV": "robot0_eye_in_hand",
}
DEFAULT_CAMERAS = ("corner", "topview", "gripperPOV")
COLLISION_GROUP = 0  # robosuite's untextured collision shapes; its visual meshes are group 1
STATE_DIM = 18
CONTROL_HZ = 20
# robosuite draws the cubes' sizes when it builds the model: a fixed seed makes every instance of a task
# the same model (a state-only twin and its rendering env must agree); placements come from reset(seed)
MODEL_SEED = 0
WORKSPACE = (np.array([-0.2, -0.25, 0.85]), np.array([0.2, 0.25, 1.15]))  # where WrongBehaviour wanders (m)


def _robosuite():
    """robosuite, imported with its import-time notices (optional models, macros file) muted."""
    logging.getLogger("robosuite_logs").addFilter(lambda record: record.levelno >= logging.ERROR)
    import robosuite

    return robosuite


def _controller(robot: str) -> dict:
    from robosuite.controllers import load_composite_controller_config

    cfg = load_composite_controller_config(controller="BASIC", robot=robot)
    cfg["body_parts"]["right"].update(type="OSC_POSITION", output_max=[0.05] * 3, output_min=[-0.05] * 3)
    return cfg


class RobosuiteTask(gym.Env):
    """One robosuite task on one arm; the time limit is truncation, never termination."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": CONTROL_HZ}

    def __init__(self, task: str, cameras: Sequence[str] = DEFAULT_CAMERAS, image_size: int = 96,
                 max_steps: int = 150, fast_render: bool = True, mesh_keep: float = 1.0,
                 randomization: ViewRandomization = ViewRandomization()):
        self.task = check_task(task)
        if task not in ROBOSUITE_TASKS:
            raise ValueError(f"{task!r} is not a robosuite task; those are: {', '.join(ROBOSUITE_TASKS)}")
        if max_steps <= 0:
            raise ValueError(f"max_steps must be positive, got {max_steps}")
        self.env_name, self.robot = ROBOSUITE_TASKS[task]
        self.instruction = INSTRUCTIONS[task]
        self.max_steps = int(max_steps)
        self._rs = _robosuite().make(
            self.env_name, robots=self.robot, controller_configs=_controller(self.robot), has_renderer=False,
            has_offscreen_renderer=False, use_camera_obs=False, control_freq=CONTROL_HZ, horizon=10**9,
            ignore_done=True, hard_reset=False, reward_shaping=True, seed=MODEL_SEED)
        self.cameras = list(cameras)
        self._renderer = None
        if self.cameras:
            try:
                views = [VIEWS.get(c, c) for c in self.cameras]
                self._renderer = MultiViewRenderer(self.model, views, image_size, image_size, fast_render,
                                                   mesh_keep=mesh_keep, hidden_groups=(COLLISION_GROUP,), sites=False,
                                                   randomization=randomization)
            except ValueError as e:
                raise ValueError(f"{task}: {e}, or the views {list(VIEWS)}") from None
        self.observation_space = observation_space(STATE_DIM, self.cameras, image_size)
        self.action_space = ACTION_SPACE
        self.workspace = WORKSPACE
        self._steps = 0

    @property
    def model(self) -> mujoco.MjModel:
        return self._rs.sim.model._model

    @property
    def data(self) -> mujoco.MjData:
        return self._rs.sim.data._data

    def _state(self, raw: dict) -> np.ndarray:
        s = np.zeros(STATE_DIM)
        s[0:3] = raw["robot0_eef_pos"]
        s[3] = np.abs(raw["robot0_gripper_qpos"]).sum()  # opening: the fingers' summed travel
        objects = ["cube"] if self.env_name == "Lift" else ["cubeA", "cubeB"]
        for name, at in zip(objects, (4, 11)):
            s[at:at + 3] = raw[f"{name}_pos"]
            s[at + 3:at + 7] = raw[f"{name}_quat"]
        return s

    def _obs(self, raw: dict) -> dict[str, np.ndarray]:
        obs = {"state": self._state(raw)}
        if self._renderer is not None:
            obs["pixels"] = self._renderer.render(self.data)
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        rng = np.random.default_rng(seed)  # robosuite draws placement and joint noise from env.rng
        self._rs.rng = rng
        self._rs.placement_initializer.rng = rng
        raw = self._rs.reset()
        self._steps = 0
        if self._renderer is not None:
            self._renderer.randomize(randomization_rng(seed, self.np_random))
        return self._obs(raw), {"is_success": False, "instruction": self.instruction}

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        raw, reward, _, info = self._rs.step(action)
        mujoco.mj_forward(self.model, self.data)  # positions of the state reached, as a restored frame renders it
        self._steps += 1
        info = dict(info)
        info["is_success"] = bool(self._rs._check_success())
        return self._obs(raw), float(reward), False, self._steps >= self.max_steps, info

    def physics_state(self) -> np.ndarray:
        """Full MuJoCo physics state (envs/task_spaces.py: how a frame is restored)."""
        return physics_state(self.model, self.data)

    def render(self):
        return None if self._renderer is None else self._renderer.render(self.data)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self._rs.close()
