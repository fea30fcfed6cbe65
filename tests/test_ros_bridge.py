"""The bridge over real rclpy / Fast DDS on loopback: closed loop, faults, the hand profile."""
import json
import signal
import threading
import time

import numpy as np
import pytest

from ros_harness import Harness, start_nodes

SAWYER_JOINTS = [f"right_j{i}" for i in range(7)]


def test_closed_loop_through_the_bridge_matches_in_process(ros_domain, tmp_path):
    """Scripted expert through policy node + MuJoCo robot node vs the same policy in-process,
    on the same placements: same successes, same episode lengths (+-1 for the done message)."""
    from hardware.deploy import deploy
    from policies.rl_run import run_episodes
    from envs.scripted_expert import ScriptedExpert

    n, task = 4, "drawer-close-v3"
    result = deploy("configs/ros/sim_metaworld.yaml", tmp_path, episodes=n, loopback=True, domain_id=ros_domain,
                    progress=False)
    expert = ScriptedExpert(task)
    local = run_episodes(lambda obs: expert.act(obs)[0], task, 150, n, seed=0)
    for ep, ref in zip(result["episodes"], local):
        assert ref["seed"] == ep["seed"]
        assert ep["success"] == ref["success"]
        assert abs(ep["steps"] - ref["steps"]) <= 1, (ep, ref)
    assert result["success_rate"] == 1.0
    assert json.loads((tmp_path / "episodes.json").read_text())["success_rate"] == 1.0


class InputFeed:
    """Publishes the sawyer_metaworld inputs at 100 Hz from a thread; JointState can be muted."""

    def __init__(self, h: Harness):
        from geometry_msgs.msg import PoseStamped
        from sensor_msgs.msg import JointState

        self.h, self.JointState, self.PoseStamped = h, JointState, PoseStamped
        self.js = h.node.create_publisher(JointState, "/joint_states", 10)
        self.poses = {t: h.node.create_publisher(PoseStamped, t, 10)
                      for t in ("/ee_pose", "/objects/obj0/pose", "/objects/obj1/pose", "/goal_pose")}
        self.send_js = True
        self.last_js = None  # header stamp (s) of the last JointState sent
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def joint_state(self, names=None, position=None, stamp=None):
        msg = self.JointState()
        msg.header.stamp = stamp or self.h.node.get_clock().now().to_msg()
        msg.name = names or SAWYER_JOINTS + ["gripper_opening"]
        msg.position = position or [0.0, -1.0, 0.0, 1.0, 0.0, 0.5, 0.0, 1.0]
        return msg

    def _loop(self):
        xyz = {"/ee_pose": (0.0, 0.6, 0.2), "/objects/obj0/pose": (0.0, 0.8, 0.1), "/objects/obj1/pose": (0, 0, 0),
               "/goal_pose": (0.0, 0.7, 0.09)}
        while self.running:
            for topic, pub in self.poses.items():
                m = self.PoseStamped()
                m.pose.position.x, m.pose.position.y, m.pose.position.z = (float(v) for v in xyz[topic])
                m.pose.orientation.w = 1.0
                pub.publish(m)
            if self.send_js:
                msg = self.joint_state()
                self.js.publish(msg)
                self.last_js = _stamp(msg)
            time.sleep(0.01)

    def stop(self):
        self.running = False
        self.thread.join()


def _stamp(msg) -> float:
    """A message's header stamp in seconds: timing is judged by when a node published, not by when
    a loaded test process got around to receiving it."""
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def _stats(h):
    msgs = h.messages("/policy_node/stats")
    return json.loads(msgs[-1][1].data) if msgs else {}


def _health(h) -> tuple[int, str] | None:
    """The policy node's latest /diagnostics status: (level, message)."""
    mine = [st for _, m in h.messages("/diagnostics") for st in m.status if st.name == "/policy_node"]
    return (mine[-1].level[0], mine[-1].message) if mine else None


