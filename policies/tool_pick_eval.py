"""Running pick policies: the evaluation splits, the named policies, one episode.

Shared by `benchmarks/tool_pick.py` (success by size bin) and `tool-video` (an episode on film),
so both load and run a policy the same way.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from envs.tweezers.pick_env import ObjectDistribution, PickHeuristic, TweezerPickEnv

SPLITS = {
    "train": [ObjectDistribution(("box", "cylinder"), (0.010, 0.022))],
    "held_out_sizes": [ObjectDistribution(("box", "cylinder"), (0.006, 0.010)),
                       ObjectDistribution(("box", "cylinder"), (0.022, 0.026))],
    "held_out_shapes": [ObjectDistribution(("capsule", "ellipsoid", "sphere"), (0.010, 0.022))],
}
# name -> (flat task?, model file in the run folder, or which heuristic: "privileged" reads the
# simulator, "perceived" is the demonstrator the learners are seeded from); tool-train-high writes
# bc_model.zip (the clone), sac_model.zip (after online SAC) and model.zip (the better on validation)
POLICIES = {"privileged": (False, "privileged"), "heuristic": (False, "perceived"),
            "hierarchical": (False, "model.zip"), "hierarchical_bc": (False, "bc_model.zip"),
            "hierarchical_sac": (False, "sac_model.zip"),
            "flat": (True, "model.zip"), "flat_bc": (True, "bc_model.zip"), "flat_sac": (True, "sac_model.zip")}


def load_pick_policy(name: str, high_dir: str = "runs/tool-high", flat_dir: str = "runs/tool-flat",
                     noise_std: float | None = None):
    """(flat?, make_policy) for a policy name: make_policy(env) -> obs -> action. `noise_std`: a
    learned policy acts with Gaussian noise of this std (before tanh) on its actor's actions, as
    in training (how much exploration noise the task tolerates)."""
    if name not in POLICIES:
        raise ValueError(f"unknown pick policy {name!r}; choose from {', '.join(POLICIES)}")
    flat, file = POLICIES[name]
    if not file.endswith(".zip"):
        if noise_std is not None:
            raise ValueError(f"{name}: exploration noise applies to learned policies only")
        return flat, lambda env: PickHeuristic(env, privileged=file == "privileged")
    from policies.policy_file import load_policy_file

    path = Path(flat_dir if flat else high_dir) / file
    retrain = f"tool-train-high out={path.parent}{' flat=true' if flat else ''}"
    if not path.is_file():
        raise FileNotFoundError(f"{name}: {path} not found (train it: {retrain})")
    model = load_policy_file(path, for_acting=True)
    from policies.tool_high_level import make_pick_env

    expected = make_pick_env(SPLITS["train"][0], flat).observation_space.shape
    if model.observation_space.shape != expected:
        raise ValueError(f"{name}: {path} was trained on a {model.observation_space.shape[0]}-d observation, the pick "
                         f"task now gives {expected[0]} (an earlier version of the task); retrain it: {retrain}")
    if noise_std is not None:
        from policies.demo_regularized_sac import set_actor_std

        set_actor_std(model.actor, noise_std)
    return flat, lambda env: (lambda o: model.predict(o, deterministic=noise_std is None)[0])


def run_pick_episode(env: TweezerPickEnv, make_policy, seed: int) -> dict:
    """One episode to success, a drop or the time limit; make_policy(env) -> obs -> action."""
    policy = make_policy(env)
    obs, _ = env.reset(seed=seed)
    info = {"is_success": False, "dropped": False}
    for _ in range(env.max_steps):
        obs, _, terminated, truncated, info = env.step(policy(obs))
        if info["is_success"] or terminated or truncated:
            break
    return {"shape": env.obj.shape, "extent": env.obj.extent_y(), "success": bool(info["is_success"]),
            "dropped": bool(info["dropped"]), "steps": env.steps}


def split_success(rows: list[dict]) -> float:
    """Share of successful episodes (0 for none)."""
    return float(np.mean([r["success"] for r in rows])) if rows else 0.0
