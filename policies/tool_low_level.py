"""The low level of the tweezer hierarchy: a goal-conditioned policy that brings the tool to a
commanded opening and holds it.

Two controllers behind one call signature (obs dict -> action):
- `OpeningPController`: flex all six index/middle joints together, in proportion to the opening
  error. It reads only what the learned policy reads (the measured opening), no simulator state.
- SAC with hindsight goal relabelling (HER), its replay buffer seeded with the P controller's
  episodes, so learning starts from a working behaviour and improves on it.
`evaluate_low_level` sweeps goals over the full opening range: the issue's >= 95% criterion.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from envs.tweezers.tool_env import ToolOpeningEnv
from policies.atomic_io import atomic_write
from policies.replay_seeding import seed_replay


class OpeningPController:
    """action = clip(gain * (opening - goal)) on every finger joint: too open -> flex more."""

    def __init__(self, gain: float = 5.0):
        self.gain = gain

    def __call__(self, obs: dict) -> np.ndarray:
        err = float(obs["achieved_goal"][0] - obs["desired_goal"][0])
        return np.full(6, np.clip(self.gain * err, -1.0, 1.0), dtype=np.float32)


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
    return {"success_rate": float(np.mean([r["success"] for r in rows])),
            "mean_error": float(np.mean([r["error"] for r in rows])),
            "dropped": int(sum(r["dropped"] for r in rows)), "episodes": rows}


@dataclass
class LowLevelConfig:
    out: str
    steps: int = 20000
    seed: int = 0
    seed_episodes: int = 40  # P-controller episodes put into the replay buffer before learning
    her_goals: int = 4
    reward_scale: float = 1.0
    gamma: float = 0.95
    learning_rate: float = 3e-4
    batch_size: int = 256
    net_arch: list = field(default_factory=lambda: [256, 256])
    eval_goals: int = 29
    threads: int = 1
    progress: bool = True


def train_low_level(cfg: LowLevelConfig) -> dict:
    """SAC + HER on ToolOpeningEnv; model.zip and report.json in cfg.out (resumes from model.zip)."""
    from stable_baselines3 import SAC, HerReplayBuffer

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    env = ToolOpeningEnv(reward_scale=cfg.reward_scale)
    ckpt = out / "model.zip"
    if ckpt.is_file():  # a finished or interrupted run: evaluate / continue from its weights
        model = SAC.load(ckpt, env=env, device="cpu")
    else:
        model = SAC("MultiInputPolicy", env, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size,
                    gamma=cfg.gamma, learning_starts=0, seed=cfg.seed, device="cpu",
                    policy_kwargs={"net_arch": list(cfg.net_arch)}, replay_buffer_class=HerReplayBuffer,
                    replay_buffer_kwargs={"n_sampled_goal": cfg.her_goals, "goal_selection_strategy": "future"},
                    tensorboard_log=str(out / "tb"))
        seed_replay(model, env, OpeningPController(), cfg.seed_episodes, seed=10_000 + cfg.seed)
        model.learn(cfg.steps, progress_bar=cfg.progress)
        atomic_write(ckpt, model.save)
    goals = np.linspace(0.0, 0.28, cfg.eval_goals)
    learned = evaluate_low_level(lambda o: model.predict(o, deterministic=True)[0], goals)
    heuristic = evaluate_low_level(OpeningPController(), goals)
    report = {"steps": cfg.steps, "learned": learned, "p_controller": heuristic}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    return report


def load_low_level(path: str | None):
    """A low level for the pick task: tool-train-low's model.zip as obs -> action, or the P
    controller when no path is given."""
    if not path:
        return OpeningPController()
    from stable_baselines3 import SAC

    if not Path(path).is_file():
        raise FileNotFoundError(f"low-level model not found: {path} (train it with tool-train-low)")
    model = SAC.load(path, env=ToolOpeningEnv(), device="cpu")  # HER buffers need the env to load
    return lambda obs: model.predict(obs, deterministic=True)[0]
