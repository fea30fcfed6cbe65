"""The low level of the tweezer hierarchy: a goal-conditioned policy that brings the tool to a
commanded opening and holds it.

Two controllers behind one call signature (obs dict -> action):
- `OpeningPController`: flex all six index/middle joints together, in proportion to the opening
  error. It reads only what the learned policy reads (the measured opening), no simulator state.
- SAC with hindsight goal relabelling (HER), its replay buffer seeded with the P controller's
  episodes, so learning starts from a working behaviour and improves on it.
`evaluate_low_level` sweeps goals over the full opening range from rest (the issue's >= 95%
criterion); `evaluate_goal_switches` commands one opening, then another while the tool is held
there, as the pick task's high level does.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from configs.files import write_text
from configs.typed import setting
from envs.tweezers.opening_controller import OpeningPController
from envs.tweezers.tool_env import ToolOpeningEnv
from policies.policy_file import load_policy_file, save_policy_file
from policies.replay_seeding import seed_replay


def evaluate_low_level(policy, goals: np.ndarray, seed: int = 1000, env: ToolOpeningEnv | None = None) -> dict:
    """Success (reached within tolerance and held, tool not dropped) for each goal, one episode each."""
    env = env or ToolOpeningEnv()
    rows = []
    for i, goal in enumerate(goals):
        obs, _ = env.reset(seed=seed + i, options={"goal": float(goal)})
        for _ in range(env.max_steps):
            obs, _, terminated, truncated, info = env.step(policy(obs))
            if terminated or truncated:
                break
        rows.append({"goal": float(goal), "success": bool(info["is_success"]), "error": float(info["error"]),
                     "dropped": bool(info["dropped"])})
    return _summary(rows)


def _summary(rows: list[dict]) -> dict:
    """Success rate, mean final error and drops over evaluation episodes, with the episodes."""
    return {"success_rate": float(np.mean([r["success"] for r in rows])),
            "mean_error": float(np.mean([r["error"] for r in rows])),
            "dropped": int(sum(r["dropped"] for r in rows)), "episodes": rows}


def evaluate_goal_switches(policy, pairs, seed: int = 2000, steps: int = 40) -> dict:
    """Success at the second goal of each (first, second) pair: `steps` steps toward the first,
    then `steps` toward the second from wherever the first left the hand."""
    env = ToolOpeningEnv(max_steps=2 * steps)
    rows = []
    for i, (first, second) in enumerate(pairs):
        obs, _ = env.reset(seed=seed + i, options={"goal": float(first)})
        info = {"dropped": False}
        for t in range(2 * steps):
            if t == steps:
                env.set_goal(second)
                obs = env._obs()
            obs, _, terminated, _, info = env.step(policy(obs))
            if terminated:
                break
        rows.append({"first": float(first), "second": float(second), "success": bool(info.get("is_success", False)),
                     "error": float(abs(obs["achieved_goal"][0] - second)), "dropped": bool(info["dropped"])})
    return _summary(rows)


def switch_pairs(n: int, lo: float = 0.0, hi: float = 0.28) -> list[tuple[float, float]]:
    """n (first, second) goal pairs over the range: closed <-> open and everything between."""
    grid = np.linspace(lo, hi, n)
    return [(float(a), float(b)) for a, b in zip(grid, grid[::-1])]


@dataclass
class LowLevelConfig:
    """tool-train-low's settings (values: configs/tool_low.yaml)."""
    out: str = setting()
    steps: int = setting(ge=1)
    seed: int = setting(ge=0)
    seed_episodes: int = setting(ge=0)  # P-controller episodes put into the replay buffer before learning
    her_goals: int = setting(ge=0)
    episode_steps: int = setting(ge=1)
    switch_every: int = setting(ge=0)  # the goal is redrawn every this many steps (0 = one goal per episode, from rest)
    reward_scale: float = setting(gt=0)
    gamma: float = setting(gt=0, le=1)
    learning_rate: float = setting(gt=0)
    batch_size: int = setting(ge=1)
    net_arch: list[int] = setting()
    eval_goals: int = setting(ge=2)
    threads: int = setting(ge=1)
    progress: bool = setting()


def train_low_level(cfg: LowLevelConfig) -> dict:
    """SAC + HER on ToolOpeningEnv; model.zip and report.json in cfg.out (resumes from model.zip)."""
    from stable_baselines3 import SAC, HerReplayBuffer

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    env = ToolOpeningEnv(max_steps=cfg.episode_steps, reward_scale=cfg.reward_scale, switch_every=cfg.switch_every)
    ckpt = out / "model.zip"
    if ckpt.is_file():  # a finished or interrupted run: evaluate / continue from its weights
        model = load_policy_file(ckpt, for_acting=True)
    else:
        model = SAC("MultiInputPolicy", env, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size,
                    gamma=cfg.gamma, learning_starts=0, seed=cfg.seed, device="cpu",
                    policy_kwargs={"net_arch": list(cfg.net_arch)}, replay_buffer_class=HerReplayBuffer,
                    replay_buffer_kwargs={"n_sampled_goal": cfg.her_goals, "goal_selection_strategy": "future"},
                    tensorboard_log=str(out / "tb"))
        seed_replay(model, env, OpeningPController(), cfg.seed_episodes, seed=10_000 + cfg.seed)
        model.learn(cfg.steps, progress_bar=cfg.progress)
        save_policy_file(model, ckpt)
    goals = np.linspace(0.0, 0.28, cfg.eval_goals)
    pairs = switch_pairs(cfg.eval_goals)
    act = lambda o: model.predict(o, deterministic=True)[0]  # noqa: E731
    report = {"steps": cfg.steps, "switch_every": cfg.switch_every,
              "learned": evaluate_low_level(act, goals), "p_controller": evaluate_low_level(OpeningPController(), goals),
              "learned_switches": evaluate_goal_switches(act, pairs),
              "p_controller_switches": evaluate_goal_switches(OpeningPController(), pairs)}
    write_text(out / "report.json", json.dumps(report, indent=2))
    return report


def load_low_level(path: str | None):
    """A low level for the pick task: tool-train-low's model.zip as obs -> action, or the P
    controller when no path is given."""
    if not path:
        return OpeningPController()
    if not Path(path).is_file():
        raise FileNotFoundError(f"low-level model not found: {path} (train it with tool-train-low)")
    model = load_policy_file(path, for_acting=True)
    return lambda obs: model.predict(obs, deterministic=True)[0]
