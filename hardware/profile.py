"""Robot profiles: how a policy's vectors map onto one robot's topics, joints and limits.

A profile is a YAML file in configs/robot/ (or any path). It makes explicit what peers leave
implicit: the joint order the policy was trained in (`joints`, simulator order) versus the
order the robot's controller expects (`command.command_order`), every limit the node enforces,
and which topics feed each part of the observation. Loading validates everything up front so
a typo fails at start-up with the offending key, not mid-motion.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import yaml

PROFILE_DIR = Path(__file__).resolve().parents[1] / "configs" / "robot"
LAYOUTS = ("metaworld", "joint_state")
COMMAND_TYPES = ("cartesian_twist", "joint_position")
JOINT_INTERFACES = ("float64_multi_array", "joint_trajectory")


class ProfileError(ValueError):
    """A robot profile that cannot be used as written."""


@dataclass(frozen=True)
class Joint:
    name: str  # the robot's joint name (JointState.name, controller joints)
    sim: str  # the simulator's joint name (the policy's training environment)
    lower: float
    upper: float
    max_velocity: float  # rad/s (or m/s for prismatic joints)


@dataclass(frozen=True)
class Gripper:
    """Normalised opening in [0, 1] read from one JointState entry (Meta-World's obs[3])."""

    joint: str
    closed: float
    open: float


@dataclass(frozen=True)
class Observation:
    layout: str  # metaworld | joint_state
    state_topic: str = "/joint_states"
    ee_pose_topic: str | None = None
    gripper: Gripper | None = None
    object_topics: tuple[str, ...] = ()
    goal_topic: str | None = None  # PoseStamped (metaworld) or Float64MultiArray (joint_state)
    goal_size: int = 0
    include_velocity: bool = False
    include_targets: bool = False  # joint_state: append the last commanded joint targets (policy order)
    # joint_state: JointState entries of a held tool (not commanded: sensed, e.g. a tweezer hinge),
    # appended as positions then velocities; a goal-conditioned policy's achieved goal
    tool_joints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    type: str  # cartesian_twist | joint_position
    topic: str
    # cartesian_twist: policy action[:3] * action_scale = metres per control step
    frame_id: str = "base"
    action_scale: float = 0.01
    max_linear_velocity: float = 1.0  # m/s, per axis
    max_linear_change: float = 1.0  # m/s per control step, per axis
    workspace_lower: tuple[float, ...] = ()
    workspace_upper: tuple[float, ...] = ()
    gripper_topic: str | None = None
    gripper_min: float = -1.0
    gripper_max: float = 1.0
    gripper_max_change: float = 2.0  # per control step
    # joint_position
    interface: str = "float64_multi_array"
    mode: str = "absolute"  # absolute: action in [-1, 1] spans [lower, upper]; delta: action * max step
    command_order: tuple[str, ...] = ()  # robot joint names in the controller's order
    trajectory_time_s: float = 0.0  # time_from_start of the one JointTrajectory point (0 = one period)


@dataclass(frozen=True)
class RobotProfile:
    name: str
    joints: tuple[Joint, ...]
    observation: Observation
    command: Command
    rate_hz: float = 50.0
    watchdog_s: float = 0.1  # any required input older than this -> hold
    state_tolerance: float = 0.05  # how far past a joint limit a measurement may be before it is refused
    start_pose: tuple[float, ...] = ()  # joints (policy order) or EE xyz (cartesian); empty = start where it is
    start_tolerance: float = 0.01  # measured distance to start_pose that counts as there
    start_timeout_s: float = 5.0  # start pose commanded but not reached in this time: the episode ends
    start_speed: float = 0.25  # fraction of max velocity for the move to the start pose
    source: str = ""

    @property
    def joint_names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def lower(self) -> np.ndarray:
        return np.array([j.lower for j in self.joints])

    @property
    def upper(self) -> np.ndarray:
        return np.array([j.upper for j in self.joints])

    @property
    def max_velocity(self) -> np.ndarray:
        return np.array([j.max_velocity for j in self.joints])

    @property
    def period(self) -> float:
        return 1.0 / self.rate_hz

    def command_permutation(self) -> np.ndarray:
        """Indices that take a policy-order joint vector to the controller's order."""
        order = self.command.command_order or tuple(self.joint_names)
        index = {n: i for i, n in enumerate(self.joint_names)}
        return np.array([index[n] for n in order])

    def to_policy_order(self, values_in_command_order) -> np.ndarray:
        """A joint vector in the controller's order -> the policy's (simulator's) order."""
        return np.asarray(values_in_command_order)[np.argsort(self.command_permutation())]

    @property
    def action_per_twist(self) -> float:
        """Cartesian policy action units per m/s of end-effector velocity (inverse of the command)."""
        return self.period / self.command.action_scale


def _build(cls, raw, where: str, nested: dict | None = None):
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: expected a mapping, got {type(raw).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {unknown}; valid: {sorted(names)}")
    kwargs = {}
    for f in fields(cls):
        if f.name not in raw:
            continue
        value = raw[f.name]
        if nested and f.name in nested and value is not None:
            value = nested[f.name](value, f"{where}.{f.name}")
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ProfileError(f"{where}: {exc}") from exc


def _numbers(p: RobotProfile, where: str) -> None:
    """Every numeric setting a finite number, with the sign its meaning needs."""
    c = p.command
    checks = [("rate_hz", p.rate_hz, ">0"), ("watchdog_s", p.watchdog_s, ">0"), ("state_tolerance", p.state_tolerance, ">=0"),
              ("start_tolerance", p.start_tolerance, ">=0"), ("start_timeout_s", p.start_timeout_s, ">0"),
              ("start_speed", p.start_speed, ">0"), ("command.action_scale", c.action_scale, ">0"),
              ("command.max_linear_velocity", c.max_linear_velocity, ">0"),
              ("command.max_linear_change", c.max_linear_change, ">0"),
              ("command.gripper_min", c.gripper_min, "any"), ("command.gripper_max", c.gripper_max, "any"),
              ("command.gripper_max_change", c.gripper_max_change, ">0"),
              ("command.trajectory_time_s", c.trajectory_time_s, ">=0")]
    for i, j in enumerate(p.joints):
        checks += [(f"joints[{i}] ({j.name}).lower", j.lower, "any"), (f"joints[{i}] ({j.name}).upper", j.upper, "any"),
                   (f"joints[{i}] ({j.name}).max_velocity", j.max_velocity, ">0")]
    checks += [(f"command.workspace_lower[{i}]", v, "any") for i, v in enumerate(c.workspace_lower)]
    checks += [(f"command.workspace_upper[{i}]", v, "any") for i, v in enumerate(c.workspace_upper)]
    checks += [(f"start_pose[{i}]", v, "any") for i, v in enumerate(p.start_pose)]
    for key, value, sign in checks:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
        if not ok or (sign == ">0" and value <= 0) or (sign == ">=0" and value < 0):
            want = {"any": "a finite number", ">0": "a finite number > 0", ">=0": "a finite number >= 0"}[sign]
            raise ProfileError(f"{where}: {key} = {value!r}; must be {want}")
    if not c.gripper_min < c.gripper_max:
        raise ProfileError(f"{where}: command.gripper_min {c.gripper_min} must be below gripper_max {c.gripper_max}")


def _validate(p: RobotProfile) -> None:
    where = p.source or p.name
    _numbers(p, where)
    if not p.joints:
        raise ProfileError(f"{where}: no joints")
    names = p.joint_names
    if len(set(names)) != len(names):
        raise ProfileError(f"{where}: duplicate joint names {names}")
    for j in p.joints:
        if not j.lower < j.upper:
            raise ProfileError(f"{where}: joint {j.name}: lower {j.lower} must be below upper {j.upper}")
    o, c = p.observation, p.command
    if o.layout not in LAYOUTS:
        raise ProfileError(f"{where}: observation.layout {o.layout!r} not in {LAYOUTS}")
    if c.type not in COMMAND_TYPES:
        raise ProfileError(f"{where}: command.type {c.type!r} not in {COMMAND_TYPES}")
    if o.layout == "metaworld":
        if not (o.ee_pose_topic and o.gripper and o.goal_topic) or len(o.object_topics) != 2:
            raise ProfileError(f"{where}: the metaworld layout needs ee_pose_topic, gripper, goal_topic and 2 object_topics")
        if o.gripper.joint in names or o.gripper.open == o.gripper.closed:
            raise ProfileError(f"{where}: gripper joint must be separate from the arm joints, open != closed")
    if o.layout != "joint_state" and (o.include_targets or o.tool_joints):
        raise ProfileError(f"{where}: include_targets and tool_joints belong to the joint_state layout")
    if set(o.tool_joints) & set(names) or len(set(o.tool_joints)) != len(o.tool_joints):
        raise ProfileError(f"{where}: tool_joints must be distinct and not among the commanded joints")
    if c.type == "cartesian_twist":
        if len(c.workspace_lower) != 3 or len(c.workspace_upper) != 3:
            raise ProfileError(f"{where}: cartesian_twist needs 3-d workspace_lower/upper")
        if not np.all(np.array(c.workspace_lower) < np.array(c.workspace_upper)):
            raise ProfileError(f"{where}: workspace_lower must be below workspace_upper")
        if c.action_scale <= 0 or c.max_linear_velocity <= 0 or c.max_linear_change <= 0:
            raise ProfileError(f"{where}: action_scale, max_linear_velocity, max_linear_change must be positive")
        if p.start_pose and len(p.start_pose) != 3:
            raise ProfileError(f"{where}: a cartesian start_pose is an EE position (3 numbers)")
    else:
        if c.interface not in JOINT_INTERFACES:
            raise ProfileError(f"{where}: command.interface {c.interface!r} not in {JOINT_INTERFACES}")
        if c.mode not in ("absolute", "delta"):
            raise ProfileError(f"{where}: command.mode must be absolute or delta")
        if c.command_order and sorted(c.command_order) != sorted(names):
            raise ProfileError(f"{where}: command_order must list exactly the joints {sorted(names)}")
        if p.start_pose:
            if len(p.start_pose) != len(names):
                raise ProfileError(f"{where}: start_pose has {len(p.start_pose)} values for {len(names)} joints")
            if np.any(np.array(p.start_pose) < p.lower) or np.any(np.array(p.start_pose) > p.upper):
                raise ProfileError(f"{where}: start_pose lies outside the joint limits")


def profile_from_dict(raw: dict, source: str = "") -> RobotProfile:
    nested = {
        "joints": lambda v, w: tuple(_build(Joint, j, f"{w}[{i}]") for i, j in enumerate(v)),
        "observation": lambda v, w: _build(Observation, v, w, {"gripper": lambda g, w2: _build(Gripper, g, w2)}),
        "command": lambda v, w: _build(Command, v, w),
    }
    raw = dict(raw)
    raw.setdefault("source", source)
    for key in ("name", "joints", "observation", "command"):
        if key not in raw:
            raise ProfileError(f"{source or 'profile'}: missing key {key!r}")
    profile = _build(RobotProfile, raw, source or "profile", nested)
    _validate(profile)
    return profile


def load_profile(name_or_path: str | Path) -> RobotProfile:
    """A profile by name (configs/robot/<name>.yaml) or by path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = PROFILE_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
        raise ProfileError(f"robot profile {name_or_path!r} not found; known profiles: {known} (or pass a path)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({exc})") from exc
    return profile_from_dict(raw, str(path))
