"""Safety that lives in the node, because forward_command_controller has none.

Every command passes a limiter before it is published. A limiter keeps the last command it
let through and guarantees, whatever the policy outputs (NaN, inf, huge values):
- the command is finite and inside the profile's hard limits (joint range, workspace, gripper
  range) -- always;
- it changes by at most the per-step limit from the previous command -- whenever that is
  compatible with the hard limits (a hard limit wins over smoothness, never the reverse).
Inputs are checked too: a JointState that is malformed, out of range, non-finite or older than
the last one accepted is refused with a reason, and the watchdog holds when inputs go stale.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hardware.profile import RobotProfile


class InputRejected(ValueError):
    """An input message the node refuses to act on; the message says why, `kind` says what class
    of fault (so logs can be rate-limited per kind without hiding a new kind of fault)."""

    def __init__(self, message: str, kind: str = "invalid"):
        super().__init__(message)
        self.kind = kind


def _clip_between(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, lo), hi)


def check_joint_state(profile: RobotProfile, names: Sequence[str], position: Sequence[float],
                      velocity: Sequence[float] = (), extra: Sequence[str] = (),
                      extra_velocity: bool = False) -> tuple[np.ndarray, np.ndarray, dict]:
    """JointState fields -> (q, qd) in the policy's joint order, plus `extra` joints by name
    (their position, or (position, velocity) with `extra_velocity`).

    Reorders by name (controllers publish in their own order); refuses duplicate or missing
    names, arrays whose lengths disagree with `name`, non-finite values, and positions further
    than `state_tolerance` outside a joint's limits.
    """
    names = list(names)
    if len(position) != len(names):
        raise InputRejected(f"JointState has {len(names)} names but {len(position)} positions", "length")
    if len(velocity) not in (0, len(names)):
        raise InputRejected(f"JointState has {len(names)} names but {len(velocity)} velocities", "length")
    if len(set(names)) != len(names):
        raise InputRejected(f"JointState repeats joint names: {sorted(n for n in set(names) if names.count(n) > 1)}", "duplicate")
    index = {n: i for i, n in enumerate(names)}
    wanted = profile.joint_names + list(extra)
    missing = [n for n in wanted if n not in index]
    if missing:
        raise InputRejected(f"JointState lacks joint(s) {missing}", "missing")
    pos = np.asarray(position, dtype=np.float64)
    vel = np.asarray(velocity, dtype=np.float64) if len(velocity) else np.zeros(len(names))
    order = np.array([index[n] for n in profile.joint_names])
    q, qd = pos[order], vel[order]
    if not (np.all(np.isfinite(q)) and np.all(np.isfinite(qd))):
        bad = [profile.joint_names[i] for i in np.nonzero(~(np.isfinite(q) & np.isfinite(qd)))[0]]
        raise InputRejected(f"non-finite JointState values for {bad}", "non-finite")
    tol = profile.state_tolerance
    out = (q < profile.lower - tol) | (q > profile.upper + tol)
    if np.any(out):
        i = int(np.nonzero(out)[0][0])
        j = profile.joints[i]
        raise InputRejected(f"joint {j.name} at {q[i]:.4f} is outside [{j.lower}, {j.upper}] (+-{tol})", "range")
    extras = {}
    for n in extra:
        v, w = float(pos[index[n]]), float(vel[index[n]])
        if not (np.isfinite(v) and np.isfinite(w)):
            raise InputRejected(f"non-finite JointState value for {n}", "non-finite")
        extras[n] = (v, w) if extra_velocity else v
    return q, qd, extras


class JointLimiter:
    """Joint position commands within [lower, upper] moving at most max_velocity * period per step."""

    def __init__(self, profile: RobotProfile):
        self.lower, self.upper = profile.lower, profile.upper
        self.max_step = profile.max_velocity * profile.period
        self.last: np.ndarray | None = None

    def reset(self, q_measured: np.ndarray) -> np.ndarray:
        """Start from the measured position (clipped into range): the hold command."""
        self.last = _clip_between(np.asarray(q_measured, dtype=np.float64), self.lower, self.upper)
        return self.last.copy()

    def hold(self) -> np.ndarray:
        if self.last is None:
            raise RuntimeError("JointLimiter.reset(q) before the first command")
        return self.last.copy()

    def limit(self, target: np.ndarray) -> np.ndarray:
        prev = self.hold()
        target = np.asarray(target, dtype=np.float64)
        if target.shape != prev.shape:
            raise ValueError(f"joint target of shape {target.shape}, expected {prev.shape}")
        target = np.where(np.isfinite(target), target, prev)  # a NaN joint holds, the others move
        cmd = _clip_between(_clip_between(target, prev - self.max_step, prev + self.max_step), self.lower, self.upper)
        self.last = cmd
        return cmd.copy()


class TwistLimiter:
    """End-effector velocity within +-max_linear_velocity, changing at most max_linear_change per
    step, never carrying the EE further outside the workspace box in one control period."""

    def __init__(self, profile: RobotProfile):
        c = profile.command
        self.vmax, self.dv, self.period = c.max_linear_velocity, c.max_linear_change, profile.period
        self.lo, self.hi = np.array(c.workspace_lower), np.array(c.workspace_upper)
        self.gmin, self.gmax, self.dg = c.gripper_min, c.gripper_max, c.gripper_max_change
        self.last_v = np.zeros(3)
        self.last_g = 0.0

    def reset(self, gripper: float | None = None) -> None:
        self.last_v = np.zeros(3)
        if gripper is not None and np.isfinite(gripper):
            self.last_g = float(np.clip(gripper, self.gmin, self.gmax))

    def safe_interval(self, ee: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Velocities that keep the EE inside the workspace after one period (0 always allowed)."""
        lo = np.minimum((self.lo - ee) / self.period, 0.0)
        hi = np.maximum((self.hi - ee) / self.period, 0.0)
        return np.maximum(lo, -self.vmax), np.minimum(hi, self.vmax)

    def limit(self, v: np.ndarray, gripper: float, ee: np.ndarray) -> tuple[np.ndarray, float]:
        v = np.asarray(v, dtype=np.float64)
        ee = np.asarray(ee, dtype=np.float64)
        if v.shape != (3,) or not np.all(np.isfinite(v)):
            v = np.zeros(3)  # no trustworthy velocity: stop
        lo, hi = self.safe_interval(ee)
        v = _clip_between(_clip_between(v, self.last_v - self.dv, self.last_v + self.dv), lo, hi)
        g = float(gripper) if np.isfinite(gripper) else self.last_g  # keep holding what it holds
        g = float(np.clip(np.clip(g, self.last_g - self.dg, self.last_g + self.dg), self.gmin, self.gmax))
        self.last_v, self.last_g = v, g
        return v.copy(), g

    def hold(self) -> tuple[np.ndarray, float]:
        """Stop moving, keep the gripper command (dropping the object is not 'safe')."""
        self.last_v = np.zeros(3)
        return np.zeros(3), self.last_g


class Watchdog:
    """Which required inputs are stale: never received, or older than `timeout` seconds."""

    def __init__(self, names: Sequence[str], timeout: float):
        self.timeout = float(timeout)
        self.last = {n: None for n in names}

    def feed(self, name: str, now: float) -> None:
        self.last[name] = now

    def stale(self, now: float) -> list[str]:
        return [n for n, t in self.last.items() if t is None or now - t > self.timeout]
