"""Start a set of bridge nodes from one ROS params file, as `ros2 launch` would, and
optionally run episodes through them.

The params file is an ordinary ROS 2 YAML (`<node>: ros__parameters: {...}`), the same one
the launch files in launch/ take; each top-level key names a node of the set:
    sim_robot -> hardware.sim_robot_node     policy_node -> hardware.policy_node
    grm_monitor -> hardware.grm_monitor_node recorder -> hardware.recorder_node
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from configs.files import write_text
from hardware.ros_common import STOP_GRACE_S

ROLES = {
    "sim_robot": ("hardware.sim_robot_node", "grm-sim-robot"),
    "policy_node": ("hardware.policy_node", "grm-policy-node"),
    "grm_monitor": ("hardware.grm_monitor_node", "grm-monitor"),
    "recorder": ("hardware.recorder_node", "grm-recorder"),
}


@dataclass(frozen=True)
class NodeSpec:
    role: str
    module: str
    executable: str  # console script (what launch files start)
    params: dict


def load_params(path: str | Path, overrides: dict | None = None) -> dict:
    """Read and check a deploy params file; `overrides` ({node: {param: value}}) are merged in."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"deploy params file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected '<node>: ros__parameters: ...' mappings")
    for role, section in (overrides or {}).items():
        raw.setdefault(role, {"ros__parameters": {}})
        raw[role].setdefault("ros__parameters", {}).update(section or {})
    for role, section in raw.items():
        if role not in ROLES:
            raise ValueError(f"{path}: unknown node {role!r}; known nodes: {sorted(ROLES)}")
        if not isinstance(section, dict) or set(section) != {"ros__parameters"} or not isinstance(section["ros__parameters"], dict):
            raise ValueError(f"{path}: node {role!r} must hold exactly one 'ros__parameters' mapping")
        known = node_parameters(role)
        unknown = sorted(set(section["ros__parameters"]) - known)
        if unknown:
            raise ValueError(f"{path}: unknown parameter(s) {unknown} for node {role}; valid: {sorted(known)}")
    if not raw:
        raise ValueError(f"{path}: no nodes")
    return raw


def node_parameters(role: str) -> set[str]:
    """The parameters a node declares (its module's PARAMS), plus the ones every ROS node takes."""
    return set(importlib.import_module(ROLES[role][0]).PARAMS) | {"use_sim_time"}


class _NoAliasDumper(yaml.SafeDumper):
    """rcl's params parser refuses YAML anchors/aliases, which PyYAML emits for shared lists."""

    def ignore_aliases(self, data) -> bool:
        return True


def write_params(path: str | Path, params: dict) -> Path:
    return write_text(path, yaml.dump(params, Dumper=_NoAliasDumper, sort_keys=False))


def plan(params: dict) -> list[NodeSpec]:
    """The nodes to start, in a fixed order (simulator first, so the robot is up first)."""
    return [NodeSpec(role, *ROLES[role], params[role]["ros__parameters"]) for role in ROLES if role in params]


def _stop_like_ctrl_c(*_) -> None:
    """SIGTERM (a supervisor, `kill`) stops grm-deploy as Ctrl-C does: through `finally`, which
    stops the nodes."""
    raise KeyboardInterrupt


def _die_with_parent(parent: int):
    """A child's pre-exec step: Linux sends it SIGTERM (its clean stop: a final hold command) when
    grm-deploy dies, however it dies (SIGKILL included); a parent already gone stops it at once."""
    def arm() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
    return arm


