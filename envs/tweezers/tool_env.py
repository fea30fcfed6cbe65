"""The low-level task: bring the tweezers to a commanded opening and hold it, without dropping them.

Goal-based gymnasium API (the layout HER expects): observation = [finger joint angles (6),
finger joint targets (6), opening, opening velocity]; achieved_goal = [opening];
desired_goal = [commanded opening]. Actions move the index and middle fingers' flexion targets
(MCP, PIP, DIP) by at most `max_delta` rad per step: small steps, because a sudden flexion lets
the pads slip past the prong. Success: within `tolerance` of the goal for the last `hold_steps`
steps with the tool still held. Dropping the tool (the grip overloaded) ends the episode.
Episodes start with the fingertips resting on or just off the front prong, as a hand holds
tweezers (from a flat hand, reaching the prong alone takes most of an episode). With
`switch_every` the goal is redrawn every that many steps: a high level changes its goal while the
tool is held at the last one (open to straddle, then squeeze), and a policy trained from rest
only had let go of the prong on the way from closed to open.
"""
from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np

from envs.tweezers.scene import (OPEN_ANGLE, ObjectSpec, build_model, opening, place_tool_in_hand,
                                 step_holding)

FINGER_JOINTS = ("FFJ2", "FFJ1", "FFJ0", "MFJ2", "MFJ1", "MFJ0")
HOVER = 0.1  # arm lift (m): tool well above the table
MAX_DELTA = 0.08  # rad of flexion target per low-level step


class FingerInterface:
    """The low level's view of the hand, shared by every task that runs it: its observation
    (finger angles, finger targets, opening, opening velocity; goal = opening) and its action
    (bounded moves of the index/middle flexion targets). The pick task drives a learned low level
    through exactly what it was trained on."""

    def __init__(self, model: mujoco.MjModel, max_delta: float = MAX_DELTA):
        self.act_ids = np.array([model.actuator(f"A_{j}").id for j in FINGER_JOINTS])
        self.qpos_ids = np.array([model.jnt_qposadr[model.joint(j).id] for j in FINGER_JOINTS])
        self.lo, self.hi = model.actuator_ctrlrange[self.act_ids].T
        self.hinge_dof = model.jnt_dofadr[model.joint("tweezers_hinge").id]
        self.max_delta = max_delta

    def observe(self, data: mujoco.MjData, goal: float) -> dict:
        obs = np.concatenate([data.qpos[self.qpos_ids], data.ctrl[self.act_ids],
                              [opening(data), data.qvel[self.hinge_dof]]])
        return {"observation": obs, "achieved_goal": np.array([opening(data)]), "desired_goal": np.array([goal])}

    def apply(self, data: mujoco.MjData, action) -> None:
        a = np.clip(np.nan_to_num(np.asarray(action, dtype=np.float64)), -1, 1)
        data.ctrl[self.act_ids] = np.clip(data.ctrl[self.act_ids] + a * self.max_delta, self.lo, self.hi)


class ToolOpeningEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, max_steps: int = 50, frame_skip: int = 20, max_delta: float = MAX_DELTA,
                 tolerance: float = 0.02, hold_steps: int = 5, goal_range: tuple[float, float] = (0.0, 0.28),
                 reward_scale: float = 1.0, switch_every: int = 0):
        self.model = build_model(ObjectSpec("box", 0.02))
        self.data = mujoco.MjData(self.model)
        self.max_steps, self.frame_skip = max_steps, frame_skip
        self.tolerance, self.hold_steps, self.goal_range = tolerance, hold_steps, goal_range
        self.reward_scale = float(reward_scale)
        self.switch_every = int(switch_every)
        self.hand = FingerInterface(self.model, max_delta)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (len(FINGER_JOINTS),), np.float32)
        goal = gym.spaces.Box(-0.1, OPEN_ANGLE + 0.1, (1,), np.float64)
        self.observation_space = gym.spaces.Dict({
            "observation": gym.spaces.Box(-np.inf, np.inf, (2 * len(FINGER_JOINTS) + 2,), np.float64),
            "achieved_goal": goal, "desired_goal": goal})
        self.goal = np.zeros(1)
        self.within = 0

    def _obs(self) -> dict:
        return self.hand.observe(self.data, float(self.goal[0]))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        d.qpos[m.jnt_qposadr[m.joint("ARTy").id]] = d.ctrl[m.actuator("A_ARTy").id] = HOVER
        flex = self.np_random.uniform(0.8, 1.05)  # fingertips resting on or just off the front prong
        h = self.hand
        d.qpos[h.qpos_ids] = d.ctrl[h.act_ids] = np.clip([flex, 0.5 * flex, 0.5 * flex] * 2, h.lo, h.hi)
        place_tool_in_hand(m, d)
        for _ in range(5 * self.frame_skip):  # let the spring and the pads settle
            mujoco.mj_step(m, d)
        goal = options.get("goal") if options else None
        self.set_goal(float(goal) if goal is not None else self.np_random.uniform(*self.goal_range))
        self.steps = 0
        return self._obs(), {"is_success": False, "dropped": False}

    def set_goal(self, goal: float) -> None:
        """A new commanded opening; success counts its hold from here."""
        self.goal = np.array([float(goal)])
        self.within = 0

    def step(self, action):
        if self.switch_every and self.steps and self.steps % self.switch_every == 0:
            self.set_goal(self.np_random.uniform(*self.goal_range))
        d = self.data
        self.hand.apply(d, action)
        held = step_holding(self.model, d, self.frame_skip)
        self.steps += 1
        obs = self._obs()
        err = abs(obs["achieved_goal"][0] - self.goal[0])
        self.within = self.within + 1 if err < self.tolerance else 0
        success = held and self.within >= self.hold_steps
        info = {"is_success": success, "dropped": not held, "error": err}
        reward = float(self.compute_reward(obs["achieved_goal"], self.goal, info))
        return obs, reward, not held, self.steps >= self.max_steps, info

    def compute_reward(self, achieved_goal, desired_goal, info):
        """Dense, and a function of the goals alone (so HER can relabel): -|opening error| / range
        (times reward_scale: SAC's entropy bonus must not drown errors of a few hundredths)."""
        err = np.abs(np.asarray(achieved_goal)[..., 0] - np.asarray(desired_goal)[..., 0])
        return -self.reward_scale * err / OPEN_ANGLE
