"""The high-level task: pick an object off the table with the tweezers.

One high-level step (0.2 s) names a waypoint for the rear tip and a tool opening: the arm's
targets move toward the waypoint by at most 1 cm per axis, and the low-level controller
(`OpeningPController` by default) drives the fingers toward the opening for 5 low-level steps.

Both halves of the action are expressed in what the robot perceived, so one action means the
same thing for every object: the waypoint is relative to the object's *anchor* (up to `REACH`
per axis): its centroid in x, its near face in y (the side the rear tip goes behind; the tips
close along y), its centre height in z. With an affordance encoder the opening is anchored to
its estimate: -1 squeezes (the estimated contact opening less `SQUEEZE`), +1 straddles (the
estimated approach opening), each widened by `MARGIN` so a privileged demonstrator can still
command the true openings when the estimate is off; without one, [-1, 1] spans [0, OPEN_ANGLE].
The object (shape, size, aspect, yaw, a small offset) is drawn at each reset from
`ObjectDistribution`.

Observation (what a learned high level may read; object-centric, so nothing in it names where
the object stands or how big it is beyond what the action needs): the tool opening in the
action's anchored units (so "open to straddle" and "squeezed past contact" read the same for
every object, as the demonstrator's decisions do), both tips
relative to the anchor (6), the object's top above the anchor (its half-height, from the depth
cloud: how high to line up), and how far its visible centroid (x, y) and top moved since reset
(3), from the same cameras looking again after every step (whether it rose with the tips or was
nudged; the anchor itself stays where the object was first seen). The object's size reaches
the policy through the anchors alone: with absolute positions and the encoder's estimates in
the observation as well, clones generalized worse to held-out sizes (the network extrapolated
from inputs it had never seen). The anchor comes from the depth point
cloud at reset: x, y from the visible points, the centre's height halfway between the top and
the known table plane (the cameras never see a rounded object's underside; its lowest visible
point put the squeeze above a sphere's equator). Success: the object's centre 4 cm above where
it rested, the tool still held.
"""
from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import mujoco
import numpy as np

from envs.tweezers.point_cloud import ObjectCameras, centre_footprint
from envs.tweezers.scene import (
    OPEN_ANGLE,
    TABLE_TOP,
    ObjectSpec,
    build_model,
    opening,
    place_tool_in_hand,
    step_holding,
)
from envs.tweezers.opening_controller import OpeningPController
from envs.tweezers.tool_env import FingerInterface
from envs.tweezers.tool_geometry import openings_for

ARM = ("ARTx", "ARTy", "ARTz")
ARM_SIGN = np.array([-1.0, 1.0, 1.0])  # world (x, z, y) per unit of ARTx, ARTy, ARTz
LIFT = 0.04
REACH = 0.08  # m: waypoint range per axis around the object's anchor (action +-1)
STEP = 0.01  # m: the most the arm's targets move per axis in one step
TASK_VERSION = 7  # bump when observations or actions change meaning: saved demos are then recollected
SQUEEZE = 0.05  # rad: the grip commands this far past the contact opening
MARGIN = 0.03  # rad: the anchored opening range reaches this far past the estimate (~3x its held-out error)
BEHIND = 0.004  # m: the rear tip's place behind the object's near face


def opening_range(afford: np.ndarray | None) -> tuple[float, float]:
    """The openings that actions -1 and +1 stand for (see the module docstring). For a small
    object -1 lies below closed: the range is not clipped there, so "squeeze past contact" is the
    same action for every size (clipping it made that action depend on the size, which clones
    could not extrapolate); `opening_command` clips what is commanded."""
    if afford is None or not np.any(afford):
        return 0.0, OPEN_ANGLE
    approach, contact = float(afford[0]), float(afford[1])
    return contact - SQUEEZE - MARGIN, approach + MARGIN


def opening_command(a: float, afford: np.ndarray | None = None) -> float:
    """The tool opening an action's opening entry commands (nothing past closed)."""
    lo, hi = opening_range(afford)
    return max(0.0, lo + (a + 1) / 2 * (hi - lo))


def opening_action(goal: float, afford: np.ndarray | None = None) -> float:
    """The action entry that commands opening `goal` (the inverse of `opening_command`)."""
    lo, hi = opening_range(afford)
    return 2 * (goal - lo) / (hi - lo) - 1


def straddles(obj: ObjectSpec) -> bool:
    """Whether the open tool spans the object with clearance on both sides (its approach opening
    exists): a box turned corner-on to the tips can be wider than the tweezers' 3.8 cm reach,
    and no policy picks that."""

    return bool(np.isfinite(openings_for(obj.extent_y())[0]))


