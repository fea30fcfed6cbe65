"""The project's metadata lives in pyproject.toml; this file adds what a ROS 2 workspace needs.

`colcon build` (build type ament_python, package.xml) runs `setup.py install`: the data files below
put the ament index marker, package.xml, the launch files and the node parameter files under
share/robo_dopamine_rl, and setup.cfg puts the console scripts under lib/robo_dopamine_rl, where
`ros2 run` and `ros2 launch` look. pip installs use pyproject.toml and ignore both.
"""
from glob import glob

from setuptools import setup

PACKAGE = "robo_dopamine_rl"

# python_requires is here, not in pyproject.toml: colcon reads setup()'s arguments as Python literals,
# and from pyproject.toml setuptools hands it over as a SpecifierSet object colcon cannot read
setup(python_requires=">=3.10", data_files=[
    ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
    (f"share/{PACKAGE}", ["package.xml"]),
    (f"share/{PACKAGE}/launch", sorted(glob("launch/*.launch.py"))),
    (f"share/{PACKAGE}/configs/ros", sorted(glob("configs/ros/*.yaml"))),
])