class NodeSet:
    """Child processes, one per node, logs in out/logs; stopped with SIGINT (clean stop) then
    SIGKILL once the nodes' grace is over, and tied to this process's life (no node outlives
    grm-deploy)."""

    def __init__(self, specs: list[NodeSpec], params_file: Path, out: Path, env: dict):
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        (out / "logs").mkdir(parents=True, exist_ok=True)
        for spec in specs:
            log = out / "logs" / f"{spec.role}.log"
            self.logs[spec.role] = log
            cmd = [sys.executable, "-m", spec.module, "--ros-args", "--params-file", str(params_file),
                   "-r", f"__node:={spec.role}"]
            self.procs[spec.role] = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                                     preexec_fn=_die_with_parent(os.getpid()))

    def check(self) -> None:
        """Raise if a node died: its exit code and the end of its log."""
        for role, p in self.procs.items():
            if p.poll() is not None:
                tail = self.logs[role].read_text()[-3000:]
                raise RuntimeError(f"node {role} exited with code {p.returncode}; end of its log:\n{tail}")

    def stop(self, timeout: float = STOP_GRACE_S) -> None:
        """Each node's own deadline (STOP_GRACE_S after the signal) needs its signal handler to run;
        this one does not: a node whose main thread is stuck never arms its own."""
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class EpisodeRunner:
    """Drives episodes through the nodes: reset the simulator, start the policy, await its report."""

    def __init__(self, has_sim: bool, has_monitor: bool):
        import rclpy
        from rclpy.node import Node
        from std_msgs.msg import String
        from std_srvs.srv import Trigger

        self.rclpy = rclpy
        self.node = Node("grm_deploy_runner")
        self.Trigger = Trigger
        self.reports: list[dict] = []
        self.node.create_subscription(String, "/policy_node/episode", lambda m: self.reports.append(json.loads(m.data)), 10)
        self.clients = {"start": self.node.create_client(Trigger, "/policy_node/start")}
        if has_sim:
            self.clients["reset"] = self.node.create_client(Trigger, "/sim_robot/reset")
        if has_monitor:
            self.clients["monitor_reset"] = self.node.create_client(Trigger, "/grm_monitor/reset")

    def call(self, name: str, timeout: float = 20.0, nodes: NodeSet | None = None) -> str:
        client = self.clients[name]
        deadline = time.monotonic() + timeout
        while not client.wait_for_service(timeout_sec=0.2):
            if nodes is not None:
                nodes.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"service {client.srv_name} did not appear within {timeout} s")
        future = client.call_async(self.Trigger.Request())
        self.rclpy.spin_until_future_complete(self.node, future, timeout_sec=max(0.1, deadline - time.monotonic()))
        if not future.done():
            raise TimeoutError(f"service {client.srv_name} did not answer")
        res = future.result()
        if not res.success:
            raise RuntimeError(f"{client.srv_name} refused: {res.message}")
        return res.message

    def episode(self, timeout: float, nodes: NodeSet) -> dict:
        info = {}
        if "reset" in self.clients:
            info["seed"] = int(self.call("reset", nodes=nodes))
        self.spin(0.05)  # let the fresh state reach the policy node
        if "monitor_reset" in self.clients:
            self.call("monitor_reset", nodes=nodes)
        n = len(self.reports)
        for attempt in range(50):  # the policy node may not have the new state yet
            try:
                self.call("start", nodes=nodes)
                break
            except RuntimeError as exc:
                if "stale" not in str(exc) or attempt == 49:
                    raise
                self.spin(0.1)
        deadline = time.monotonic() + timeout
        while len(self.reports) == n:
            self.spin(0.05)
            nodes.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"episode did not end within {timeout} s")
        return {**self.reports[-1], **info}

    def spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.rclpy.spin_once(self.node, timeout_sec=max(0.0, end - time.monotonic()))


def deploy(params_file: str | Path, out: str | Path, episodes: int = 0, overrides: dict | None = None,
           loopback: bool = False, domain_id: int | None = None, episode_timeout_s: float = 120.0,
           progress: bool = True) -> dict:
    """Start the node set; with episodes > 0 run them and return the results, else run until Ctrl-C."""
    from tqdm import tqdm

    from hardware.dds import use_loopback

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    params = load_params(params_file, overrides)
    resolved = out / "params.yaml"  # the exact parameters the nodes ran with
    write_params(resolved, params)
    env = dict(os.environ)
    if loopback:
        use_loopback(domain_id, env)
        use_loopback(domain_id)  # this process's runner node too
    elif domain_id is not None:
        env["ROS_DOMAIN_ID"] = os.environ["ROS_DOMAIN_ID"] = str(int(domain_id))
    specs = plan(params)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
        # started in the background by a shell without job control (`grm-deploy ... &` in a script),
        # a process inherits SIGINT ignored, and Python then keeps it ignored: Ctrl-C and `kill -INT`
        # would leave grm-deploy and its nodes running
        signal.signal(signal.SIGINT, signal.default_int_handler)
    nodes = NodeSet(specs, resolved, out, env)
    results: dict = {"params": str(resolved), "nodes": [s.role for s in specs]}
    try:
        if episodes <= 0:
            print(f"running {results['nodes']} (logs in {out / 'logs'}); Ctrl-C to stop")
            while True:
                time.sleep(0.5)
                nodes.check()
        if "policy_node" not in params:
            raise ValueError("episodes > 0 needs a policy_node in the params file")
        import rclpy

        rclpy.init()
        try:
            runner = EpisodeRunner("sim_robot" in params, "grm_monitor" in params)
            eps = []
            for _ in tqdm(range(episodes), desc="episodes", disable=not progress):
                eps.append(runner.episode(episode_timeout_s, nodes))
            runner.node.destroy_node()
        finally:
            rclpy.shutdown()
        results["episodes"] = eps
        results["success_rate"] = sum(e["success"] for e in eps) / len(eps)
        write_text(out / "episodes.json", json.dumps(results, indent=2))
        return results
    except KeyboardInterrupt:
        return results
    finally:
        nodes.stop()
