"""grm-deploy never leaves a robot node behind, and refuses parameters its nodes do not take."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hardware.ros_common import STOP_GRACE_S

ROOT = Path(__file__).parents[1]


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper has already stopped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_no_node_outlives_grm_deploy(sig, ros_domain, tmp_path):
    cmd = [sys.executable, "-c", "from hardware.cli import deploy_main; deploy_main()",
           "params=configs/ros/sim_metaworld.yaml", "loopback=true", f"domain_id={ros_domain}", f"out={tmp_path}"]
    # started as a shell script's `grm-deploy ... &` starts it: with SIGINT ignored
    deploy = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        deadline = time.monotonic() + 60
        while len(_children(deploy.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        nodes = _children(deploy.pid)
        assert len(nodes) == 2, f"expected sim_robot and policy_node, got {nodes}"
        # both nodes up and spinning (their first log lines), so the signal meets running nodes
        while not all((tmp_path / "logs" / f"{r}.log").stat().st_size for r in ("sim_robot", "policy_node")):
            assert time.monotonic() < deadline, "nodes did not start"
            time.sleep(0.1)
        deploy.send_signal(sig)
        killed = time.monotonic()
        # a clean stop takes well under a second; one that hangs is ended STOP_GRACE_S after the signal
        while any(_alive(p) for p in nodes) and time.monotonic() - killed < STOP_GRACE_S + 1:
            time.sleep(0.02)
        assert not any(_alive(p) for p in nodes), f"node(s) still running {STOP_GRACE_S + 1} s after {sig.name}"
    finally:
        deploy.kill()
        deploy.wait()


def test_unknown_node_parameters_are_refused_with_the_valid_ones():
    from hardware.deploy import load_params

    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['polcy'\] for node policy_node; valid: .*'policy'"):
        load_params(ROOT / "configs/ros/sim_metaworld.yaml", {"policy_node": {"polcy": "x.zip"}})


def test_a_killed_deploy_leaves_a_hold_as_the_last_command_and_a_renamed_joint_is_named(ros_domain, tmp_path):
    """A policy node commanding the arm when grm-deploy is SIGKILLed: the kernel stops the node,
    whose last command is a hold. Before that, a JointState missing a joint makes `start` name it."""
    import yaml
    from geometry_msgs.msg import TwistStamped
    from std_srvs.srv import Trigger

    from ros_harness import Harness
    from test_ros_bridge import SAWYER_JOINTS, InputFeed

    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"policy_node": {"ros__parameters": {
        "profile": "sawyer_metaworld", "policy": "scripted:drawer-close-v3", "trigger": "timer"}}}))
    cmd = [sys.executable, "-c", "from hardware.cli import deploy_main; deploy_main()", f"params={params}",
           "loopback=true", f"domain_id={ros_domain}", f"out={tmp_path / 'run'}"]
    deploy = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    h, feed = Harness(), None
    try:
        h.record(TwistStamped, "/servo/twist")
        feed = InputFeed(h)
        feed.send_js = False
        renamed = SAWYER_JOINTS[:-1] + ["right_j6_renamed", "gripper_opening"]
        deadline = time.monotonic() + 60
        while True:  # the renamed joint is refused, and start says so
            feed.js.publish(feed.joint_state(names=renamed))
            reply = h.call(Trigger, "/policy_node/start", Trigger.Request())
            if "lacks joint(s) ['right_j6']" in reply.message or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert not reply.success and "lacks joint(s) ['right_j6']" in reply.message, reply.message
        feed.send_js = True
        h.wait_for(lambda: h.call(Trigger, "/policy_node/start", Trigger.Request()).success, 30, what="a start")
        h.wait_for(lambda: len(h.messages("/servo/twist")) > 20, 30, what="commands")
        node = _children(deploy.pid)[0]
        deploy.kill()  # SIGKILL: no clean-up in grm-deploy at all
        deadline = time.monotonic() + 5
        while _alive(node) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(node)
        time.sleep(0.3)  # the last messages in flight
        last = h.messages("/servo/twist")[-1][1].twist.linear
        assert last.x == last.y == last.z == 0.0, last
    finally:
        if feed:
            feed.stop()
        h.close()
        deploy.kill()
        deploy.wait()


# A node factory whose stop never finishes, and the signal that asks it to stop.
HANGS = {
    # its clean stop never ends: the deadline armed by the stop request ends it
    "clean stop": (["    node = Node('hangs_on_stop')",
                    "    node.on_shutdown = lambda: time.sleep(3600)"], signal.SIGTERM),
    # a thread that never ends keeps the interpreter from exiting after run_node returns: the
    # deadline stays armed through the exit
    "exit": (["    threading.Thread(target=time.sleep, args=(3600,)).start()",
              "    node = Node('hangs_on_exit')"], signal.SIGINT),
}


@pytest.mark.parametrize("hang", list(HANGS))
def test_a_node_whose_stop_hangs_is_ended_by_the_kernel(hang, ros_domain):
    """run_node's stop gets STOP_GRACE_S after SIGINT / SIGTERM; then SIGALRM ends the process."""
    body, sig = HANGS[hang]
    code = "\n".join(["import threading, time", "from rclpy.node import Node", "from hardware.ros_common import run_node",
                      "def factory():", *body, "    print('up', flush=True)", "    return node",
                      "run_node(factory, [])"])
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        proc.send_signal(sig)
        start = time.monotonic()
        assert proc.wait(timeout=STOP_GRACE_S + 5) == -signal.SIGALRM
        assert STOP_GRACE_S - 0.5 < time.monotonic() - start < STOP_GRACE_S + 5
    finally:
        proc.kill()
        proc.wait()


def test_grm_deploy_kills_a_node_that_ignores_the_stop_once_its_grace_is_over(tmp_path):
    """A node that never runs its own deadline (its stop signal ignored, or its main thread stuck)
    is killed by grm-deploy STOP_GRACE_S after the stop."""
    from hardware.deploy import NodeSet, NodeSpec

    (tmp_path / "deaf_node.py").write_text("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                           "print('up', flush=True)\ntime.sleep(3600)\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    nodes = NodeSet([NodeSpec("deaf", "deaf_node", "deaf", {})], tmp_path / "params.yaml", tmp_path, env)
    proc = nodes.procs["deaf"]
    deadline = time.monotonic() + 30
    while not (tmp_path / "logs" / "deaf.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    start = time.monotonic()
    nodes.stop()
    assert proc.returncode == -signal.SIGKILL
    assert STOP_GRACE_S - 0.5 < time.monotonic() - start < STOP_GRACE_S + 2
