"""Shared pieces of the Hydra commands."""
from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from envs.tasks import resolve_tasks


def to_plain(node) -> object:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) or OmegaConf.is_list(node) else node


def task_list(spec) -> list[str] | None:
    """A task spec from a config (None, a name, a group or a list) -> task names or None."""
    if spec is None:
        return None
    return resolve_tasks(to_plain(spec))
