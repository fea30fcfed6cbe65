"""ros2 launch launch/recorder.launch.py params_file:=configs/ros/sim_metaworld.yaml

Starts the recorder node with the 'recorder' section of the params file (hardware/launch_support.py).
"""
from hardware.launch_support import single_node_description


def generate_launch_description():
    return single_node_description("recorder")
