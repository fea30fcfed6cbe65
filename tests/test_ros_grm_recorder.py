"""GRM monitor and recorder on a live simulated robot; rosbag2 import; launch files."""
import json
import time
from pathlib import Path

import numpy as np
import pytest

from ros_harness import Harness, start_nodes

CAMERAS = ["corner", "topview", "gripperPOV"]  # the shipped GRM's views


@pytest.fixture(scope="module")
def reference_demo(tmp_path_factory):
    from grm.dataset.collect import EnvSettings, collect
    from grm.dataset.episode_io import episode_path

    root = tmp_path_factory.mktemp("demo")
    collect(["drawer-close-v3"], {"expert": 1}, 12345, root, EnvSettings(tuple(CAMERAS), 64, 300), progress=False)
    return episode_path(root, "drawer-close-v3", "expert", 0)


def test_monitor_scores_and_recorder_records_a_live_episode(ros_domain, tmp_path, reference_demo):
    from std_msgs.msg import Bool, Float32, String
    from std_srvs.srv import SetBool, Trigger

    from grm.dataset import open_episode
    from configs.typed import compose
    from grm.train import TrainConfig, train

    params = {
        "sim_robot": {"ros__parameters": {"profile": "sawyer_metaworld", "task": "drawer-close-v3", "seed": 0,
                                          "cameras": CAMERAS, "image_size": 64}},
        "policy_node": {"ros__parameters": {"profile": "sawyer_metaworld", "policy": "scripted:drawer-close-v3",
                                            "max_steps": 150, "done_topic": "/sim/success", "trigger": "state",
                                            "require_new_inputs": True}},
        "grm_monitor": {"ros__parameters": {"checkpoint": "grm/pretrained/grm_multi_embodiment.pt",
                                            "reference": str(reference_demo), "rate_hz": 20.0}},
        "recorder": {"ros__parameters": {"profile": "sawyer_metaworld", "out": str(tmp_path / "real"),
                                         "task": "drawer-close-v3", "cameras": CAMERAS, "rate_hz": 20.0}},
    }
    nodes = start_nodes(tmp_path, params)
    h = Harness(nodes=nodes)
    try:
        h.record(Float32, "/grm/progress")
        h.record(Bool, "/grm/success")
        reports = h.record(String, "/policy_node/episode")
        assert h.call(Trigger, "/sim_robot/reset", Trigger.Request(), timeout=60).success
        h.wait_for(lambda: len(h.messages("/grm/progress")) > 0, 60, nodes, "GRM progress")
        assert h.call(Trigger, "/grm_monitor/reset", Trigger.Request()).success
        # The recorder needs the sim's frames, and the policy node's commands matched: under load
        # that pair's discovery can lag, and the episode would be recorded with zero actions.
        def recorder_starts_with_commands() -> bool:
            reply = h.call(Trigger, "/recorder/start", Trigger.Request())
            return reply.success and int(reply.message.rsplit(" ", 1)[-1]) >= 1

        h.wait_for(recorder_starts_with_commands, 30, nodes, "the recorder, with the policy's commands")
        time.sleep(0.2)
        t0 = time.monotonic()
        # A start is refused while an input is older than the watchdog (0.1 s): on two loaded
        # cores the sim's 20 Hz heartbeat can slip past that, so ask again as an operator would.
        h.wait_for(lambda: h.call(Trigger, "/policy_node/start", Trigger.Request()).success, 30, nodes, "a start")
        time.sleep(1.0)
        assert h.call(Trigger, "/recorder/keyframe", Trigger.Request()).success
        h.wait_for(lambda: len(h.messages("/policy_node/episode")) > 0, 120, nodes, "the episode to end")
        time.sleep(0.5)
        stop = h.call(SetBool, "/recorder/stop", SetBool.Request(data=True))
        assert stop.success, stop.message
        report = json.loads(reports[-1][1].data)
        assert report["success"] and report["reason"] == "done"

        phi = np.array([m.data for t, m in h.messages("/grm/progress") if t >= t0])
        assert len(phi) >= 10 and np.all((phi >= 0) & (phi <= 1))
        # The monitor sees the drawer close: progress peaks well above the start. Not the final
        # value: the sim runs free, so the arm's pose after the push varies, and the zero-shot
        # GRM scores some of those end poses near 0 with the drawer shut (3 of 8 runs).
        assert phi.max() > phi[:5].mean() + 0.3, phi.round(2)

        with open_episode(stop.message) as ep:  # the recorded demo, in the dataset format
            assert ep.success and ep.cameras == CAMERAS and ep.num_frames >= 20
            assert ep.frames(0).shape == (3, 64, 64, 3)
            assert len(ep.keyframes) == 3 and 0 < ep.keyframes[1] < ep.num_frames - 1
            assert ep.array("obs/state").shape == (ep.num_frames, 8)  # 7 joints + gripper
            assert np.abs(ep.array("actions")).max() > 0.1  # the expert's commands were recorded
    finally:
        h.close()
        nodes.stop()
    # ... and it drives one-shot adaptation like any collected demo
    out = train(compose("train", TrainConfig, [f"datasets=[{stop.message}]", f"out={tmp_path / 'adapt'}",
                                               "init=grm/pretrained/grm_multi_embodiment.pt", "steps=2", "batch_size=2",
                                               "ckpt_every=2", "log_every=1", "progress=false",
                                               "sampler.same_episode_reference=1.0"]))
    assert Path(out).is_file()


