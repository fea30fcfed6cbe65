"""The scene: the Adroit hand on its arm (gymnasium-robotics' MJCF, Apache-2.0) holding a pair
of tweezers we model, above a table with one object of a given shape and size.

The tweezers: a 12 cm tool of two 8 x 1.5 mm steel-like prongs (about 12 g in all), held
pointing down, as tweezers are held to pick from a table. The rear prong is rigid with the
handle (under the palm, behind the curled index and middle fingers); the front one turns on a
hinge at the handle and a preloaded spring swings it forward to 0.30 rad (a 3.9 cm gap at the
tips, along the world's y axis), as a leaf spring does. Curling the fingers further pushes the
front prong back: finger flexion closes the tool against the spring.
The hold is a weld of the handle to the palm that breaks when the force on it exceeds the
grip's strength (`update_grip`): squeeze the tool into the table or jam it and it drops, as a
real grip gives way.

Collision bits: hand 1/0 (Adroit's), table and object 1/3, lower prong 2/0, upper prong 2/1:
fingers touch only the upper prong, both prongs touch objects and the table, the prongs do not
touch each other (the hinge's range is the closed stop).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import mujoco
import numpy as np

SHAPES = ("box", "sphere", "cylinder", "capsule", "ellipsoid")
PRONG_LENGTH = 0.12
OPEN_ANGLE = 0.30  # rad, fully open (hinge upper limit)
ARM_DROP = 0.07  # the arm mount sits this much lower than Adroit's: its lift joint (0..0.2 m) then
                 # spans tips-on-the-table (0) to well above it
HINGE_POS = np.array([-0.022, -0.18, 0.2 - ARM_DROP - 0.03])  # hinge in the world at the reference pose
TOOL_QUAT = [0.7071068, -0.7071068, 0.0, 0.0]  # tool frame: +y (along the prongs) points down
TABLE_TOP = 0.0


def adroit_xml() -> Path:
    """Adroit's MJCF inside the gymnasium-robotics wheel, found without importing the package
    (its import registers every environment and prints a deprecation notice)."""
    import importlib.util

    spec = importlib.util.find_spec("gymnasium_robotics")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("gymnasium-robotics is not installed: it ships the Adroit hand model")
    return Path(spec.submodule_search_locations[0]) / "envs/assets/adroit_hand/adroit_relocate.xml"


@dataclass(frozen=True)
class ObjectSpec:
    """One object: a primitive of `shape` whose graspable width (across the tweezer tips) is `width` m."""

    shape: str
    width: float
    aspect: float = 1.0  # length / width along the other horizontal axis (boxes, ellipsoids, capsules)
    yaw: float = 0.0  # rotation about the vertical (rad)

    def geom_size(self) -> list[float]:
        r = self.width / 2
        return {
            "box": [r, r * self.aspect, r],
            "sphere": [r, 0, 0],
            "cylinder": [r, r, 0],  # upright: width = diameter, half-height = r
            "capsule": [r, r * self.aspect, 0],  # lying along y
            "ellipsoid": [r, r * self.aspect, r * 0.8],
        }[self.shape]

    def extent_y(self) -> float:
        """The object's extent along the world y axis: what the tweezer tips must span."""
        r, a, c, s = self.width / 2, self.aspect, abs(np.cos(self.yaw)), abs(np.sin(self.yaw))
        return float({
            "box": 2 * (r * s + r * a * c),
            "sphere": 2 * r,
            "cylinder": 2 * r,
            "capsule": 2 * (r * a * c + r),
            "ellipsoid": 2 * np.hypot(r * s, r * a * c),
        }[self.shape])

    def height(self) -> float:
        """Height of the object's centre above the table when resting."""
        return {"box": self.width / 2, "sphere": self.width / 2, "cylinder": self.width / 2,
                "capsule": self.width / 2, "ellipsoid": self.width / 2 * 0.8}[self.shape]