@dataclass(frozen=True)
class ObjectDistribution:
    """Objects of these shapes and widths at a random aspect, yaw and offset; only objects the
    tool can straddle are drawn (`straddles`)."""

    shapes: tuple[str, ...] = ("box", "cylinder")
    widths: tuple[float, float] = (0.01, 0.022)
    aspects: tuple[float, float] = (1.0, 1.3)
    offset: float = 0.02  # m, uniform in x and y around the nominal place

    def draw(self, rng: np.random.Generator) -> tuple[ObjectSpec, np.ndarray]:
        for _ in range(1000):
            obj = ObjectSpec(str(rng.choice(self.shapes)), float(rng.uniform(*self.widths)),
                             float(rng.uniform(*self.aspects)), float(rng.uniform(0, np.pi)))
            if straddles(obj):
                return obj, rng.uniform(-self.offset, self.offset, 2)
        raise ValueError(f"{self}: the tweezers straddle none of its objects (at most ~3.2 cm across, with clearance)")


class TweezerPickEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, objects: ObjectDistribution = ObjectDistribution(), max_steps: int = 40,
                 low_level=None, affordance=None, low_steps: int = 5, frame_skip: int = 20):
        self.objects, self.max_steps, self.low_steps, self.frame_skip = objects, max_steps, low_steps, frame_skip
        self.low_level = low_level or OpeningPController()
        self.affordance = affordance  # callable(points (N, 3)) -> (approach, contact, extent), or None
        self.action_space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (11,), np.float32)
        self.model = None
        self.cameras = None
        self.on_inner_step = None

    # -------------------------------------------------------------- helpers
    def _run(self, n: int) -> None:
        self.held = step_holding(self.model, self.data, n) and self.held

    def _drive_hand(self, a: np.ndarray) -> None:
        """The hand's part of an action: a goal opening for the low level, which runs `low_steps`
        steps toward it on the same observation and action it was trained with."""
        goal = opening_command(a[0], self.afford)
        for _ in range(self.low_steps):
            self.hand.apply(self.data, self.low_level(self.hand.observe(self.data, goal)))
            self._inner_step()

    def _inner_step(self) -> None:
        """One low-level period of physics; `on_inner_step(env)`, when set, sees every one (videos)."""
        self._run(self.frame_skip)
        if self.on_inner_step is not None:
            self.on_inner_step(self)

    def tips(self) -> tuple[np.ndarray, np.ndarray]:
        return self.data.site("tw_lower_tip").xpos.copy(), self.data.site("tw_upper_tip").xpos.copy()

    def _obs(self) -> np.ndarray:
        rear, front = self.tips()
        return np.concatenate([[opening_action(opening(self.data), self.afford)], rear - self.anchor, front - self.anchor,
                               [self.seen[3] - self.anchor[2]], self.moved]).astype(np.float32)

    def _track(self) -> None:
        """Look again: how far the object's visible centroid (x, y) and top moved since reset. It
        tells a learner whether the object rose with the tips or was nudged (a hidden object
        keeps the last reading)."""
        pts = self.cameras.points(self.data)
        if len(pts):
            self.moved = np.array([*(pts[:, :2].mean(0) - self.seen[:2]), pts[:, 2].max() - self.seen[3]])

    def _perceive(self) -> None:
        """The object's centroid and top from the depth cameras (what a robot would have)."""
        pts = self.cameras.points(self.data)
        self.moved = np.zeros(3)
        top = pts[:, 2].max() if len(pts) else TABLE_TOP
        self.seen = np.array([*pts[:, :2].mean(0), (top + TABLE_TOP) / 2, top]) if len(pts) else np.zeros(4)
        self.anchor = np.array([self.seen[0], self.cameras.near_face_y(pts) if len(pts) else 0.0, self.seen[2]])
        if self.affordance is not None and len(pts):
            self.afford = np.asarray(self.affordance(centre_footprint(pts)), dtype=np.float64)
        else:
            self.afford = np.zeros(3)

    # -------------------------------------------------------------- gym API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.obj, offset = (options or {}).get("object") or self.objects.draw(self.np_random)
        m = self.model = build_model(self.obj)
        d = self.data = mujoco.MjData(m)
        self.arm = np.array([m.actuator(f"A_{j}").id for j in ARM])
        self.arm_q = np.array([m.jnt_qposadr[m.joint(j).id] for j in ARM])
        self.hand = FingerInterface(m)
        self.arm_lo, self.arm_hi = m.actuator_ctrlrange[self.arm].T
        obj_adr = m.jnt_qposadr[m.joint("object_free").id]
        d.qpos[obj_adr:obj_adr + 2] += offset
        d.qpos[self.arm_q[1]] = d.ctrl[self.arm[1]] = 0.12
        place_tool_in_hand(m, d)
        self.held = True
        self._run(100)
        self.rest_z = float(d.body("object").xpos[2])
        self.close()
        self.cameras = ObjectCameras(m)
        self._perceive()
        self.steps = 0
        return self._obs(), {"object": self.obj, "is_success": False}

    def step(self, action):
        a = np.clip(np.nan_to_num(np.asarray(action, dtype=np.float64)), -1, 1)
        d = self.data
        move = np.clip(self.anchor + REACH * a[:3] - self.tips()[0], -STEP, STEP)  # toward the waypoint
        # world (dx, dy, dz) -> arm targets (ARTx = -x, ARTy = z, ARTz = y)
        delta = np.array([move[0], move[2], move[1]]) * ARM_SIGN
        d.ctrl[self.arm] = np.clip(d.ctrl[self.arm] + delta, self.arm_lo, self.arm_hi)
        self._drive_hand(a[3:])
        self._track()
        self.steps += 1
        lifted = float(d.body("object").xpos[2]) - self.rest_z
        success = self.held and lifted > LIFT
        reward = float(success) + 0.0
        info = {"is_success": success, "lifted": lifted, "dropped": not self.held}
        return self._obs(), reward, not self.held, self.steps >= self.max_steps, info

    def close(self) -> None:
        if self.cameras is not None:
            self.cameras.close()
            self.cameras = None