def test_watchdog_refusals_estop_and_clean_stop(ros_domain, tmp_path):
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import TwistStamped
    from std_msgs.msg import Bool, String
    from std_srvs.srv import SetBool, Trigger

    params = {"policy_node": {"ros__parameters": {
        "profile": "sawyer_metaworld", "policy": "scripted:drawer-close-v3", "autostart": True,
        "trigger": "timer", "stats_period_s": 0.2}}}
    nodes = start_nodes(tmp_path, params)
    h = Harness(nodes=nodes)
    feed = None
    try:
        twists = h.record(TwistStamped, "/servo/twist")
        h.record(String, "/policy_node/stats")
        h.record(DiagnosticArray, "/diagnostics")
        feed = InputFeed(h)
        moving = lambda: len(h.messages("/servo/twist")) > 20 and any(
            m.twist.linear.y != 0 for _, m in h.messages("/servo/twist")[-3:])
        h.wait_for(moving, 60, nodes, "policy commands")
        h.wait_for(lambda: _health(h) == (0, "running"), 5, nodes, "an OK running status on /diagnostics")

        # 1. a silenced JointState: hold (zero velocity) within one watchdog period
        feed.send_js = False
        time.sleep(0.6)
        t_last = feed.last_js
        after = [(_stamp(m), m) for _, m in h.messages("/servo/twist") if _stamp(m) > t_last]
        zero = [t for t, m in after if m.twist.linear.x == m.twist.linear.y == m.twist.linear.z == 0.0]
        assert zero, "no hold command after JointState went silent"
        first_hold = zero[0]
        assert all(m.twist.linear.y == 0.0 for t, m in after if t >= first_hold)  # and it keeps holding
        assert first_hold - t_last <= 0.1 + 2 * 0.0125 + 0.05, first_hold - t_last
        feed.send_js = True
        h.wait_for(moving, 10, nodes, "commands to resume")

        # 2. bad inputs are refused with a logged reason
        now = h.node.get_clock().now().to_msg()
        bad = [lambda: feed.joint_state(position=[float("nan")] + [-1.0, 0, 1, 0, 0.5, 0, 1]),
               lambda: feed.joint_state(position=[0.0, 2.0, 0, 1, 0, 0.5, 0, 1]),  # right_j1 is in [-3.8, -0.5]
               lambda: feed.joint_state(names=SAWYER_JOINTS[:-1] + ["right_j0", "gripper_opening"]),
               lambda: feed.joint_state(stamp=type(now)(sec=max(0, now.sec - 100), nanosec=0))]
        refused0 = _stats(h).get("refused", 0)
        for make in bad:
            feed.js.publish(make())  # stamped now: refused for its content, not for its age
            time.sleep(0.02)
        h.wait_for(lambda: _stats(h).get("refused", 0) >= refused0 + 4, 10, nodes, "4 refusals")
        log = (tmp_path / "logs" / "policy_node.log").read_text()
        for reason in ("non-finite", "outside", "repeats", "older than"):
            assert reason in log, reason

        # 3. e-stop: command output stops at once
        estop = h.node.create_publisher(Bool, "/estop", 10)
        time.sleep(0.3)
        t_stop = h.node.get_clock().now().nanoseconds * 1e-9
        estop.publish(Bool(data=True))
        time.sleep(0.5)
        late = [_stamp(m) for _, m in h.messages("/servo/twist") if _stamp(m) > t_stop + 0.03]
        assert not late, f"{len(late)} commands after the e-stop"
        h.wait_for(lambda: _stats(h).get("state") == "estop", 5, nodes, "estop state")
        h.wait_for(lambda: _health(h) == (2, "estop"), 5, nodes, "an ERROR status on /diagnostics")
        assert not h.call(Trigger, "/policy_node/start", Trigger.Request()).success  # refused while stopped
        assert h.call(SetBool, "/policy_node/estop", SetBool.Request(data=False)).success
        time.sleep(0.5)
        assert not [m for _, m in h.messages("/servo/twist") if _stamp(m) > t_stop + 0.03]  # release != restart

        # 4. restart, then a clean stop on SIGINT: the last command is a hold
        h.wait_for(lambda: h.call(Trigger, "/policy_node/start", Trigger.Request()).success, 30, nodes, "a restart")
        n0 = len(twists)
        h.wait_for(lambda: len(h.messages("/servo/twist")) > n0 + 10, 10, nodes, "commands after restart")
        assert h.messages("/servo/twist")[-1][1].twist.linear.y != 0
        proc = nodes.procs["policy_node"]
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        time.sleep(0.3)
        assert proc.returncode == 0, (tmp_path / "logs" / "policy_node.log").read_text()[-3000:]
        last = h.messages("/servo/twist")[-1][1].twist.linear
        assert last.x == last.y == last.z == 0.0
    finally:
        if feed:
            feed.stop()
        h.close()
        nodes.stop()