def _add_tweezers(spec: mujoco.MjSpec) -> None:
    world = spec.worldbody
    handle = world.add_body(name="tweezers", pos=HINGE_POS.tolist(), quat=TOOL_QUAT)
    handle.add_freejoint(name="tweezers_free")
    # handle block (held in the hand: no collisions) and the rigid lower prong
    handle.add_geom(name="tw_handle", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.006, 0.012, 0.004],
                    pos=[0, -0.006, 0.0], contype=0, conaffinity=0, mass=0.004, rgba=[0.6, 0.6, 0.65, 1])
    half = PRONG_LENGTH / 2
    handle.add_geom(name="tw_lower", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.004, half, 0.00075],
                    pos=[0, half, -0.004], contype=2, conaffinity=0, mass=0.004, friction=[1.2, 0.01, 0.001],
                    rgba=[0.75, 0.75, 0.8, 1])
    handle.add_site(name="tw_lower_tip", pos=[0, PRONG_LENGTH, -0.004], size=[0.002, 0, 0])
    upper = handle.add_body(name="tweezers_upper", pos=[0, 0, 0.0])
    upper.add_joint(name="tweezers_hinge", type=mujoco.mjtJoint.mjJNT_HINGE, axis=[1, 0, 0], range=[0.0, OPEN_ANGLE],
                    limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                    stiffness=0.5, springref=OPEN_ANGLE + 0.1, damping=0.005, armature=1e-5,
                    solref_limit=[0.004, 1.0])
    # the upper prong rises from the hinge at angle q (rotation about +x lifts +y toward +z)
    upper.add_geom(name="tw_upper", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.004, half, 0.00075],
                   pos=[0, half, 0.0], contype=2, conaffinity=1, mass=0.004, friction=[1.2, 0.01, 0.001],
                   rgba=[0.8, 0.8, 0.85, 1])
    upper.add_site(name="tw_upper_tip", pos=[0, PRONG_LENGTH, 0.0], size=[0.002, 0, 0])
    eq = spec.add_equality(name="grip", type=mujoco.mjtEq.mjEQ_WELD, objtype=mujoco.mjtObj.mjOBJ_BODY,
                           name1="tweezers", name2="palm")
    eq.solref = [0.004, 1.0]
    eq.solimp = [0.99, 0.999, 0.0001, 0.5, 2.0]  # a firm grip: near-hard, unlike the soft default


def _add_object(spec: mujoco.MjSpec, obj: ObjectSpec) -> None:
    body = spec.worldbody.add_body(name="object", pos=[0.0, -0.03, TABLE_TOP + obj.height() + 0.001])
    body.add_freejoint(name="object_free")
    kind = getattr(mujoco.mjtGeom, f"mjGEOM_{obj.shape.upper()}")
    quat = [0.7071068, 0.7071068, 0, 0] if obj.shape == "capsule" else [1, 0, 0, 0]  # capsule lies along y
    body.quat = [np.cos(obj.yaw / 2), 0, 0, np.sin(obj.yaw / 2)]
    body.add_geom(name="object_geom", type=kind, size=obj.geom_size(), quat=quat, density=300.0,
                  contype=1, conaffinity=3, friction=[1.0, 0.01, 0.001], rgba=[0.85, 0.45, 0.2, 1])


def _add_cameras(spec: mujoco.MjSpec) -> None:
    # depth cameras for point clouds: above the table, and from the front-left
    spec.worldbody.add_camera(name="depth_top", pos=[0.0, -0.05, 0.55], quat=[1, 0, 0, 0], fovy=50)
    spec.worldbody.add_camera(name="depth_front", pos=[0.0, 0.35, 0.35], xyaxes=[-1, 0, 0, 0, -0.6, 0.8], fovy=50)
    # for videos: the tips and the object from close by, the side the tips close along
    spec.worldbody.add_camera(name="closeup", pos=[0.16, -0.10, 0.09], xyaxes=_look_at([0.16, -0.10, 0.09], [0.0, -0.03, 0.05]),
                              fovy=40)