def test_recorder_says_when_no_command_reaches_it(ros_domain, tmp_path):
    """Without a policy or teleop node the recording stores zero actions: the start reply counts
    no command publisher, and the stop warns in the log."""
    from std_srvs.srv import SetBool, Trigger

    params = {
        "sim_robot": {"ros__parameters": {"profile": "sawyer_metaworld", "task": "drawer-close-v3", "seed": 0,
                                          "cameras": CAMERAS[:1], "image_size": 32}},
        "recorder": {"ros__parameters": {"profile": "sawyer_metaworld", "out": str(tmp_path / "real"),
                                         "task": "drawer-close-v3", "cameras": CAMERAS[:1], "rate_hz": 20.0}},
    }
    nodes = start_nodes(tmp_path, params)
    h = Harness(nodes=nodes)
    try:
        replies = []
        h.wait_for(lambda: replies.append(h.call(Trigger, "/recorder/start", Trigger.Request())) or replies[-1].success,
                   60, nodes, "the recorder")
        assert replies[-1].message == "recording; command publishers: 0"
        time.sleep(0.5)
        stop = h.call(SetBool, "/recorder/stop", SetBool.Request(data=False))
        assert stop.success, stop.message
        h.wait_for(lambda: "stores zero actions" in nodes.logs["recorder"].read_text(), 10, nodes, "the warning")
    finally:
        h.close()
        nodes.stop()


