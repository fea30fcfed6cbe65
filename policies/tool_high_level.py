"""The high level of the tweezer hierarchy: SAC on the pick task, its replay buffer seeded with
the privileged heuristic's episodes (which read simulator state the learned policy may not).

The learned policy sees only the pick task's observation: proprioception, tool tips, the
object's centroid/top from the depth clouds and the affordance encoder's openings.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from envs.tweezers.pick_env import ObjectDistribution, PrivilegedPickHeuristic, TweezerPickEnv
from policies.replay_seeding import seed_replay


def load_affordance(path: str | None):
    """The trained encoder as points -> (approach, contact) openings; None without a path."""
    if not path:
        return None
    from policies.affordance import PointNet, openings_for

    net = PointNet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    net.eval()

    def estimate(points: np.ndarray) -> tuple[float, float]:
        from envs.tweezers.point_cloud import sample

        pts = sample(points, 256, np.random.default_rng(0)).astype(np.float32)
        with torch.no_grad():
            extent = float(net(torch.from_numpy(pts)[None])[0])
        approach, contact = openings_for(extent)
        return float(np.nan_to_num(approach, nan=0.3)), float(np.nan_to_num(contact, nan=0.3))
    return estimate


@dataclass
class HighLevelConfig:
    out: str
    steps: int = 6000
    seed: int = 0
    seed_episodes: int = 30
    affordance: str | None = "runs/tool-affordance/affordance.pt"
    learning_rate: float = 3e-4
    batch_size: int = 256
    gamma: float = 0.97
    net_arch: list = field(default_factory=lambda: [256, 256])
    threads: int = 1
    progress: bool = True


def train_high_level(cfg: HighLevelConfig) -> Path:
    from stable_baselines3 import SAC

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "model.zip"
    if ckpt.is_file():
        return ckpt
    env = TweezerPickEnv(ObjectDistribution(), affordance=load_affordance(cfg.affordance))
    model = SAC("MlpPolicy", env, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size, gamma=cfg.gamma,
                learning_starts=0, seed=cfg.seed, device="cpu", policy_kwargs={"net_arch": list(cfg.net_arch)},
                tensorboard_log=str(out / "tb"))
    heuristic_rate = seed_replay(model, env, PrivilegedPickHeuristic(env), cfg.seed_episodes, 50_000 + cfg.seed)
    model.learn(cfg.steps, progress_bar=cfg.progress)
    tmp = out / ".tmp-model.zip"
    model.save(tmp)
    os.replace(tmp, ckpt)
    (out / "train.json").write_text(json.dumps({"seed_episodes_success": heuristic_rate, "steps": cfg.steps}))
    return ckpt
