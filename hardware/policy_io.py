"""Policy vectors <-> robot quantities, one class per observation layout and command type.

Observation layouts rebuild, from the latest topic values, exactly the vector the policy was
trained on; command mappings turn a policy action into limited robot commands. Pure numpy:
the nodes feed them, the tests check them without ROS.
"""
from __future__ import annotations

import numpy as np

from hardware.profile import RobotProfile
from hardware.safety import JointLimiter, TwistLimiter


def pose_vector(position, quat_wxyz) -> np.ndarray:
    """Meta-World's 7-d object entry: position then quaternion in MuJoCo's (w, x, y, z) order."""
    return np.concatenate([np.asarray(position, dtype=np.float64), np.asarray(quat_wxyz, dtype=np.float64)])


class MetaWorldObservation:
    """Meta-World's 39-d observation: [hand xyz, gripper opening, obj0 pose (7), obj1 pose (7)]
    for this step and the previous step (18 + 18), then the goal xyz."""

    size = 39

    def __init__(self, profile: RobotProfile):
        g = profile.observation.gripper
        self.closed, self.span = g.closed, g.open - g.closed
        self.prev: np.ndarray | None = None

    def current(self, ee_xyz, gripper_joint: float, obj0: np.ndarray, obj1: np.ndarray) -> np.ndarray:
        opening = float(np.clip((gripper_joint - self.closed) / self.span, 0.0, 1.0))
        return np.concatenate([np.asarray(ee_xyz, dtype=np.float64), [opening], obj0, obj1])

    def reset(self) -> None:
        """A new episode: the first observation's 'previous frame' is itself (as in Meta-World)."""
        self.prev = None

    def build(self, current: np.ndarray, goal_xyz) -> np.ndarray:
        """The observation for this step; advances the previous-frame memory."""
        prev = current if self.prev is None else self.prev
        self.prev = current
        return np.concatenate([current, prev, np.asarray(goal_xyz, dtype=np.float64)])


class JointStateObservation:
    """[q (policy order), qd if configured, last commanded targets if configured, tool joint
    positions then velocities if any, goal vector if configured].

    Goal-conditioned policies (SB3 dict observations, as HER trains them) get the same numbers as
    {observation: all but the goal, achieved_goal: the tool joints' positions, desired_goal: goal}
    (`goal_dict`): e.g. the tweezer low level, whose goal is the tool's opening."""

    def __init__(self, profile: RobotProfile):
        o = profile.observation
        self.velocity, self.targets, self.tools = o.include_velocity, o.include_targets, len(o.tool_joints)
        self.goal_size = o.goal_size
        n = len(profile.joints)
        self.size = n * (1 + self.velocity + self.targets) + 2 * self.tools + self.goal_size
        self.tool_at = n * (1 + self.velocity + self.targets)  # where the tool positions start

    def reset(self) -> None:
        pass

    def build(self, q: np.ndarray, qd: np.ndarray, goal: np.ndarray | None, targets: np.ndarray | None = None,
              tool_q: np.ndarray | None = None, tool_qd: np.ndarray | None = None) -> np.ndarray:
        parts = [q] + ([qd] if self.velocity else [])
        if self.targets:
            parts.append(np.asarray(targets, dtype=np.float64))
        if self.tools:
            parts += [np.asarray(tool_q, dtype=np.float64), np.asarray(tool_qd, dtype=np.float64)]
        if self.goal_size:
            goal = np.asarray(goal, dtype=np.float64)
            if goal.shape != (self.goal_size,):
                raise ValueError(f"goal of shape {goal.shape}, profile expects ({self.goal_size},)")
            parts.append(goal)
        return np.concatenate(parts)

    def goal_dict(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        if not (self.tools and self.goal_size):
            raise ValueError("a goal-conditioned policy needs a profile with tool_joints (achieved goal) and a goal")
        n = self.size - self.goal_size
        return {"observation": obs[:n], "achieved_goal": obs[self.tool_at:self.tool_at + self.tools],
                "desired_goal": obs[n:]}


class TwistCommand:
    """A Meta-World action (dx, dy, dz, grip) -> limited EE velocity (m/s) and gripper command."""

    action_size = 4

    def __init__(self, profile: RobotProfile):
        self.scale = profile.command.action_scale / profile.period  # action unit -> m/s
        self.limiter = TwistLimiter(profile)

    def reset(self, gripper: float | None = None) -> None:
        self.limiter.reset(gripper)

    def __call__(self, action: np.ndarray, ee_xyz: np.ndarray) -> tuple[np.ndarray, float]:
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape != (4,):
            return self.limiter.hold()
        return self.limiter.limit(action[:3] * self.scale, float(action[3]), ee_xyz)

    def hold(self) -> tuple[np.ndarray, float]:
        return self.limiter.hold()


class JointCommand:
    """An action in [-1, 1]^n -> limited joint targets: absolute (spanning each joint's range)
    or delta (a fraction of the per-step velocity limit), both in policy order."""

    def __init__(self, profile: RobotProfile):
        self.mode = profile.command.mode
        self.lower, self.upper = profile.lower, profile.upper
        self.action_size = len(profile.joints)
        self.limiter = JointLimiter(profile)

    def reset(self, q_measured: np.ndarray) -> np.ndarray:
        return self.limiter.reset(q_measured)

    def target(self, action: np.ndarray) -> np.ndarray:
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape != (self.action_size,):
            return self.limiter.hold()
        if self.mode == "absolute":
            return self.lower + (np.clip(a, -1, 1) + 1) / 2 * (self.upper - self.lower)
        return self.limiter.hold() + np.clip(a, -1, 1) * self.limiter.max_step

    def __call__(self, action: np.ndarray) -> np.ndarray:
        return self.limiter.limit(self.target(action))

    def toward(self, goal: np.ndarray, speed: float) -> np.ndarray:
        """One limited step toward `goal` at `speed` x the velocity limit (the move to start)."""
        prev = self.limiter.hold()
        step = self.limiter.max_step * speed
        return self.limiter.limit(prev + np.clip(np.asarray(goal) - prev, -step, step))

    def hold(self) -> np.ndarray:
        return self.limiter.hold()


def joint_action_from_targets(profile: RobotProfile, q_target: np.ndarray) -> np.ndarray:
    """The absolute-mode action that commands `q_target` (inverse of JointCommand.target)."""
    return np.clip(2 * (np.asarray(q_target) - profile.lower) / (profile.upper - profile.lower) - 1, -1, 1)
