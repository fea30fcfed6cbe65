"""ROS 2 bridge: run this project's policies and GRM on real (or simulated) robots.

Pure-Python pieces (robot profiles, safety limits, observation assembly) import without ROS;
the nodes (`*_node.py`) need rclpy and the message packages from the registry wheels.
"""
