"""One constructor for every task's environment and scripted expert, whatever its family.

Collection, RL, the oracle and the simulated ROS robot build tasks through here, so a
robosuite arm is used exactly like a Meta-World task (envs/tasks.py names both families).
"""
from __future__ import annotations

from collections.abc import Sequence

from envs.rendering import ViewRandomization
from envs.tasks import family


def default_cameras(task: str) -> tuple[str, ...]:
    if family(task) == "robosuite":
        from envs.robosuite_env import DEFAULT_CAMERAS
    else:
        from envs.metaworld_env import DEFAULT_CAMERAS
    return tuple(DEFAULT_CAMERAS)


def make_task(task: str, cameras: Sequence[str] | None = None, image_size: int = 96, max_steps: int = 200,
              fast_render: bool = True, mesh_keep: float = 1.0, randomization: ViewRandomization = ViewRandomization()):
    """The task's environment (MetaWorldTask or RobosuiteTask); cameras None: the family's defaults."""
    cameras = default_cameras(task) if cameras is None else cameras
    if family(task) == "robosuite":
        from envs.robosuite_env import RobosuiteTask as cls
    else:
        from envs.metaworld_env import MetaWorldTask as cls
    return cls(task, cameras, image_size, max_steps, fast_render, mesh_keep=mesh_keep, randomization=randomization)


def make_expert(task: str):
    """A fresh scripted expert for one episode: `act(state) -> (action, target or None)`."""
    if family(task) == "robosuite":
        from envs.robosuite_expert import PickPlaceExpert

        return PickPlaceExpert(task)
    from envs.scripted_expert import ScriptedExpert

    return ScriptedExpert(task)
