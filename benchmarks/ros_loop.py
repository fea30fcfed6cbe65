"""Control-loop latency and rate of the policy node over real DDS on loopback.

    python benchmarks/ros_loop.py [--seconds 5] [--rates 100 500] [--policy model.zip]

A stand-in robot (this process) streams the sawyer_metaworld inputs (JointState + EE, object
and goal poses) at each rate; the policy node (its own process, `trigger: state`) answers
each JointState with a command, the policy in the loop: a grm-rl SAC network (256x256 MLP,
untrained unless --policy gives a model.zip: same cost). Reported per rate:
- in-node latency, JointState callback -> command published (the node's own clock, p50/p99);
- round trip robot -> node -> robot (two DDS hops + the node; an upper bound, p50/p99);
- achieved control rate: commands per second / target rate.
The robot profile is the shipped one with rate_hz set to the rate under test.
Writes benchmarks/results/ros_loop.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

from hardware.deploy import NodeSet, plan, write_params
from hardware.dds import use_loopback
from hardware.profile import PROFILE_DIR

OUT = Path(__file__).parent / "results" / "ros_loop.json"


def make_policy(tmp: Path) -> str:
    from stable_baselines3 import SAC

    from envs.rl_task import RLTask
    from policies.policy_file import save_policy_file

    env = RLTask("drawer-close-v3", (), 64, 150)
    model = SAC("MlpPolicy", env, policy_kwargs={"net_arch": [256, 256]}, device="cpu", seed=0)
    path = tmp / "sac_untrained.zip"
    save_policy_file(model, path)
    env.close()
    return str(path)


def run_rate(rate: float, seconds: float, policy: str, tmp: Path) -> dict:
    import rclpy
    from geometry_msgs.msg import PoseStamped, TwistStamped
    from sensor_msgs.msg import JointState
    from std_msgs.msg import String

    raw = yaml.safe_load((PROFILE_DIR / "sawyer_metaworld.yaml").read_text())
    raw["rate_hz"] = float(rate)
    profile = tmp / f"sawyer_{int(rate)}hz.yaml"
    profile.write_text(yaml.safe_dump(raw))
    params = {"policy_node": {"ros__parameters": {"profile": str(profile), "policy": policy, "autostart": True,
                                                  "trigger": "state", "stats_period_s": 0.5}}}
    run_dir = tmp / f"rate{int(rate)}"
    run_dir.mkdir()
    nodes = NodeSet(plan(params), write_params(run_dir / "params.yaml", params), run_dir, dict(os.environ))
    rclpy.init()
    node = rclpy.create_node("ros_loop_robot")
    sent, recv, stats = [], [], []
    node.create_subscription(TwistStamped, "/servo/twist", lambda m: recv.append(time.perf_counter()), 100)
    node.create_subscription(String, "/policy_node/stats", lambda m: stats.append(json.loads(m.data)), 10)
    js_pub = node.create_publisher(JointState, "/joint_states", 100)
    pose_pubs = [node.create_publisher(PoseStamped, t, 10)
                 for t in ("/ee_pose", "/objects/obj0/pose", "/objects/obj1/pose", "/goal_pose")]
    spin = threading.Thread(target=lambda: rclpy.spin(node), daemon=True)
    spin.start()
    js = JointState(name=[f"right_j{i}" for i in range(7)] + ["gripper_opening"],
                    position=[0.0, -1.0, 0.0, 1.0, 0.0, 0.5, 0.0, 1.0])
    pose = PoseStamped()
    pose.pose.position.y, pose.pose.position.z, pose.pose.orientation.w = 0.6, 0.2, 1.0

    def stream(duration: float, record: bool) -> None:
        period = 1.0 / rate
        t_next = time.perf_counter()
        end = t_next + duration
        while t_next < end:
            for p in pose_pubs:
                p.publish(pose)
            js.header.stamp = node.get_clock().now().to_msg()
            if record:
                sent.append(time.perf_counter())
            js_pub.publish(js)
            t_next += period
            while (d := t_next - time.perf_counter()) > 0:
                time.sleep(min(d, 0.0005) if d < 0.002 else d - 0.0015)

    try:
        deadline = time.monotonic() + 60
        while not recv:  # warm-up: node up, policy loaded, episode autostarted
            stream(0.2, False)
            nodes.check()
            if time.monotonic() > deadline:
                raise TimeoutError("the policy node sent no command within 60 s")
        stream(0.5, False)
        n_before = len(recv)
        stats.clear()
        t0 = time.perf_counter()
        stream(seconds, True)
        time.sleep(0.3)
        t1 = sent[-1]
        got = [t for t in recv[n_before:] if t0 <= t <= t1 + 0.1]
        # the k-th command answers the k-th JointState (trigger: state): pair each send with
        # the first command received after it
        idx = np.searchsorted(np.array(got), np.array(sent))
        rtt = np.array([got[i] - s for i, s in zip(idx, sent) if i < len(got)]) * 1e3
        time.sleep(0.6)
        last = stats[-1] if stats else {}
    finally:
        node.destroy_node()
        rclpy.shutdown()
        nodes.stop()
    return {
        "rate_hz": rate, "seconds": seconds, "states_sent": len(sent), "commands": len(got),
        "achieved_hz": len(got) / (t1 - t0), "achieved_ratio": len(got) / (t1 - t0) / rate,
        "node_latency_ms_p50": last.get("latency_ms_p50"), "node_latency_ms_p99": last.get("latency_ms_p99"),
        "round_trip_ms_p50": float(np.percentile(rtt, 50)), "round_trip_ms_p99": float(np.percentile(rtt, 99)),
        "refused": last.get("refused"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rates", type=float, nargs="+", default=[100.0, 500.0])
    ap.add_argument("--policy", default=None, help="an SB3 model.zip (default: an untrained grm-rl-sized SAC)")
    ap.add_argument("--domain-id", type=int, default=1 + os.getpid() % 100)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    use_loopback(args.domain_id)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        policy = args.policy or make_policy(tmp)
        for rate in args.rates:
            rows.append(run_rate(rate, args.seconds, policy, tmp))
    print(f"{'rate':>6} {'achieved':>9} {'node p50':>9} {'node p99':>9} {'rtt p50':>8} {'rtt p99':>8}  (ms)")
    for r in rows:
        print(f"{r['rate_hz']:6.0f} {r['achieved_ratio']:9.3f} {r['node_latency_ms_p50']:9.3f} "
              f"{r['node_latency_ms_p99']:9.3f} {r['round_trip_ms_p50']:8.3f} {r['round_trip_ms_p99']:8.3f}")
    result = {"benchmark": "ros_loop", "policy": args.policy or "untrained SAC 256x256 (grm-rl size)",
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
