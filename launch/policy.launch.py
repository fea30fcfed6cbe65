"""ros2 launch launch/policy.launch.py params_file:=configs/ros/sim_metaworld.yaml

Starts the policy_node node with the 'policy_node' section of the params file (hardware/launch_support.py).
"""
from hardware.launch_support import single_node_description


def generate_launch_description():
    return single_node_description("policy_node")
