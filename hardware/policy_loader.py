"""Load any policy this project trains (or scripts) behind one call: obs -> action.

    sb3:<path.zip>          a Stable-Baselines3 SAC/PPO checkpoint (grm-rl's model.zip)
    <path.zip>              the same
    scripted:<task>         Meta-World's scripted expert for a task (a reference policy)
    goal_tracker            joint_state layout: command the goal vector as joint targets
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hardware.profile import RobotProfile

Policy = Callable[[np.ndarray], np.ndarray]


def _load_sb3(path: Path):
    import zipfile

    from stable_baselines3 import PPO, SAC

    if not path.is_file():
        raise FileNotFoundError(f"policy checkpoint not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Stable-Baselines3 checkpoint (not a zip file)")
    errors = []
    for algo in (SAC, PPO):
        try:
            return algo.load(path, device="cpu")
        except Exception as exc:  # wrong algorithm class: try the next one
            errors.append(f"{algo.__name__}: {exc}")
    raise ValueError(f"{path} loads as neither SAC nor PPO: {errors}")


def load_policy(spec: str, profile: RobotProfile, obs_size: int) -> Policy:
    """A deterministic obs -> action function; checks the policy fits the profile's vectors."""
    if spec.startswith("scripted:"):
        from policies.scripted_expert import ScriptedExpert

        if profile.observation.layout != "metaworld":
            raise ValueError(f"scripted Meta-World experts need the metaworld layout, profile {profile.name} has "
                             f"{profile.observation.layout}")
        expert = ScriptedExpert(spec.split(":", 1)[1])
        return lambda obs: expert.act(obs)[0]
    if spec == "goal_tracker":
        from hardware.policy_io import joint_action_from_targets

        if profile.observation.goal_size != len(profile.joints):
            raise ValueError("goal_tracker needs a joint_state profile whose goal is one target per joint")
        n = len(profile.joints)
        return lambda obs: joint_action_from_targets(profile, obs[-n:])
    path = Path(spec.removeprefix("sb3:"))
    model = _load_sb3(path)
    shape = model.observation_space.shape
    if shape != (obs_size,):
        raise ValueError(f"policy {path} takes observations of shape {shape}; profile {profile.name} builds ({obs_size},)")
    return _fast_predict(model)


def _fast_predict(model) -> Policy:
    """model.predict without its per-call bookkeeping (mode switches, vectorisation checks): the
    same deterministic action, about half the latency; one torch thread (a control loop must not
    contend with itself)."""
    import torch

    torch.set_num_threads(1)
    policy = model.policy
    policy.set_training_mode(False)
    low, high = model.action_space.low, model.action_space.high

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            a = policy._predict(torch.as_tensor(obs, dtype=torch.float32)[None], deterministic=True)[0].numpy()
        return policy.unscale_action(a) if policy.squash_output else np.clip(a, low, high)
    return act
