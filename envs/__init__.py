"""Simulated tasks: Meta-World v3 arm tasks with multi-view pixels (and later, tool use)."""
import os

# Headless machines have no display: MuJoCo must pick EGL before it is first imported.
os.environ.setdefault("MUJOCO_GL", "egl")

from envs.metaworld_env import DEFAULT_CAMERAS, MetaWorldTask
from envs.tasks import HELD_OUT, INSTRUCTIONS, MT50, PRETRAIN, check_task, resolve_tasks

__all__ = ["DEFAULT_CAMERAS", "MetaWorldTask", "HELD_OUT", "INSTRUCTIONS", "MT50", "PRETRAIN", "check_task", "resolve_tasks"]
