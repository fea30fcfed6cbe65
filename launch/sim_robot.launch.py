"""ros2 launch launch/sim_robot.launch.py params_file:=configs/ros/sim_metaworld.yaml

Starts the sim_robot node with the 'sim_robot' section of the params file (hardware/launch_support.py).
"""
from hardware.launch_support import single_node_description


def generate_launch_description():
    return single_node_description("sim_robot")
