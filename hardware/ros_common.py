"""Small rclpy helpers shared by the nodes: parameters, images, node start-up."""
from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np


def declare(node, defaults: dict) -> dict:
    """Declare ROS parameters with defaults and return their values (from --params-file, -p)."""
    out = {}
    for name, default in defaults.items():
        node.declare_parameter(name, default)
        out[name] = node.get_parameter(name).value
    return out


def image_to_array(msg, size: int = 0) -> np.ndarray:
    """sensor_msgs/Image (rgb8 or bgr8) -> (H, W, 3) uint8 RGB, resized to size x size if size."""
    if msg.encoding not in ("rgb8", "bgr8"):
        raise ValueError(f"image encoding {msg.encoding!r} not supported (rgb8, bgr8)")
    row = np.frombuffer(bytes(msg.data), dtype=np.uint8).reshape(msg.height, msg.step)
    img = row[:, : msg.width * 3].reshape(msg.height, msg.width, 3)
    img = np.ascontiguousarray(img[..., ::-1] if msg.encoding == "bgr8" else img)
    if size and img.shape[:2] != (size, size):
        import cv2

        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return img


def array_to_image(img: np.ndarray, stamp, frame_id: str = ""):
    from sensor_msgs.msg import Image

    img = np.ascontiguousarray(img, dtype=np.uint8)
    msg = Image()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.height, msg.width = int(img.shape[0]), int(img.shape[1])
    msg.encoding = "rgb8"
    msg.step = msg.width * 3
    msg.data = img.tobytes()
    return msg


def stamp_seconds(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


STOP_GRACE_S = 3  # seconds a node has to stop cleanly (its final hold command) after Ctrl-C / SIGTERM


def run_node(factory: Callable, args: list[str] | None = None) -> None:
    """rclpy.init, build the node, spin until Ctrl-C / SIGTERM, then let it stop cleanly.

    The signal handler only sets a flag: raising from it lands at an arbitrary bytecode, e.g.
    inside rclpy's C++ message conversion, which turns it into a RuntimeError (exit code 1,
    and no clean stop). The spin loop polls the flag every 50 ms. A node whose clean stop hangs
    (seen once under heavy load: a sim robot spinning for minutes after its launcher died) is
    ended by the kernel STOP_GRACE_S after the request; the deadline stays armed through the
    interpreter's exit, which can hang too (DDS and torch threads), so it bounds the whole stop.
    """
    import signal

    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    stop = []

    def request_stop(*_):
        stop.append(True)
        # the clean stop below gets STOP_GRACE_S; then the kernel ends the process (SIGALRM's default
        # action), whatever it is stuck in: a robot node must never outlive its launcher
        signal.alarm(STOP_GRACE_S)

    # Our own handlers: rclpy's would shut the context down before the node can send its
    # final hold command.
    rclpy.init(args=sys.argv if args is None else args, signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    node = factory()
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        while not stop and rclpy.ok():
            executor.spin_once(timeout_sec=0.05)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        shutdown = getattr(node, "on_shutdown", None)  # set by node_main
        if shutdown is not None:
            shutdown()
        executor.shutdown()
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


DIAGNOSTICS_PERIOD_S = 1.0
OK, WARN, ERROR = 0, 1, 2  # diagnostic_msgs/DiagnosticStatus levels


def publish_diagnostics(node, health: Callable[[], tuple[int, str, dict]]) -> None:
    """Publish `health()` -> (level, message, values) on /diagnostics once a second, as every ROS 2
    driver does, so rqt_robot_monitor and the diagnostic aggregator show the bridge beside the robot."""
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    pub = node.create_publisher(DiagnosticArray, "/diagnostics", 10)

    def tick() -> None:
        level, message, values = health()
        msg = DiagnosticArray()
        msg.header.stamp = node.get_clock().now().to_msg()
        msg.status = [DiagnosticStatus(level=bytes([level]), name=node.get_fully_qualified_name(), message=message,
                                       hardware_id=node.get_name(),
                                       values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])]
        pub.publish(msg)

    node.create_timer(DIAGNOSTICS_PERIOD_S, tick)


def node_main(name: str, impl) -> None:
    """The `main` of a bridge node: an rclpy Node called `name` driven by `impl(node)`, its
    `health()` published on /diagnostics."""
    def factory():
        from rclpy.node import Node

        node = Node(name)
        node.impl = impl(node)
        node.on_shutdown = getattr(node.impl, "on_shutdown", None)
        publish_diagnostics(node, node.impl.health)
        return node

    run_node(factory)
