"""A features extractor that standardizes observations with statistics fixed at construction.

Observations mixing metres, radians and millimetre-scale offsets train poorly raw (the pick
task's policy needs millimetres of tip-to-object offset). Running statistics (VecNormalize)
would drift under a policy pre-trained on demonstrations; statistics taken once from those
demonstrations and saved with the model (as policy kwargs) keep the input fixed for its life.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor


class FixedNormalizer(BaseFeaturesExtractor):
    def __init__(self, observation_space: gym.spaces.Box, mean: list[float], std: list[float]):
        dim = int(np.prod(observation_space.shape))
        super().__init__(observation_space, dim)
        if len(mean) != dim or len(std) != dim:
            raise ValueError(f"normalizer statistics have {len(mean)}/{len(std)} entries, observation has {dim}")
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return (obs.flatten(1) - self.mean) / self.std


def normalizer_kwargs(obs: np.ndarray, min_std: float = 1e-3) -> dict:
    """policy_kwargs entries for a FixedNormalizer fitted to `obs` (N, dim)."""
    obs = np.asarray(obs, dtype=np.float64)
    return {"features_extractor_class": FixedNormalizer,
            "features_extractor_kwargs": {"mean": obs.mean(0).tolist(),
                                          "std": np.maximum(obs.std(0), min_std).tolist()}}
