"""A MuJoCo robot node: stands in for the real robot with exactly its profile's topics.

    grm-sim-robot --ros-args -p profile:=sawyer_metaworld -p task:=drawer-close-v3

Two simulators behind one node:
- metaworld (profiles with the metaworld layout): a Meta-World task; publishes JointState
  (arm joints + the normalised gripper opening), EE / object / goal PoseStamped, camera Images
  and a `/sim/success` Bool; accepts TwistStamped + gripper Float64 commands.
- mjcf (joint_state profiles): any MJCF with position actuators (default: the Adroit hand from
  gymnasium-robotics); publishes JointState with the robot's names in the controller's order,
  accepts Float64MultiArray / JointTrajectory in that order. `model:=tweezers` is the Adroit
  hand holding the tweezers (envs/tweezers, as the low level trains: each reset rests the
  fingertips on the prong at a random flexion); the hinge is published as the profile's tool
  joint and a grip overloaded past its limit drops the tool for good, as in training.
`sync: command` steps once per complete command (lockstep: deterministic, as fast as the
policy answers); `sync: timer` steps at the profile rate with the latest command, like hardware
(a stale command stops the arm). `~/reset` (Trigger) starts the next episode of a seeded stream
of placements: the same stream `grm-rl`'s evaluation draws from a seed.
"""
from __future__ import annotations

import time

import numpy as np

from hardware.profile import load_profile
from hardware.ros_common import OK, array_to_image, declare, node_main

PARAMS = {
    "profile": "sawyer_metaworld",
    "task": "drawer-close-v3",
    "model": "",  # mjcf simulator: MJCF path ('' = the Adroit hand model, 'tweezers' = the hand holding the tweezers)
    "seed": 0,
    "initial_pose": [0.0],  # mjcf simulator: joint positions at reset, policy order ([0.0] = the profile's start_pose)
    "sync": "command",  # command | timer
    "cameras": [""],  # camera names to publish on /camera/<name>/image ('' = none)
    "image_size": 64,
    "camera_every": 1,
    "success_topic": "/sim/success",
}


def adroit_model_path() -> str:
    from envs.tweezers.scene import adroit_xml

    return str(adroit_xml())


class MetaWorldSim:
    """A Meta-World task behind the sawyer_metaworld topics."""

    def __init__(self, profile, task: str, cameras: list[str], image_size: int):
        from envs.metaworld_env import MetaWorldTask

        self.profile = profile
        self.env = MetaWorldTask(task, cameras, image_size, max_steps=10**9)
        self.cameras = cameras
        self.arm = [self.env.model.joint(j.sim).qposadr[0] for j in profile.joints]
        self.twist = np.zeros(3)
        self.grip = 0.0
        self.obs = None
        self.success = False

    def reset(self, seed: int) -> None:
        self.obs, _ = self.env.reset(seed=seed)
        self.success = False

    def step(self) -> None:
        action = np.append(self.twist * self.profile.action_per_twist, self.grip)
        self.obs, _, _, _, info = self.env.step(action)
        self.success = self.success or bool(info["is_success"])

    def joint_state(self) -> tuple[list[str], list[float]]:
        g = self.profile.observation.gripper
        opening = g.closed + float(self.obs["state"][3]) * (g.open - g.closed)
        q = self.env.data.qpos[self.arm]
        return self.profile.joint_names + [g.joint], [float(x) for x in q] + [opening]

    def poses(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """topic -> (xyz, quaternion wxyz), straight from the Meta-World observation."""
        s = self.obs["state"]
        o = self.profile.observation
        return {o.ee_pose_topic: (s[0:3], np.array([1.0, 0, 0, 0])),
                o.object_topics[0]: (s[4:7], s[7:11]), o.object_topics[1]: (s[11:14], s[14:18]),
                o.goal_topic: (s[36:39], np.array([1.0, 0, 0, 0]))}

    def images(self) -> np.ndarray | None:
        return self.obs.get("pixels")


class MJCFSim:
    """An MJCF model whose profile joints are driven by position actuators."""

    def __init__(self, profile, model_path: str, initial_pose: list[float] | None = None, model=None):
        import mujoco

        self.mj = mujoco
        self.profile = profile
        self.model = model if model is not None else mujoco.MjModel.from_xml_path(model_path)
        self.data = mujoco.MjData(self.model)
        jid = {j.sim: mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, j.sim) for j in profile.joints}
        missing = [n for n, i in jid.items() if i < 0]
        if missing:
            raise ValueError(f"model {model_path} has no joint(s) {missing} named in profile {profile.name}")
        self.qpos = np.array([self.model.jnt_qposadr[jid[j.sim]] for j in profile.joints])
        self.qvel = np.array([self.model.jnt_dofadr[jid[j.sim]] for j in profile.joints])
        act = {int(self.model.actuator_trnid[a, 0]): a for a in range(self.model.nu)
               if self.model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT}
        no_act = [j.sim for j in profile.joints if jid[j.sim] not in act]
        if no_act:
            raise ValueError(f"joint(s) {no_act} have no actuator in {model_path}")
        self.act = np.array([act[jid[j.sim]] for j in profile.joints])
        self.substeps = max(1, round(profile.period / self.model.opt.timestep))
        self.perm = profile.command_permutation()  # policy order -> the driver's (published) order
        self.target = None
        self.success = False
        self.initial = np.asarray(initial_pose) if initial_pose else (
            np.asarray(profile.start_pose) if profile.start_pose else np.zeros(len(profile.joints)))
        if self.initial.shape != (len(profile.joints),):
            raise ValueError(f"initial_pose has {self.initial.size} values for {len(profile.joints)} joints")

    def reset(self, seed: int) -> None:
        self.mj.mj_resetData(self.model, self.data)
        self.data.qpos[self.qpos] = self.initial
        self.data.ctrl[self.act] = self.initial
        self.mj.mj_forward(self.model, self.data)
        self.target = None

    def command(self, values_in_command_order: np.ndarray) -> None:
        self.target = self.profile.to_policy_order(values_in_command_order)

    def step(self) -> None:
        if self.target is not None:
            self.data.ctrl[self.act] = self.target
        self.mj.mj_step(self.model, self.data, nstep=self.substeps)

    def joint_state(self) -> tuple[list[str], list[float], list[float]]:
        """In the robot controller's order, as a real driver would publish."""
        q, qd = self.data.qpos[self.qpos][self.perm], self.data.qvel[self.qvel][self.perm]
        names = [self.profile.joint_names[i] for i in self.perm]
        return names, [float(x) for x in q], [float(x) for x in qd]


