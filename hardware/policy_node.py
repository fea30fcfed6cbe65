"""The policy node: runs a trained policy on a robot described by a profile, safely.

    grm-policy-node --ros-args -p profile:=sawyer_metaworld -p policy:=runs/main-job/checkpoints/model.zip

Inputs (topics from the profile): JointState, plus EE / object / goal poses (metaworld layout)
or a goal vector (joint_state layout; sensed tool joints, e.g. a tweezer hinge, ride in the
JointState and, with the last commanded targets, complete a goal-conditioned policy's input). Output: TwistStamped + gripper Float64, or joint targets
as Float64MultiArray / JointTrajectory in the controller's joint order.

States: IDLE -> (start) -> TO_START (smooth move to the profile's start pose) -> RUNNING ->
DONE (done topic, max_steps or stop) ; ESTOP from anywhere (topic or service) until released.
While RUNNING, a stale input (watchdog) publishes hold commands instead of policy actions;
refused inputs (malformed, out of range, non-finite, out of order) are logged and ignored, so
they also end in a hold once the watchdog fires. On shutdown the node sends one hold command.
`trigger: state` computes each command in the input callback (latency-critical loops, control
rate = state rate); `trigger: timer` at the profile's rate_hz.
"""
from __future__ import annotations

import json
import time
from collections import deque

import numpy as np

from hardware.policy_io import JointCommand, JointStateObservation, MetaWorldObservation, TwistCommand, pose_vector
from hardware.policy_loader import load_policy
from hardware.profile import load_profile
from hardware.ros_common import ERROR, OK, WARN, declare, node_main, stamp_seconds
from hardware.safety import InputRejected, Watchdog, check_joint_state

PARAMS = {
    "profile": "sawyer_metaworld",
    "policy": "",
    "max_steps": 0,  # 0: until done/stop
    "done_topic": "",  # std_msgs/Bool: True ends the episode as a success (GRM monitor, simulator)
    "estop_topic": "/estop",
    "autostart": False,  # start the first episode as soon as every input is fresh
    "trigger": "timer",  # timer | state
    "require_new_inputs": False,  # act only on a complete set of inputs newer than the last action (lockstep sim)
    "stats_period_s": 1.0,
}