class PickHeuristic:
    """The demonstrator: open to the approach opening, put the rear tip just behind the object,
    descend to its middle, squeeze past the contact opening, lift straight up. Its waypoints and
    openings are expressed, like any action, relative to what the robot perceived (anchor,
    affordance estimate).

    Each phase is read off the current state alone (where the tips are, the opening, whether the
    object rose), never from the history: a learner that drifts off the demonstrated path (closes
    early in the air, descends beside the object) is told how to recover, so the same heuristic
    labels its states for DAgger.

    `privileged=True` reads the simulator: the object's true pose, its true size (hence the true
    openings) and its true rise. `privileged=False` (what seeds and labels the learners) reads
    only what the learned policy perceives: the anchor, the affordance estimate and the tracked
    rise of the object's visible top. Both act the same way; the perceived one's decisions are a
    function of the learner's own observation, so a clone can follow them (the privileged one's
    clone could not: its phase switches hinged on millimetres the cameras do not resolve).
    """

    def __init__(self, env: TweezerPickEnv, privileged: bool = False):
        self.env, self.privileged = env, privileged

    def _read(self) -> tuple[np.ndarray, float, float, float, float, float]:
        """(where the rear tip goes behind the object (x, y), the object's centre height now and at
        rest, approach and contact openings, how far the object has risen)."""
        env = self.env
        if self.privileged:
            approach, contact = openings_for(env.obj.extent_y())
            p = env.data.body("object").xpos
            behind = np.array([p[0], p[1] - env.obj.extent_y() / 2 - BEHIND])
            depth, rest, rise = float(p[2]), env.rest_z, float(p[2]) - env.rest_z
        else:
            approach, contact = env.afford[:2] if np.any(env.afford) else (np.nan, np.nan)
            behind = np.array([env.anchor[0], env.anchor[1] - BEHIND])
            depth = rest = float(env.anchor[2])
            rise = float(env.moved[2])
        approach = OPEN_ANGLE if not np.isfinite(approach) else float(approach)  # too big to straddle: open fully
        contact = 0.0 if not np.isfinite(contact) else float(contact)
        return behind, depth, rest, approach, contact, rise

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        env = self.env
        behind, depth, rest, approach, contact, rise = self._read()
        rear, _ = env.tips()
        op = opening(env.data)
        miss = np.abs(behind - rear[:2]).max()
        at_depth = rear[2] <= depth + 0.002
        is_open = op >= approach - 0.02
        held = not is_open and rise > 0.003  # closed, and the object came up
        squeezed = at_depth and op <= max(contact - 0.03, 0.015)  # closed past contact, or shut on a tiny one
        rising = not is_open and not at_depth and rear[2] < rest + 0.015  # closed just above: a grip not yet seen
        if held or squeezed or rising:
            waypoint, grip = [*rear[:2], rest + LIFT + 0.03], contact - SQUEEZE  # gripped: lift straight up
        elif at_depth and (not is_open or miss <= 0.005):
            waypoint, grip = [*behind, depth], contact - SQUEEZE  # tips around its middle: squeeze (it may slide)
        elif at_depth:
            waypoint, grip = [*rear[:2], env.seen[3] + 0.01], approach  # open beside it: rise clear first
        elif miss <= 0.003 and is_open:
            waypoint, grip = [*behind, depth], approach  # above it and open: descend to its middle
        else:
            waypoint, grip = [*behind, max(rear[2], env.seen[3] + 0.01)], approach  # open, line up above
        a = np.clip((np.asarray(waypoint) - env.anchor) / REACH, -1, 1)
        return np.append(a, np.clip(opening_action(grip, env.afford), -1, 1)).astype(np.float32)