class TweezerSim(MJCFSim):
    """The hand holding the tweezers: the low level's training scene (envs/tweezers/tool_env.py)
    behind the profile's finger joints, its hinge published as the profile's one tool joint."""

    def __init__(self, profile):
        from envs.tweezers.tool_env import ToolOpeningEnv

        if len(profile.observation.tool_joints) != 1:
            raise ValueError(f"the tweezers simulator publishes one tool joint (the hinge); profile {profile.name} "
                             f"names {list(profile.observation.tool_joints)}")
        self.env = ToolOpeningEnv()
        super().__init__(profile, "tweezers", model=self.env.model)
        self.data = self.env.data  # the env's reset places the tool in this one
        self.hinge = self.model.joint("tweezers_hinge")

    def reset(self, seed: int) -> None:
        self.env.reset(seed=seed)
        self.target = None

    def step(self) -> None:
        from envs.tweezers.scene import step_holding

        if self.target is not None:
            self.data.ctrl[self.act] = self.target
        step_holding(self.model, self.data, self.substeps)  # an overloaded grip drops the tool, as in training

    def joint_state(self) -> tuple[list[str], list[float], list[float]]:
        names, q, qd = super().joint_state()
        adr, dof = self.model.jnt_qposadr[self.hinge.id], self.model.jnt_dofadr[self.hinge.id]
        return (names + list(self.profile.observation.tool_joints), q + [float(self.data.qpos[adr])],
                qd + [float(self.data.qvel[dof])])