class PolicyNode:
    """Composition around an rclpy Node (see `node_main`): inputs, safety, episode state, the loop."""

    IDLE, TO_START, RUNNING, DONE, ESTOP = "idle", "to_start", "running", "done", "estop"

    def __init__(self, node):
        from geometry_msgs.msg import PoseStamped, TwistStamped
        from sensor_msgs.msg import JointState
        from std_msgs.msg import Bool, Float64, Float64MultiArray, String
        from std_srvs.srv import SetBool, Trigger
        from trajectory_msgs.msg import JointTrajectory

        self.node = node
        self.p = declare(node, PARAMS)
        self.profile = load_profile(self.p["profile"])
        if self.p["trigger"] not in ("timer", "state"):
            raise ValueError(f"trigger must be timer or state, got {self.p['trigger']!r}")
        if not self.p["policy"]:
            raise ValueError("parameter 'policy' is required (an SB3 model.zip, scripted:<task> or goal_tracker)")
        prof, obs_cfg = self.profile, self.profile.observation
        self.log = node.get_logger()
        self.metaworld = obs_cfg.layout == "metaworld"
        self.obs = MetaWorldObservation(prof) if self.metaworld else JointStateObservation(prof)
        self.policy = load_policy(self.p["policy"], prof, self.obs)
        self.twist = prof.command.type == "cartesian_twist"
        self.cmd = TwistCommand(prof) if self.twist else JointCommand(prof)
        self.perm = prof.command_permutation()
        self.command_names = [prof.joint_names[i] for i in self.perm]

        # latest inputs: value and header stamp; receipt times live in the watchdog
        self.values: dict[str, object] = {}
        self.stamps: dict[str, float] = {}  # header stamp of each latest input
        self.used_stamps: dict[str, float] = {}  # ... and of the inputs the last action used
        self.last_stamp = -np.inf
        inputs = {"state": (JointState, obs_cfg.state_topic, self._on_joint_state)}
        if self.metaworld:
            inputs["ee"] = (PoseStamped, obs_cfg.ee_pose_topic, self._pose_cb("ee"))
            for i, topic in enumerate(obs_cfg.object_topics):
                inputs[f"obj{i}"] = (PoseStamped, topic, self._pose_cb(f"obj{i}"))
            inputs["goal"] = (PoseStamped, obs_cfg.goal_topic, self._pose_cb("goal"))
        elif obs_cfg.goal_topic:
            inputs["goal"] = (Float64MultiArray, obs_cfg.goal_topic, self._on_goal_vector)
        self.watchdog = Watchdog(list(inputs), prof.watchdog_s)
        self.subs = [node.create_subscription(t, topic, cb, 10) for t, topic, cb in inputs.values()]

        c = prof.command
        if self.twist:
            self.pub_twist = node.create_publisher(TwistStamped, c.topic, 10)
            self.pub_grip = node.create_publisher(Float64, c.gripper_topic, 10) if c.gripper_topic else None
        elif c.interface == "joint_trajectory":
            self.pub_joint = node.create_publisher(JointTrajectory, c.topic, 10)
        else:
            self.pub_joint = node.create_publisher(Float64MultiArray, c.topic, 10)
        self.command_pubs = [p for p in (getattr(self, "pub_twist", None), getattr(self, "pub_grip", None),
                                         getattr(self, "pub_joint", None)) if p is not None]
        self.pub_episode = node.create_publisher(String, "~/episode", 10)
        self.pub_stats = node.create_publisher(String, "~/stats", 10)
        self._msg = {"TwistStamped": TwistStamped, "Float64": Float64, "Float64MultiArray": Float64MultiArray,
                     "JointTrajectory": JointTrajectory, "String": String}
        if self.p["done_topic"]:
            node.create_subscription(Bool, self.p["done_topic"], self._on_done, 10)
        node.create_subscription(Bool, self.p["estop_topic"], lambda m: self.set_estop(bool(m.data), "estop topic"), 10)
        node.create_service(SetBool, "~/estop", self._srv_estop)
        node.create_service(Trigger, "~/start", self._srv_start)
        node.create_service(Trigger, "~/stop", self._srv_stop)

        self.state = self.IDLE
        self.episode = 0
        self.steps = 0
        self.holding = False
        self.refused = 0
        self.refusal_logged: dict[str, float] = {}
        # the recent window the stats report on (bounded: a node runs for hours at 500 Hz)
        self.latencies: deque[float] = deque(maxlen=5000)
        self.ticks: deque[float] = deque(maxlen=5000)
        self.commands = 0
        self.t_input = 0.0
        node.create_timer(prof.period, self._on_timer)
        node.create_timer(self.p["stats_period_s"], self._publish_stats)
        self.log.info(f"profile {prof.name}, policy {self.p['policy']}, {prof.rate_hz} Hz, trigger {self.p['trigger']}")

    # ------------------------------------------------------------------ inputs
    def _accept(self, key: str, value, stamp: float) -> None:
        now = time.monotonic()
        self.values[key] = value
        self.stamps[key] = stamp
        self.watchdog.feed(key, now)
        self.t_input = now
        # trigger: state -> the JointState drives the loop; in lockstep any input may complete the set
        if self.p["trigger"] == "state" and (key == "state" or self.p["require_new_inputs"]):
            self._control()

    def _refuse(self, reason: str, kind: str = "invalid") -> None:
        """Count and log (each kind of fault at most once a second: a 500 Hz fault must not
        flood the log, nor hide a different fault behind it)."""
        self.refused += 1
        self.last_refusal = reason
        now = time.monotonic()
        if now - self.refusal_logged.get(kind, -np.inf) >= 1.0:
            self.refusal_logged[kind] = now
            self.log.warning(f"refused input: {reason}")

    def _on_joint_state(self, msg) -> None:
        stamp = stamp_seconds(msg.header.stamp)
        if stamp < self.last_stamp:
            return self._refuse(f"JointState stamped {stamp:.6f} is older than the last accepted {self.last_stamp:.6f}",
                                "order")
        o = self.profile.observation
        extra = [o.gripper.joint] if self.metaworld else list(o.tool_joints)
        try:
            q, qd, extras = check_joint_state(self.profile, msg.name, msg.position, msg.velocity, extra,
                                              extra_velocity=not self.metaworld)
        except InputRejected as exc:
            return self._refuse(str(exc), exc.kind)
        self.last_stamp = stamp
        self._accept("state", (q, qd, extras), stamp)

    def _pose_cb(self, key: str):
        def cb(msg) -> None:
            p, o = msg.pose.position, msg.pose.orientation
            v = pose_vector([p.x, p.y, p.z], [o.w, o.x, o.y, o.z])
            if not np.all(np.isfinite(v)):
                return self._refuse(f"non-finite pose on {key}", "non-finite")
            self._accept(key, v, stamp_seconds(msg.header.stamp))
        return cb

    def _on_goal_vector(self, msg) -> None:
        v = np.asarray(msg.data, dtype=np.float64)
        if v.shape != (self.profile.observation.goal_size,) or not np.all(np.isfinite(v)):
            return self._refuse(f"goal vector of shape {v.shape} (expected ({self.profile.observation.goal_size},), finite)")
        self._accept("goal", v, time.monotonic())  # Float64MultiArray has no header

    def _on_done(self, msg) -> None:
        if msg.data and self.state == self.RUNNING:
            self.end_episode(True, "done")

    # ------------------------------------------------------------------ commands
    def _ee(self) -> np.ndarray:
        return self.values["ee"][:3]

    def _publish_twist(self, v: np.ndarray, g: float) -> None:
        if self.pub_grip is not None:
            self.pub_grip.publish(self._msg["Float64"](data=float(g)))
        msg = self._msg["TwistStamped"]()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.header.frame_id = self.profile.command.frame_id
        msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(x) for x in v)
        self.pub_twist.publish(msg)

    def _publish_joints(self, q_policy_order: np.ndarray) -> None:
        q = [float(x) for x in np.asarray(q_policy_order)[self.perm]]
        if self.profile.command.interface == "joint_trajectory":
            from builtin_interfaces.msg import Duration
            from trajectory_msgs.msg import JointTrajectoryPoint

            msg = self._msg["JointTrajectory"]()
            msg.joint_names = self.command_names
            t = self.profile.command.trajectory_time_s or self.profile.period
            msg.points = [JointTrajectoryPoint(positions=q, time_from_start=Duration(sec=int(t), nanosec=int((t % 1) * 1e9)))]
            self.pub_joint.publish(msg)
        else:
            self.pub_joint.publish(self._msg["Float64MultiArray"](data=q))

    def publish_hold(self) -> None:
        if self.twist:
            self._publish_twist(*self.cmd.hold())
        elif self.cmd.limiter.last is not None:
            self._publish_joints(self.cmd.hold())

    # ------------------------------------------------------------------ episode control
    def start(self) -> tuple[bool, str]:
        if self.state == self.ESTOP:
            return False, "e-stop is active: release it first (~/estop false)"
        stale = self.watchdog.stale(time.monotonic())
        if stale:
            cause = getattr(self, "last_refusal", None)
            return False, f"inputs stale or missing: {stale}" + (f" (last input refused: {cause})" if cause else "")
        q = self.values["state"][0]
        if self.twist:
            self.cmd.reset()
        else:
            self.cmd.reset(q)
        self.obs.reset()
        self.steps = 0
        self.episode += 1
        self.used_stamps = {}  # the inputs at hand are the first observation
        self.start_reached = 0.0
        self.state = self.TO_START if self.profile.start_pose else self.RUNNING
        self.log.info(f"episode {self.episode}: {self.state}")
        if self.p["trigger"] == "state":
            self._control()  # act on the inputs at hand (a lockstep simulator waits for this command)
        return True, f"episode {self.episode} started"

    def end_episode(self, success: bool, reason: str) -> None:
        self.publish_hold()
        self.state = self.DONE
        report = {"episode": self.episode, "steps": self.steps, "success": bool(success), "reason": reason}
        self.pub_episode.publish(self._msg["String"](data=json.dumps(report)))
        self.log.info(f"episode {self.episode} ended: {report}")

    def set_estop(self, active: bool, source: str) -> None:
        if active and self.state != self.ESTOP:
            prev, self.state = self.state, self.ESTOP  # no command leaves the node from here on
            self.log.error(f"E-STOP ({source}); was {prev}; command output stopped")
            if prev in (self.TO_START, self.RUNNING):
                report = {"episode": self.episode, "steps": self.steps, "success": False, "reason": "estop"}
                self.pub_episode.publish(self._msg["String"](data=json.dumps(report)))
        elif not active and self.state == self.ESTOP:
            self.state = self.IDLE
            self.log.warning(f"e-stop released ({source}); idle until the next start")

    def _srv_start(self, req, res):
        res.success, res.message = self.start()
        return res

    def _srv_stop(self, req, res):
        if self.state in (self.TO_START, self.RUNNING):
            self.end_episode(False, "stopped")
        res.success, res.message = True, f"state {self.state}"
        return res

    def _srv_estop(self, req, res):
        self.set_estop(bool(req.data), "service")
        res.success, res.message = True, f"state {self.state}"
        return res

    # ------------------------------------------------------------------ the loop
    def _on_timer(self) -> None:
        if self.p["trigger"] == "timer" or self.watchdog.stale(time.monotonic()):
            self._control()
        if (self.state == self.IDLE and self.p["autostart"] and self.episode == 0  # once: never after an e-stop
                and not self.watchdog.stale(time.monotonic())):
            self.start()

    def _inputs_new(self) -> bool:
        """Every input stamped later than the inputs of the last action (a republished, same-
        stamped state keeps the watchdog fed but is not a new observation)."""
        return all(self.stamps.get(k, -np.inf) > self.used_stamps.get(k, -np.inf) for k in self.watchdog.last)

    def _control(self) -> None:
        if self.state not in (self.TO_START, self.RUNNING):
            return
        t0 = time.monotonic()
        stale = self.watchdog.stale(t0)
        if stale:
            if not self.holding:
                self.log.warning(f"holding: stale input(s) {stale}")
            self.holding = True
            self.publish_hold()
            return
        if self.holding:
            self.log.info("inputs fresh again: resuming")
            self.holding = False
        if self.p["require_new_inputs"]:
            if not self._inputs_new():
                return
            self.used_stamps = dict(self.stamps)
        q, qd, extras = self.values["state"]
        if self.state == self.TO_START:
            self._to_start(q)
        else:
            self._policy_step(q, qd, extras)
        t1 = time.monotonic()
        self.latencies.append(t1 - (self.t_input if self.p["trigger"] == "state" else t0))
        self.ticks.append(t1)
        self.commands += 1

    def _to_start(self, q: np.ndarray) -> None:
        goal = np.asarray(self.profile.start_pose)
        speed = self.profile.start_speed
        if self.twist:
            err = goal - self._ee()
            if np.max(np.abs(err)) < self.profile.start_tolerance:
                self.state = self.RUNNING
                return self._publish_twist(*self.cmd.hold())
            v = np.clip(err / self.profile.period, -1, 1) * self.cmd.limiter.vmax * speed
            return self._publish_twist(*self.cmd.limiter.limit(v, self.cmd.limiter.last_g, self._ee()))
        if np.max(np.abs(goal - q)) < self.profile.start_tolerance:
            self.state = self.RUNNING
            return self._publish_joints(self.cmd.hold())
        self._publish_joints(self.cmd.toward(goal, speed))
        if np.array_equal(self.cmd.hold(), np.clip(goal, self.cmd.lower, self.cmd.upper)):
            self.start_reached = self.start_reached or time.monotonic()
            if time.monotonic() - self.start_reached > self.profile.start_timeout_s:  # commanded, never tracked
                self.log.error(f"start pose commanded but not reached within {self.profile.start_timeout_s} s "
                               f"(max error {np.max(np.abs(goal - q)):.3f} > start_tolerance {self.profile.start_tolerance})")
                self.end_episode(False, "start_pose_not_reached")

    def _policy_step(self, q, qd, extras) -> None:
        if self.metaworld:
            g = self.profile.observation.gripper.joint
            cur = self.obs.current(self._ee(), extras[g], self.values["obj0"], self.values["obj1"])
            obs = self.obs.build(cur, self.values["goal"][:3])
        else:
            tools = [extras[n] for n in self.profile.observation.tool_joints]  # (position, velocity) each
            obs = self.obs.build(q, qd, self.values.get("goal"), targets=self.cmd.hold(),
                                 tool_q=[t[0] for t in tools], tool_qd=[t[1] for t in tools])
        action = np.asarray(self.policy(obs), dtype=np.float64)
        if self.twist:
            self._publish_twist(*self.cmd(action, self._ee()))
        else:
            self._publish_joints(self.cmd(action))
        self.steps += 1
        if self.p["max_steps"] and self.steps >= self.p["max_steps"]:
            self.end_episode(False, "max_steps")

    def health(self) -> tuple[int, str, dict]:
        """ERROR while e-stopped, WARN while running on inputs the watchdog calls stale, else OK."""
        stale = self.watchdog.stale(time.monotonic()) if self.state == self.RUNNING else []
        level = ERROR if self.state == self.ESTOP else WARN if stale else OK
        message = f"{self.state}" + (f", stale inputs {stale}" if stale else "")
        return level, message, {"episode": self.episode, "steps": self.steps, "refused": self.refused,
                                "holding": self.holding, "commands": self.commands}

    def _publish_stats(self) -> None:
        lat = np.array(self.latencies) * 1e3
        ticks = np.array(self.ticks)
        stats = {"state": self.state, "episode": self.episode, "steps": self.steps, "refused": self.refused,
                 "holding": self.holding, "commands": self.commands}
        if len(lat):
            stats.update(latency_ms_p50=float(np.percentile(lat, 50)), latency_ms_p99=float(np.percentile(lat, 99)))
        if len(ticks) > 2:
            stats["rate_hz"] = float((len(ticks) - 1) / (ticks[-1] - ticks[0]))
        self.pub_stats.publish(self._msg["String"](data=json.dumps(stats)))

    def on_shutdown(self) -> None:
        """Clean stop: one last hold command so a velocity or forward controller stops here."""
        if self.state in (self.TO_START, self.RUNNING):
            self.publish_hold()
            # Destroying the node right after publish can drop the message before a reliable
            # reader has it (seen under CPU load): wait, briefly, until every reader acknowledged.
            from rclpy.duration import Duration

            acked = all(p.wait_for_all_acked(Duration(seconds=1.0)) for p in self.command_pubs)
            self.log.info("shutdown: hold command sent" + ("" if acked else " (not acknowledged within 1 s)"))


def main() -> None:
    node_main("policy_node", PolicyNode)


if __name__ == "__main__":
    main()
