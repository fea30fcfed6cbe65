"""ros2 launch launch/grm_monitor.launch.py params_file:=configs/ros/sim_metaworld.yaml

Starts the grm_monitor node with the 'grm_monitor' section of the params file (hardware/launch_support.py).
"""
from hardware.launch_support import single_node_description


def generate_launch_description():
    return single_node_description("grm_monitor")
