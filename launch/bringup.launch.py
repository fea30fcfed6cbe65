"""ros2 launch launch/bringup.launch.py params_file:=configs/ros/sim_metaworld.yaml

Starts every node that has a section in the params file: the same set `grm-deploy` starts.
"""
from hardware.launch_support import bringup_description


def generate_launch_description():
    return bringup_description()