def _look_at(pos, target) -> list[float]:
    """xyaxes of a camera at `pos` looking at `target` with world z up in the image."""
    f = np.asarray(target, float) - np.asarray(pos, float)
    f /= np.linalg.norm(f)
    x = np.cross(f, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    return [*x, *np.cross(x, f)]


ARM_JOINTS = ("ARTx", "ARTy", "ARTz", "ARRx", "ARRy", "ARRz")


def _stiffen_arm(spec: mujoco.MjSpec) -> None:
    """A position-controlled arm mount, gravity-compensated like a real arm's controller (Adroit's
    own arm actuators are scaled by its env code; we give them a plain PD law instead)."""
    for body in spec.body("forearm").find_all(mujoco.mjtObj.mjOBJ_BODY) + [spec.body("forearm")]:
        body.gravcomp = 1.0
    for act in spec.actuators:
        if act.name[2:] in ARM_JOINTS:
            kp = 2000.0 if act.name[3] == "T" else 300.0
            act.gainprm[0] = kp
            act.biasprm[0], act.biasprm[1], act.biasprm[2] = 0.0, -kp, -0.1 * kp


@lru_cache(maxsize=32)
def build_model(obj: ObjectSpec) -> mujoco.MjModel:
    """The compiled scene for one object (cached: a reset with a known object costs nothing)."""
    if obj.shape not in SHAPES:
        raise ValueError(f"unknown shape {obj.shape!r}; valid: {SHAPES}")
    if not 0.002 <= obj.width <= 0.06:
        raise ValueError(f"object width {obj.width} m outside [0.002, 0.06]")
    spec = mujoco.MjSpec.from_file(str(adroit_xml()))
    spec.detach_body(spec.body("Object"))
    spec.site("target").rgba = [0, 0, 0, 0]  # relocate's goal marker: not ours
    for geom in spec.body("table").geoms:
        geom.conaffinity = 3 if geom.contype else geom.conaffinity
    forearm = spec.body("forearm")
    forearm.pos = [forearm.pos[0], forearm.pos[1], forearm.pos[2] - ARM_DROP]
    _stiffen_arm(spec)
    _add_tweezers(spec)
    _add_object(spec, obj)
    _add_cameras(spec)
    # flat faces (an upright cylinder's base, the prongs) resting on the table need several contact
    # points: with the single point of plain convex collision a 2 cm cylinder sank 2.3 mm into the
    # table and a 6 mm one fell through it
    spec.option.enableflags |= mujoco.mjtEnableBit.mjENBL_MULTICCD
    model = spec.compile()
    _set_grip_pose(model)
    return model


def _set_grip_pose(model: mujoco.MjModel) -> None:
    """The weld holds the tweezers where they were built, relative to the palm at the reference pose."""
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    palm, tool = model.body("palm").id, model.body("tweezers").id
    # weld data: anchor (3), then the pose of body2 (palm) in body1's (tweezers') frame, torquescale
    rel_pos = data.xmat[tool].reshape(3, 3).T @ (data.xpos[palm] - data.xpos[tool])
    inv = np.empty(4)
    mujoco.mju_negQuat(inv, data.xquat[tool])
    rel_quat = np.empty(4)
    mujoco.mju_mulQuat(rel_quat, inv, data.xquat[palm])
    eq = model.equality("grip").id
    model.eq_data[eq, :11] = np.concatenate([[0, 0, 0], rel_pos, rel_quat, [1.0]])


GRIP_FORCE_LIMIT = 8.0  # N: what the hold of the handle withstands before the tool slips out


def grip_force(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    """The force (N) the hand's hold currently exerts on the tweezers' handle (0 once dropped)."""
    eq = model.equality("grip").id
    rows = (data.efc_type == mujoco.mjtConstraint.mjCNSTR_EQUALITY) & (data.efc_id == eq)
    return float(np.linalg.norm(data.efc_force[rows][:3])) if rows.any() else 0.0


def update_grip(model: mujoco.MjModel, data: mujoco.MjData, limit: float = GRIP_FORCE_LIMIT) -> bool:
    """Call after each step: releases the tool for good once the hold is overloaded; True while held."""
    eq = model.equality("grip").id
    if data.eq_active[eq] and grip_force(model, data) > limit:
        data.eq_active[eq] = 0
    return bool(data.eq_active[eq])


def step_holding(model: mujoco.MjModel, data: mujoco.MjData, steps: int) -> bool:
    """`steps` physics steps, the grip checked after each (`update_grip`); True if the tool was
    held throughout."""
    held = True
    for _ in range(steps):
        mujoco.mj_step(model, data)
        held = update_grip(model, data) and held
    return held


def opening(data: mujoco.MjData) -> float:
    """The tool state: the hinge angle between the prongs (rad, 0 = closed)."""
    return float(data.joint("tweezers_hinge").qpos[0])


def tip_gap(data: mujoco.MjData) -> float:
    """Distance between the prong tips (m): what fits between them."""
    return float(np.linalg.norm(data.site("tw_upper_tip").xpos - data.site("tw_lower_tip").xpos))


def place_tool_in_hand(model: mujoco.MjModel, data: mujoco.MjData) -> None:
    """Put the tweezers where the grip holds them for the hand's current pose (after setting the
    arm's joints directly, e.g. at reset) and re-engage the grip."""
    mujoco.mj_kinematics(model, data)
    eq = model.equality("grip").id
    rel_pos, rel_quat = model.eq_data[eq, 3:6], model.eq_data[eq, 6:10]
    palm = model.body("palm").id
    inv = np.empty(4)
    mujoco.mju_negQuat(inv, rel_quat)
    quat = np.empty(4)
    mujoco.mju_mulQuat(quat, data.xquat[palm], inv)
    rot = np.empty(9)
    mujoco.mju_quat2Mat(rot, quat)
    pos = data.xpos[palm] - rot.reshape(3, 3) @ rel_pos
    adr = model.jnt_qposadr[model.joint("tweezers_free").id]
    data.qpos[adr:adr + 3], data.qpos[adr + 3:adr + 7] = pos, quat
    data.qvel[model.jnt_dofadr[model.joint("tweezers_free").id]:][:6] = 0
    data.eq_active[eq] = 1
    mujoco.mj_forward(model, data)
