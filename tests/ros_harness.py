"""Test-side ROS 2 plumbing: start bridge nodes as processes, publish and record topics."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from hardware.deploy import NodeSet, plan, write_params


def start_nodes(tmp_path: Path, params: dict, env: dict | None = None) -> NodeSet:
    import os

    path = write_params(tmp_path / "params.yaml", params)
    return NodeSet(plan(params), path, tmp_path, dict(os.environ if env is None else env))


class Harness:
    """An rclpy node spinning in a background thread; records messages with arrival times."""

    def __init__(self, name: str = "test_harness", nodes: NodeSet | None = None):
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        rclpy.init()
        self.rclpy = rclpy
        self.node = rclpy.create_node(name)
        self.nodes = nodes  # node processes whose death ends any wait at once, with their log
        self.log: dict[str, list] = {}
        self.lock = threading.Lock()
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.running = True
        self.thread.start()

    def _spin(self) -> None:
        while self.running:
            self.executor.spin_once(timeout_sec=0.01)

    def record(self, msg_type, topic: str) -> list:
        self.log[topic] = []

        def cb(msg):
            with self.lock:
                self.log[topic].append((time.monotonic(), msg))
        self.node.create_subscription(msg_type, topic, cb, 50)
        return self.log[topic]

    def messages(self, topic: str) -> list:
        with self.lock:
            return list(self.log[topic])

    def wait_for(self, predicate, timeout: float, nodes: NodeSet | None = None, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        nodes = nodes or self.nodes
        while not predicate():
            if nodes is not None:
                nodes.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.02)

    def call(self, srv_type, name: str, request, timeout: float = 20.0):
        client = self.node.create_client(srv_type, name)
        deadline = time.monotonic() + timeout
        while not client.wait_for_service(timeout_sec=0.2):
            if self.nodes is not None:
                self.nodes.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"service {name} not available")
        future = client.call_async(request)
        deadline = time.monotonic() + timeout
        while not future.done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"service {name} did not answer")
            time.sleep(0.01)
        return future.result()

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=2)
        self.node.destroy_node()
        self.rclpy.shutdown()
