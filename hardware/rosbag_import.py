"""Import a rosbag2 recording (sqlite3 or mcap) as one episode of the dataset format.

    grm-import-bag bag=path/to/bag out=data/real task=drawer-close success=true

Reads without ROS (the `rosbags` package). Streams are resampled at `rate_hz` on the bag's
receive clock: each sample takes the latest message of every stream at or before it, starting
once every camera and the JointState have been seen. Same episode builder as the recorder.
"""
from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

import numpy as np

from grm.dataset.episode_builder import build_episode, save_episode
from hardware.profile import load_profile
from hardware.ros_common import image_to_array
from hardware.safety import InputRejected, check_joint_state


def read_streams(bag: Path, topics: dict[str, str]) -> dict[str, tuple[list[int], list]]:
    """{key: (receive times in ns, deserialized messages)} for the topic of each key."""
    from rosbags.highlevel import AnyReader

    if not Path(bag).exists():
        raise FileNotFoundError(f"bag not found: {bag}")
    with AnyReader([Path(bag)]) as reader:
        present = {c.topic for c in reader.connections}
        missing = sorted(t for t in topics.values() if t not in present)
        if missing:
            raise ValueError(f"bag {bag} has no topic(s) {missing}; it has {sorted(present)}")
        by_topic = {t: k for k, t in topics.items()}
        out = {k: ([], []) for k in topics}
        conns = [c for c in reader.connections if c.topic in by_topic]
        for conn, t, raw in reader.messages(connections=conns):
            times, msgs = out[by_topic[conn.topic]]
            times.append(t)
            msgs.append(reader.deserialize(raw, conn.msgtype))
    return out


def import_bag(bag: str | Path, out: str | Path, task: str, profile: str, cameras: list[str],
               image_topic: str = "/camera/{camera}/image", command_topic: str | None = None,
               rate_hz: float = 10.0, image_size: int = 64, success: bool = True,
               keyframes_s: list[float] | None = None, instruction: str = "") -> Path:
    prof = load_profile(profile)
    topics = {f"cam:{c}": image_topic.format(camera=c) for c in cameras}
    topics["state"] = prof.observation.state_topic
    if command_topic:
        topics["command"] = command_topic
    streams = read_streams(Path(bag), topics)
    required = [k for k in topics if k != "command"]
    empty = [topics[k] for k in required if not streams[k][0]]
    if empty:
        raise ValueError(f"no messages on {empty}")
    t_start = max(streams[k][0][0] for k in required)
    t_end = max(streams[k][0][-1] for k in required)
    step = int(1e9 / rate_hz)
    samples = np.arange(t_start, t_end + 1, step)
    if len(samples) < 2:
        raise ValueError(f"the bag's overlapping streams span less than two samples at {rate_hz} Hz")

    def latest(key: str, t: int):
        times, msgs = streams[key]
        i = bisect_right(times, t) - 1
        return msgs[i] if i >= 0 else None

    extra = [prof.observation.gripper.joint] if prof.observation.gripper else []
    images, states, actions = [], [], []
    for t in samples:
        images.append(np.stack([image_to_array(latest(f"cam:{c}", t), image_size) for c in cameras]))
        js = latest("state", t)
        try:
            q, _, extras = check_joint_state(prof, js.name, js.position, js.velocity, extra)
        except InputRejected as exc:
            raise ValueError(f"JointState at {t * 1e-9:.3f} s refused: {exc}") from exc
        states.append(np.concatenate([q, [extras[n] for n in extra]]))
        cmd = latest("command", t) if command_topic else None
        actions.append(_command_vector(cmd, prof))
    marks = [int(round(s * rate_hz)) for s in (keyframes_s or [])]
    ep = build_episode(task, instruction or task, cameras, np.stack(images), np.stack(states),
                       np.stack(actions[:-1]), success, marks,
                       {"profile": prof.name, "rate_hz": rate_hz, "bag": str(bag)})
    return save_episode(out, ep, f"rosbag:{Path(bag).name}")


def _command_vector(msg, prof) -> np.ndarray:
    """A command message in policy units (zeros before the first command)."""
    if prof.command.type == "cartesian_twist":
        if msg is None:
            return np.zeros(4)
        v = msg.twist.linear
        return np.append(np.array([v.x, v.y, v.z]) * prof.action_per_twist, 0.0)
    if msg is None:
        return np.zeros(len(prof.joints))
    return prof.to_policy_order(msg.data if hasattr(msg, "data") else msg.points[-1].positions)