def test_rosbag2_import(tmp_path):
    """A bag written with the rosbags writer (what `ros2 bag record` produces) -> an episode."""
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore

    from grm.dataset import open_episode
    from hardware.rosbag_import import import_bag

    ts = get_typestore(Stores.ROS2_KILTED)
    Image, JointState = ts.types["sensor_msgs/msg/Image"], ts.types["sensor_msgs/msg/JointState"]
    TwistStamped, Twist = ts.types["geometry_msgs/msg/TwistStamped"], ts.types["geometry_msgs/msg/Twist"]
    Header, Time = ts.types["std_msgs/msg/Header"], ts.types["builtin_interfaces/msg/Time"]
    Vector3 = ts.types["geometry_msgs/msg/Vector3"]
    bag = tmp_path / "bag"
    names = [f"right_j{i}" for i in range(7)] + ["gripper_opening"]
    with Writer(bag, version=9) as w:
        cams = {c: w.add_connection(f"/camera/{c}/image", Image.__msgtype__, typestore=ts) for c in ("corner", "topview")}
        js = w.add_connection("/joint_states", JointState.__msgtype__, typestore=ts)
        tw = w.add_connection("/servo/twist", TwistStamped.__msgtype__, typestore=ts)
        for k in range(40):  # 2 s at 20 Hz
            t = 1_000_000_000 + k * 50_000_000
            hdr = Header(stamp=Time(sec=t // 10**9, nanosec=t % 10**9), frame_id="")
            for i, (c, conn) in enumerate(cams.items()):
                img = np.full((48, 48, 3), (k * 5 + i) % 256, dtype=np.uint8)
                w.write(conn, t, ts.serialize_cdr(Image(header=hdr, height=48, width=48, encoding="rgb8", is_bigendian=0,
                                                         step=144, data=img.reshape(-1)), Image.__msgtype__))
            pos = np.array([0.0, -1.0, 0.0, 1.0, 0.0, 0.5, 0.01 * k, 1.0])
            w.write(js, t, ts.serialize_cdr(JointState(header=hdr, name=names[::-1], position=pos[::-1].copy(),
                                                       velocity=np.zeros(0), effort=np.zeros(0)), JointState.__msgtype__))
            twist = Twist(linear=Vector3(x=0.4, y=0.0, z=-0.8), angular=Vector3(x=0.0, y=0.0, z=0.0))
            w.write(tw, t, ts.serialize_cdr(TwistStamped(header=hdr, twist=twist), TwistStamped.__msgtype__))
    path = import_bag(bag, tmp_path / "real", "drawer-close-v3", "sawyer_metaworld", ["corner", "topview"],
                      command_topic="/servo/twist", rate_hz=10.0, image_size=32, keyframes_s=[1.0])
    with open_episode(path) as ep:
        assert ep.num_frames == 20 and ep.cameras == ["corner", "topview"] and ep.success
        assert ep.frames(0).shape == (2, 32, 32, 3)
        np.testing.assert_allclose(ep.array("obs/state")[:, 6], 0.02 * np.arange(20), atol=1e-9)  # reordered by name
        np.testing.assert_allclose(ep.array("actions")[0, :3], [0.5, 0.0, -1.0], atol=1e-6)  # m/s -> policy units
        assert list(ep.keyframes) == [0, 10, 19]
    with pytest.raises(ValueError, match="no topic"):
        import_bag(bag, tmp_path / "real", "t", "sawyer_metaworld", ["nonexistent"])


def test_launch_files_start_the_nodes_grm_deploy_starts(monkeypatch):
    """Executes every launch/*.launch.py against a minimal stand-in for the launch API (no
    launch wheel exists here) and checks each Node names an installed console script and the
    params file, and that bringup starts exactly grm-deploy's node set."""
    import sys
    import tomllib
    import types

    from hardware.deploy import load_params, plan

    made = []

    class Action:
        def __init__(self, *args, **kwargs):
            self.args, self.kwargs = args, kwargs
            made.append(self)

    class LaunchConfiguration(Action):
        def perform(self, context):
            return context[self.args[0]]

    modules = {
        "launch": types.SimpleNamespace(LaunchDescription=lambda entities: list(entities)),
        "launch.actions": types.SimpleNamespace(DeclareLaunchArgument=type("Declare", (Action,), {}),
                                                OpaqueFunction=type("Opaque", (Action,), {})),
        "launch.substitutions": types.SimpleNamespace(LaunchConfiguration=LaunchConfiguration),
        "launch_ros": types.ModuleType("launch_ros"),
        "launch_ros.actions": types.SimpleNamespace(Node=type("Node", (Action,), {})),
    }
    for name, mod in modules.items():
        monkeypatch.setitem(sys.modules, name, mod)
    scripts = tomllib.loads(Path("pyproject.toml").read_text())["project"]["scripts"]
    files = sorted(Path("launch").glob("*.launch.py"))
    assert {f.name for f in files} >= {"bringup.launch.py", "policy.launch.py", "sim_robot.launch.py",
                                        "grm_monitor.launch.py", "recorder.launch.py"}
    params_file = "configs/ros/sim_metaworld.yaml"
    for f in files:
        ns: dict = {}
        exec(compile(f.read_text(), str(f), "exec"), ns)
        entities = ns["generate_launch_description"]()
        declared = [e for e in entities if type(e).__name__ == "Declare"]
        assert declared and declared[0].args[0] == "params_file" and Path(declared[0].kwargs["default_value"]).is_file()
        nodes = [e for e in entities if type(e).__name__ == "Node"]
        for e in entities:
            if type(e).__name__ == "Opaque":
                nodes += e.kwargs["function"]({"params_file": params_file})
        assert nodes, f.name
        for node in nodes:
            assert node.kwargs["executable"] in scripts, node.kwargs
        if f.name == "bringup.launch.py":
            assert [n.kwargs["name"] for n in nodes] == [s.role for s in plan(load_params(params_file))]


def test_monitor_refuses_an_unknown_reward_model_in_one_line(ros_domain):
    import rclpy
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    from hardware.grm_monitor_node import GRMMonitor

    rclpy.init()
    try:
        node = Node("monitor_refusal", parameter_overrides=[Parameter("reward_model", value="nope"),
                                                           Parameter("reference", value="x.hdf5")])
        with pytest.raises(ValueError, match="parameter 'reward_model' is 'nope'; it must be one of grm, robodopamine"):
            GRMMonitor(node)
        node.destroy_node()
    finally:
        rclpy.shutdown()