class SimRobotNode:
    def __init__(self, node):
        from geometry_msgs.msg import PoseStamped, TwistStamped
        from sensor_msgs.msg import Image, JointState
        from std_msgs.msg import Bool, Float64, Float64MultiArray
        from std_srvs.srv import Trigger
        from trajectory_msgs.msg import JointTrajectory

        self.node = node
        self.p = declare(node, PARAMS)
        self.profile = prof = load_profile(self.p["profile"])
        if self.p["sync"] not in ("command", "timer"):
            raise ValueError(f"sync must be command or timer, got {self.p['sync']!r}")
        self.log = node.get_logger()
        self.cameras = [c for c in self.p["cameras"] if c]
        self.metaworld = prof.observation.layout == "metaworld"
        if self.metaworld:
            self.sim = MetaWorldSim(prof, self.p["task"], self.cameras, self.p["image_size"])
        else:
            if self.cameras:
                raise ValueError("the mjcf simulator publishes no cameras")
            initial = list(self.p["initial_pose"]) if list(self.p["initial_pose"]) != [0.0] else None
            if self.p["model"] == "tweezers":
                self.sim = TweezerSim(prof)
            else:
                self.sim = MJCFSim(prof, self.p["model"] or adroit_model_path(), initial)
        self.msgs = {"JointState": JointState, "PoseStamped": PoseStamped, "Bool": Bool}
        self.pub_js = node.create_publisher(JointState, prof.observation.state_topic, 10)
        self.pub_pose = {}
        if self.metaworld:
            o = prof.observation
            for topic in (o.ee_pose_topic, *o.object_topics, o.goal_topic):
                self.pub_pose[topic] = node.create_publisher(PoseStamped, topic, 10)
        self.pub_img = {c: node.create_publisher(Image, f"/camera/{c}/image", 10) for c in self.cameras}
        self.pub_success = node.create_publisher(Bool, self.p["success_topic"], 10)

        c = prof.command
        self.fresh = {}
        if self.metaworld:
            node.create_subscription(TwistStamped, c.topic, self._on_twist, 10)
            self.fresh = {"twist": False}
            if c.gripper_topic:
                self.fresh["grip"] = False
                node.create_subscription(Float64, c.gripper_topic, self._on_grip, 10)
        elif c.interface == "joint_trajectory":
            node.create_subscription(JointTrajectory, c.topic, self._on_trajectory, 10)
            self.fresh = {"joints": False}
        else:
            node.create_subscription(Float64MultiArray, c.topic, self._on_joints, 10)
            self.fresh = {"joints": False}
        node.create_service(Trigger, "~/reset", self._srv_reset)
        self.last_command = -np.inf
        self.last_publish = -np.inf
        self.rng = np.random.default_rng(self.p["seed"])
        self.episode_seed = None
        self.steps = 0
        self.reset()
        if self.p["sync"] == "timer":
            node.create_timer(prof.period, self._on_timer)
        else:  # lockstep: while no command comes, keep the last state alive (same stamp), like a robot's stream
            node.create_timer(prof.watchdog_s / 2, self._heartbeat)
        self.log.info(f"simulating {prof.name} ({'metaworld ' + self.p['task'] if self.metaworld else 'mjcf'}), "
                      f"sync {self.p['sync']}")

    def reset(self) -> int:
        """The next placement of the same seed stream grm-rl evaluates on."""
        from envs.rl_task import draw_episode_seed

        self.episode_seed = draw_episode_seed(self.rng)
        self.sim.reset(self.episode_seed)
        self.steps = 0
        self.fresh = dict.fromkeys(self.fresh, False)
        self.publish()
        return self.episode_seed

    def _srv_reset(self, req, res):
        seed = self.reset()
        res.success, res.message = True, str(seed)
        return res

    def _on_twist(self, msg) -> None:
        v = msg.twist.linear
        self.sim.twist = np.array([v.x, v.y, v.z])
        self._commanded("twist")

    def _on_grip(self, msg) -> None:
        self.sim.grip = float(msg.data)
        self._commanded("grip")

    def _on_joints(self, msg) -> None:
        if len(msg.data) != len(self.profile.joints):
            self.log.warning(f"command with {len(msg.data)} values for {len(self.profile.joints)} joints ignored")
            return
        self.sim.command(np.asarray(msg.data))
        self._commanded("joints")

    def _on_trajectory(self, msg) -> None:
        order = [self.profile.joint_names[i] for i in self.profile.command_permutation()]
        if list(msg.joint_names) != order or not msg.points:
            self.log.warning(f"trajectory for joints {list(msg.joint_names)} ignored (expected {order})")
            return
        self.sim.command(np.asarray(msg.points[-1].positions))
        self._commanded("joints")

    def _commanded(self, key: str) -> None:
        self.fresh[key] = True
        self.last_command = time.monotonic()
        if self.p["sync"] == "command" and all(self.fresh.values()):
            self.fresh = dict.fromkeys(self.fresh, False)
            self.step()

    def _on_timer(self) -> None:
        if time.monotonic() - self.last_command > self.profile.watchdog_s:  # no commands: stop moving
            if self.metaworld:
                self.sim.twist = np.zeros(3)
        self.step()

    def health(self) -> tuple[int, str, dict]:
        """Always OK (a simulated robot waiting for commands holds still, as it should); says which."""
        idle = time.monotonic() - self.last_command > self.profile.watchdog_s
        return OK, "no commands: holding" if idle else "following commands", \
            {"episode_seed": self.episode_seed, "steps": self.steps}

    def _heartbeat(self) -> None:
        if time.monotonic() - self.last_publish >= self.profile.watchdog_s / 2:
            self.publish(self.stamp)

    def step(self) -> None:
        self.sim.step()
        self.steps += 1
        self.publish()

    def publish(self, stamp=None) -> None:
        """Every state topic with one stamp; `stamp` given = a republish of the same state."""
        self.last_publish = time.monotonic()
        if stamp is None:
            stamp = self.stamp = self.node.get_clock().now().to_msg()
        js = self.msgs["JointState"]()
        js.header.stamp = stamp
        if self.metaworld:
            js.name, js.position = self.sim.joint_state()
        else:
            js.name, js.position, js.velocity = self.sim.joint_state()
        for topic, (xyz, quat) in (self.sim.poses().items() if self.metaworld else ()):
            m = self.msgs["PoseStamped"]()
            m.header.stamp, m.header.frame_id = stamp, "world"
            m.pose.position.x, m.pose.position.y, m.pose.position.z = (float(x) for x in xyz)
            m.pose.orientation.w, m.pose.orientation.x, m.pose.orientation.y, m.pose.orientation.z = (float(x) for x in quat)
            self.pub_pose[topic].publish(m)
        if self.cameras and self.steps % self.p["camera_every"] == 0:
            for v, cam in enumerate(self.cameras):
                self.pub_img[cam].publish(array_to_image(self.sim.images()[v], stamp, cam))
        self.pub_success.publish(self.msgs["Bool"](data=bool(self.sim.success)))
        self.pub_js.publish(js)  # last: in lockstep the JointState completes a step's inputs


def main() -> None:
    node_main("sim_robot", SimRobotNode)


if __name__ == "__main__":
    main()
