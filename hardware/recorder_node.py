"""The recorder: one episode from robot topics into the dataset format (for grm-adapt).

    grm-recorder --ros-args -p out:=data/real -p task:=drawer-close -p cameras:="[corner, topview]"

At `rate_hz` it samples the latest frame of each camera, the latest JointState and the latest
command. Services: `~/start` (Trigger; the reply counts the command publishers connected), `~/keyframe` (Trigger: a sub-task boundary now),
`~/stop` (SetBool: data = whether the task succeeded) writes `<out>/<task>/demo_NNNN.hdf5`
atomically. Commands are stored in the policy's units (what a policy trained on the demo
would output): Meta-World actions for twist profiles, joint targets in policy order otherwise.
"""
from __future__ import annotations

import time

import numpy as np

from grm.dataset.episode_builder import build_episode, save_episode
from hardware.profile import load_profile
from hardware.ros_common import OK, WARN, declare, image_to_array, node_main
from hardware.safety import InputRejected, check_joint_state

PARAMS = {
    "profile": "sawyer_metaworld",
    "out": "data/real",
    "task": "demo-task",
    "instruction": "",
    "cameras": ["corner", "topview", "gripperPOV"],
    "image_topic": "/camera/{camera}/image",
    "image_size": 64,  # frames are resized to this (the GRM's input size); 0 keeps them as they come
    "rate_hz": 10.0,
    "max_frames": 3000,
}


class Recorder:
    def __init__(self, node):
        from geometry_msgs.msg import TwistStamped
        from sensor_msgs.msg import Image, JointState
        from std_msgs.msg import Float64, Float64MultiArray
        from std_srvs.srv import SetBool, Trigger

        self.node = node
        self.p = declare(node, PARAMS)
        self.log = node.get_logger()
        self.profile = prof = load_profile(self.p["profile"])
        self.cameras = [c for c in self.p["cameras"] if c]
        if not self.cameras:
            raise ValueError("parameter 'cameras' lists no camera")
        self.frames: dict[str, np.ndarray] = {}
        for cam in self.cameras:
            node.create_subscription(Image, self.p["image_topic"].format(camera=cam), self._image_cb(cam), 2)
        self.state: np.ndarray | None = None
        node.create_subscription(JointState, prof.observation.state_topic, self._on_joint_state, 10)
        c = prof.command
        self.twist = c.type == "cartesian_twist"
        self.action = np.zeros(4 if self.twist else len(prof.joints))
        if self.twist:
            self.command_sub = node.create_subscription(TwistStamped, c.topic, self._on_twist, 10)
            if c.gripper_topic:
                node.create_subscription(Float64, c.gripper_topic, self._on_grip, 10)
        else:
            self.command_sub = node.create_subscription(Float64MultiArray, c.topic, self._on_joints, 10)
        self.commands_recorded = 0  # command messages received while recording: none means zero actions
        node.create_service(Trigger, "~/start", self._srv_start)
        node.create_service(Trigger, "~/keyframe", self._srv_keyframe)
        node.create_service(SetBool, "~/stop", self._srv_stop)
        node.create_timer(1.0 / self.p["rate_hz"], self._on_timer)
        self.recording = False
        self.buf: dict[str, list] = {}
        self.marks: list[int] = []
        self.log.info(f"recorder ready: cameras {self.cameras}, {self.p['rate_hz']} Hz -> {self.p['out']}")

    def _image_cb(self, cam: str):
        def cb(msg) -> None:
            try:
                self.frames[cam] = image_to_array(msg, self.p["image_size"])
            except ValueError as exc:
                self.log.warning(f"camera {cam}: {exc}", throttle_duration_sec=2.0)
        return cb

    def _on_joint_state(self, msg) -> None:
        extra = [self.profile.observation.gripper.joint] if self.profile.observation.gripper else []
        try:
            q, _, extras = check_joint_state(self.profile, msg.name, msg.position, msg.velocity, extra)
        except InputRejected as exc:
            self.log.warning(f"refused JointState: {exc}", throttle_duration_sec=2.0)
            return
        self.state = np.concatenate([q, [extras[n] for n in extra]])

    def _on_twist(self, msg) -> None:
        self.commands_recorded += self.recording
        v = msg.twist.linear
        self.action[:3] = np.array([v.x, v.y, v.z]) * self.profile.action_per_twist

    def _on_grip(self, msg) -> None:
        self.action[3] = msg.data

    def _on_joints(self, msg) -> None:
        if len(msg.data) == len(self.profile.joints):
            self.commands_recorded += self.recording
            self.action = self.profile.to_policy_order(msg.data)

    def _srv_start(self, req, res):
        missing = [c for c in self.cameras if c not in self.frames] + ([] if self.state is not None else ["joint_states"])
        if missing:
            res.success, res.message = False, f"no data yet from {missing}"
            return res
        self.buf = {"images": [], "state": [], "actions": []}
        self.marks = []
        self.commands_recorded = 0
        self.recording = True
        self.t0 = time.monotonic()
        # Whether a command source is connected yet: a recording without one stores zero actions.
        res.success, res.message = True, f"recording; command publishers: {self.command_sub.get_publisher_count()}"
        return res

    def _srv_keyframe(self, req, res):
        if not self.recording:
            res.success, res.message = False, "not recording"
            return res
        self.marks.append(max(0, len(self.buf["images"]) - 1))
        res.success, res.message = True, f"keyframe at frame {self.marks[-1]}"
        return res

    def _srv_stop(self, req, res):
        if not self.recording:
            res.success, res.message = False, "not recording"
            return res
        self.recording = False
        b = self.buf
        try:
            ep = build_episode(self.p["task"], self.p["instruction"] or self.p["task"], self.cameras,
                               np.stack(b["images"]), np.stack(b["state"]), np.stack(b["actions"][:-1]),
                               bool(req.data), self.marks,
                               {"profile": self.profile.name, "rate_hz": self.p["rate_hz"]})
            path = save_episode(self.p["out"], ep, "grm-recorder")
        except ValueError as exc:
            res.success, res.message = False, str(exc)
            return res
        self.log.info(f"wrote {path} ({ep.num_steps} steps, success={ep.success})")
        if not self.commands_recorded:
            self.log.warning(f"no command on {self.profile.command.topic} while recording: {path} stores zero actions")
        res.success, res.message = True, str(path)
        return res

    def health(self) -> tuple[int, str, dict]:
        """WARN when a recording has hit max_frames (frames are being dropped until stop), else OK."""
        frames = len(self.buf.get("images", [])) if self.recording else 0
        full = self.recording and frames >= self.p["max_frames"]
        message = "max_frames reached: stop to save" if full else "recording" if self.recording else "idle"
        return (WARN if full else OK), message, {"frames": frames, "keyframes": len(self.marks)}

    def _on_timer(self) -> None:
        if not self.recording:
            return
        if len(self.buf["images"]) >= self.p["max_frames"]:
            self.log.warning("max_frames reached: stop to save", throttle_duration_sec=5.0)
            return
        self.buf["images"].append(np.stack([self.frames[c] for c in self.cameras]))
        self.buf["state"].append(self.state.copy())
        self.buf["actions"].append(self.action.astype(np.float32).copy())


def main() -> None:
    node_main("recorder", Recorder)


if __name__ == "__main__":
    main()
