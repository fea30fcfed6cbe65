"""The GRM monitor: scores a (real) robot episode from its cameras, live.

    grm-monitor --ros-args -p checkpoint:=runs/main-job/grm_adapt/grm.pt -p reference:=<demo.hdf5>
    grm-monitor --ros-args -p reward_model:=robodopamine -p reward_model_path:=<weights dir> -p reference:=<demo.hdf5>

Subscribes to one sensor_msgs/Image per GRM camera (`image_topic` with {camera} filled in),
and at `rate_hz` publishes the fused progress (std_msgs/Float32) and the GRM's success flag
(std_msgs/Bool: progress >= 1 - delta for `success_hold` ticks), so an episode on a robot
without a success sensor can be scored and ended automatically (the policy node's done_topic).
`~/reset` (Trigger) starts a new episode: the next complete set of frames is progress 0.
"""
from __future__ import annotations

import time

import numpy as np

from grm.success import SUCCESS_DELTA, SUCCESS_HOLD, SuccessDetector
from hardware.ros_common import OK, WARN, declare, image_to_array, node_main

PARAMS = {
    "reward_model": "grm",  # grm (checkpoint) | robodopamine (the official GRM, grm/robodopamine.py)
    "reward_model_path": "",  # robodopamine: the directory of its weights
    "robodopamine_views": ["corner", "gripperPOV", ""],  # its front, left wrist, right wrist cameras ('' = none)
    "checkpoint": "",
    "reference": "",  # an episode file (the adaptation demo): its first and success frames
    "image_topic": "/camera/{camera}/image",
    "rate_hz": 10.0,
    "perspective": "fused",
    "fusion": "median",  # how `fused` joins the three perspectives: median | mean
    "guard": False,
    "success_delta": SUCCESS_DELTA,
    "success_hold": SUCCESS_HOLD,
    "stale_s": 0.5,
    "progress_topic": "/grm/progress",
    "success_topic": "/grm/success",
    "threads": 1,
}


class GRMMonitor:
    def __init__(self, node):
        import torch
        from sensor_msgs.msg import Image
        from std_msgs.msg import Bool, Float32
        from std_srvs.srv import Trigger

        from grm.backends import BACKENDS, RewardModelSettings, load_reward_model
        from grm.inference import ProgressTracker
        from grm.robodopamine import SLOTS

        self.node = node
        self.p = declare(node, PARAMS)
        self.log = node.get_logger()
        backend = self.p["reward_model"]
        if backend not in BACKENDS:
            raise ValueError(f"parameter 'reward_model' is {backend!r}; it must be one of {', '.join(BACKENDS)}")
        for key in ("checkpoint" if backend == "grm" else "reward_model_path", "reference"):
            if not self.p[key]:
                raise ValueError(f"parameter {key!r} is required")
        torch.set_num_threads(int(self.p["threads"]))
        views = dict(zip(SLOTS, [c or None for c in self.p["robodopamine_views"]]))
        settings = RewardModelSettings(backend, self.p["reward_model_path"] or None, views, 8, 224)
        self.rm = load_reward_model(settings, self.p["checkpoint"], {}, None)  # a bad weights directory: one line
        self.rm.set_reference_from_episode(self.p["reference"])
        self.size = self.rm.image_size
        self.tracker = ProgressTracker(self.rm, 1, self.p["perspective"], self.p["guard"], fusion=self.p["fusion"])
        self.success = SuccessDetector(1, self.p["success_delta"], self.p["success_hold"])
        self.frames: dict[str, np.ndarray] = {}
        self.received: dict[str, float] = {}
        for cam in self.rm.inputs:
            topic = self.p["image_topic"].format(camera=cam)
            node.create_subscription(Image, topic, self._image_cb(cam), 2)
        self.pub_progress = node.create_publisher(Float32, self.p["progress_topic"], 10)
        self.pub_success = node.create_publisher(Bool, self.p["success_topic"], 10)
        self.Float32, self.Bool = Float32, Bool
        node.create_service(Trigger, "~/reset", self._srv_reset)
        node.create_timer(1.0 / self.p["rate_hz"], self._on_timer)
        self.started = False
        self.phi = 0.0
        self.warned = False
        model = self.p["checkpoint"] if backend == "grm" else self.p["reward_model_path"]
        self.log.info(f"{backend} {model} on cameras {self.rm.inputs} at {self.p['rate_hz']} Hz")

    def _image_cb(self, cam: str):
        def cb(msg) -> None:
            try:
                img = image_to_array(msg, self.size)
            except ValueError as exc:
                self.log.warning(f"camera {cam}: {exc}", throttle_duration_sec=2.0)
                return
            self.frames[cam] = img
            self.received[cam] = time.monotonic()
        return cb

    def health(self) -> tuple[int, str, dict]:
        """WARN while a camera the GRM reads is silent (no progress is published then), else OK."""
        now = time.monotonic()
        stale = [c for c in self.rm.inputs if now - self.received.get(c, -np.inf) > self.p["stale_s"]]
        message = f"waiting for camera(s) {stale}" if stale else "scoring"
        return (WARN if stale else OK), message, {"progress": round(self.phi, 4), "cameras": self.rm.inputs}

    def _srv_reset(self, req, res):
        self.started = False
        self.success.reset()
        self.phi = 0.0
        res.success, res.message = True, "progress restarts at the next frame set"
        return res

    def _on_timer(self) -> None:
        now = time.monotonic()
        stale = [c for c in self.rm.inputs if now - self.received.get(c, -np.inf) > self.p["stale_s"]]
        if stale:
            if not self.warned:
                self.log.warning(f"waiting for camera(s) {stale}")
                self.warned = True
            return
        self.warned = False
        views = np.stack([self.frames[c] for c in self.rm.inputs])[None]
        if not self.started:
            self.phi = float(self.tracker.reset(views)[0])
            self.started = True
        else:
            self.phi = float(self.tracker.step(views).phi[0])
        done = bool(self.success.update(np.array([self.phi]))[0])
        self.pub_progress.publish(self.Float32(data=self.phi))
        self.pub_success.publish(self.Bool(data=done))


def main() -> None:
    node_main("grm_monitor", GRMMonitor)


if __name__ == "__main__":
    main()