@pytest.mark.parametrize("interface", ["float64_multi_array", "joint_trajectory"])
def test_hand_profile_reaches_a_goal_pose_through_the_controller_order(ros_domain, tmp_path, interface):
    """Adroit hand in MuJoCo behind the adroit_hand profile: JointState and commands in the
    driver's (alphabetical) order, goal in the policy's order. The hand starts away from the
    profile's start pose, moves there slowly, then reaches the goal; every command within limits."""
    import yaml
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray
    from std_srvs.srv import Trigger
    from trajectory_msgs.msg import JointTrajectory

    from hardware.profile import PROFILE_DIR, load_profile

    raw = yaml.safe_load((PROFILE_DIR / "adroit_hand.yaml").read_text())
    raw["command"]["interface"] = interface
    base = load_profile("adroit_hand")
    raw["start_pose"] = [float(x) for x in base.lower + 0.5 * (base.upper - base.lower)]
    (tmp_path / "hand.yaml").write_text(yaml.safe_dump(raw))
    prof = load_profile(tmp_path / "hand.yaml")
    params = {
        "sim_robot": {"ros__parameters": {"profile": str(tmp_path / "hand.yaml"), "sync": "timer",
                                          "initial_pose": [float(x) for x in np.clip(0.0, prof.lower, prof.upper)]}},
        # started by the harness once it hears the node set, so that it records the very first command
        # (with autostart, a harness starved under load subscribed after the first commands had gone out)
        "policy_node": {"ros__parameters": {"profile": str(tmp_path / "hand.yaml"), "policy": "goal_tracker"}},
    }
    nodes = start_nodes(tmp_path, params)
    h = Harness(nodes=nodes)
    try:
        msg_type = Float64MultiArray if interface == "float64_multi_array" else JointTrajectory
        cmds = h.record(msg_type, "/hand_controller/commands")
        h.record(JointState, "/hand/joint_states")
        goal = prof.lower + np.linspace(0.2, 0.8, len(prof.joints)) * (prof.upper - prof.lower)  # policy order
        pub = h.node.create_publisher(Float64MultiArray, "/hand/goal", 10)
        stop = threading.Event()

        def feed():
            while not stop.is_set():
                pub.publish(Float64MultiArray(data=[float(x) for x in goal]))
                time.sleep(0.02)
        threading.Thread(target=feed, daemon=True).start()
        h.wait_for(lambda: h.messages("/hand/joint_states") and h.node.count_publishers("/hand_controller/commands"),
                   60, nodes, "joint states and the policy node's command publisher")
        assert not h.messages("/hand_controller/commands")  # nothing is commanded before the episode starts
        h.wait_for(lambda: h.call(Trigger, "/policy_node/start", Trigger.Request()).success, 60, nodes,
                   "the policy node to start (every input fresh)")
        h.wait_for(lambda: len(h.messages("/hand_controller/commands")) > 250, 60, nodes, "250 hand commands")
        stop.set()
        js = h.messages("/hand/joint_states")[-1][1]
        assert list(js.name) == list(prof.command.command_order)  # the driver's order, not the policy's
        by_name = dict(zip(js.name, js.position))
        q = np.array([by_name[n] for n in prof.joint_names])
        assert np.max(np.abs(q - goal)) < 0.1, np.abs(q - goal).round(3)
        perm = prof.command_permutation()
        if interface == "joint_trajectory":
            assert all(list(m.joint_names) == list(prof.command.command_order) for _, m in cmds)
            sent = np.array([m.points[0].positions for _, m in cmds])
        else:
            sent = np.array([m.data for _, m in cmds])  # command (controller) order
        lo, hi, step = prof.lower[perm], prof.upper[perm], (prof.max_velocity * prof.period)[perm]
        assert np.all(sent >= lo - 1e-12) and np.all(sent <= hi + 1e-12)
        assert np.all(np.abs(np.diff(sent, axis=0)) <= step + 1e-9)
        # the move to the start pose: at start_speed x the velocity limit until it is reached
        start = np.asarray(prof.start_pose)[perm]
        # the first command starts from where the hand was measured (it sags a little before the start)
        # (which state the policy node held is not which one this harness saw last: under load
        # the two processes receive them in different order, so any state near that time counts)
        # (a starved harness can go longer than that without a state, so the ten nearest always count)
        t_first = cmds[0][0]
        states = sorted(h.messages("/hand/joint_states"), key=lambda tm: abs(tm[0] - t_first))
        around = [m for i, (t, m) in enumerate(states) if i < 10 or abs(t - t_first) < 0.25]
        assert around and all(list(m.name) == list(prof.command.command_order) for m in around)
        gap = min(np.max(np.abs(sent[0] - np.asarray(m.position)) - (prof.start_speed * step + 0.005)) for m in around)
        assert gap <= 0.0, f"first command {gap:.4f} rad beyond one slow step from every measured pose"
        reached = np.nonzero(np.max(np.abs(sent - start), axis=1) < prof.start_tolerance)[0]
        assert len(reached) and reached[0] > 10, "never commanded (slowly) to the start pose"
        assert np.all(np.abs(np.diff(sent[: reached[0] + 1], axis=0)) <= prof.start_speed * step + 1e-9)
        np.testing.assert_allclose(sent[-1], goal[perm], atol=1e-9)
    finally:
        h.close()
        nodes.stop()


