"""What the launch files in launch/ build: launch_ros Nodes from the same params file and the
same node table as grm-deploy (hardware/deploy.py), so both start identical node sets.

Imported only by `ros2 launch` (launch and launch_ros come with a ROS 2 install; they have
no registry wheels, which is why grm-deploy exists).
"""
from __future__ import annotations

from pathlib import Path

from hardware.deploy import ROLES, load_params, plan

DEFAULT_PARAMS = str(Path(__file__).resolve().parents[1] / "configs" / "ros" / "sim_metaworld.yaml")
PACKAGE = "robo_dopamine_rl"  # the ament package (package.xml)


def installed_package() -> str | None:
    """The ament package's name when `colcon build` installed it (its node scripts then live in
    lib/robo_dopamine_rl, where launch_ros looks them up by package); None after `pip install`,
    whose console scripts are on PATH."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_prefix
    except ImportError:
        return None
    try:
        return PACKAGE if (Path(get_package_prefix(PACKAGE)) / "lib" / PACKAGE).is_dir() else None
    except (PackageNotFoundError, OSError):  # OSError: no ROS 2 environment sourced (AMENT_PREFIX_PATH unset)
        return None


def node_action(role: str, params_file):
    from launch_ros.actions import Node

    module, executable = ROLES[role]
    # package=None: the console script is found on PATH (pip install -e . puts it there)
    return Node(package=installed_package(), executable=executable, name=role, parameters=[params_file],
                output="screen", emulate_tty=True)


def single_node_description(role: str):
    """A launch description for one node, with a `params_file` argument."""
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument
    from launch.substitutions import LaunchConfiguration

    arg = DeclareLaunchArgument("params_file", default_value=DEFAULT_PARAMS,
                                description=f"ROS 2 params file with a '{role}' section")
    return LaunchDescription([arg, node_action(role, LaunchConfiguration("params_file"))])


def bringup_description():
    """Every node that has a section in the params file (resolved at launch time)."""
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.substitutions import LaunchConfiguration

    def nodes(context):
        path = LaunchConfiguration("params_file").perform(context)
        return [node_action(spec.role, path) for spec in plan(load_params(path))]

    arg = DeclareLaunchArgument("params_file", default_value=DEFAULT_PARAMS,
                                description="ROS 2 params file; each top-level key is a node to start")
    return LaunchDescription([arg, OpaqueFunction(function=nodes)])
