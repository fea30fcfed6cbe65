"""Load any policy this project trains (or scripts) behind one call: obs -> action.

    sb3:<path.zip>          a policy file (an SB3 SAC/PPO zip with policy_meta.json) (grm-rl's model.zip; also a
                            goal-conditioned one with dict observations, e.g. tool-train-low's)
    <path.zip>              the same
    pkg:<package/path.zip>  a policy shipped inside the project (pkg:policies/pretrained/tool_low.zip)
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
    """The policy file, loaded without running code from it (policies/policy_file.py)."""
    from policies.policy_file import load_policy_file

    return load_policy_file(path, for_acting=True)


def load_policy(spec: str, profile: RobotProfile, layout) -> Policy:
    """A deterministic obs -> action function; checks the policy fits the vectors that the
    profile's observation `layout` (policy_io) builds."""
    obs_size = layout.size
    if spec.startswith("scripted:"):
        from envs.scripted_expert import ScriptedExpert

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
    spec = spec.removeprefix("sb3:")
    if spec.startswith("pkg:"):  # a shipped policy, found wherever the project is installed
        from configs.typed import package_path

        spec = package_path(spec.removeprefix("pkg:"))
    path = Path(spec)
    model = _load_sb3(path)
    space = model.observation_space
    if hasattr(space, "spaces"):  # goal-conditioned: the same vector, split as the layout says
        if not hasattr(layout, "goal_dict"):
            raise ValueError(f"policy {path} is goal-conditioned; profile {profile.name}'s layout has no goal")
        try:
            probe = layout.goal_dict(np.zeros(obs_size))
        except ValueError as exc:
            raise ValueError(f"policy {path} is goal-conditioned: {exc}") from exc
        want = {k: v.shape for k, v in space.spaces.items()}
        got = {k: v.shape for k, v in probe.items()}
        if want != got:
            raise ValueError(f"policy {path} takes observations {want}; profile {profile.name} builds {got}")
        act = _fast_predict(model)
        return lambda obs: act(layout.goal_dict(np.asarray(obs, dtype=np.float64)))
    if space.shape != (obs_size,):
        raise ValueError(f"policy {path} takes observations of shape {space.shape}; profile {profile.name} builds ({obs_size},)")
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

    def act(obs) -> np.ndarray:
        with torch.no_grad():
            if isinstance(obs, dict):
                x = {k: torch.as_tensor(v, dtype=torch.float32)[None] for k, v in obs.items()}
            else:
                x = torch.as_tensor(obs, dtype=torch.float32)[None]
            a = policy._predict(x, deterministic=True)[0].numpy()
        return policy.unscale_action(a) if policy.squash_output else np.clip(a, low, high)
    return act