def test_tweezer_low_level_holds_commanded_openings_through_the_hand_profile(ros_domain, tmp_path):
    """The shipped low-level tweezer policy (goal-conditioned SB3 model) behind the adroit_tweezers
    profile, against the simulated hand holding the tweezers: goal openings streamed on the goal
    topic are reached and held through JointState (fingers + hinge) and delta finger commands;
    every command within the profile's limits and per-step bound."""
    from hardware.deploy import load_params
    from hardware.profile import load_profile
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    prof = load_profile("adroit_tweezers")
    params = load_params("configs/ros/sim_tweezers.yaml")
    nodes = start_nodes(tmp_path, params)
    h = Harness(nodes=nodes)
    try:
        h.record(Float64MultiArray, "/hand_controller/commands")
        h.record(JointState, "/hand/joint_states")
        pub = h.node.create_publisher(Float64MultiArray, "/tweezers/goal_opening", 10)
        goal = [0.05]
        stop = threading.Event()

        def feed():
            while not stop.is_set():
                pub.publish(Float64MultiArray(data=list(goal)))
                time.sleep(0.02)
        threading.Thread(target=feed, daemon=True).start()

        def opening_after(n_commands: int) -> np.ndarray:
            """Hinge angles of the states that came after the n-th command."""
            h.wait_for(lambda: len(h.messages("/hand_controller/commands")) >= n_commands, 90, nodes,
                       f"{n_commands} commands")
            t = h.messages("/hand_controller/commands")[n_commands - 25][0]  # the last 25 steps (1 s)
            return np.array([dict(zip(m.name, m.position))["tweezers_hinge"]
                             for s, m in h.messages("/hand/joint_states") if s >= t])

        held_closed = opening_after(75)  # 3 s at 25 Hz: the low level was trained on 50-step episodes
        goal[0] = 0.22
        n = len(h.messages("/hand_controller/commands"))
        held_open = opening_after(n + 75)
        stop.set()
        assert len(held_closed) > 5 and np.max(np.abs(held_closed - 0.05)) < 0.03, held_closed.round(3)
        assert len(held_open) > 5 and np.max(np.abs(held_open - 0.22)) < 0.03, held_open.round(3)
        js = h.messages("/hand/joint_states")[-1][1]
        assert list(js.name) == list(prof.command.command_order) + ["tweezers_hinge"]
        sent = np.array([m.data for _, m in h.messages("/hand_controller/commands")])
        perm = prof.command_permutation()
        assert np.all(sent >= prof.lower[perm] - 1e-12) and np.all(sent <= prof.upper[perm] + 1e-12)
        assert np.all(np.abs(np.diff(sent, axis=0)) <= (prof.max_velocity * prof.period)[perm] + 1e-9)
    finally:
        h.close()
        nodes.stop()
