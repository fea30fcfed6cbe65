"""The policy's input with object and goal positions taken relative to the hand.

From one demonstration an MLP on the raw state learns the demo's absolute positions: the actor
warm-started on door-lock's demo succeeded on none of 20 fresh placements (3 seeds), on these
features on 40%; drawer-close's 0.70 became 0.97 (docs/rl.md, "What the warm start gives by
itself"). The hand's own position stays absolute (the workspace has walls); objects and goal
enter only as offsets from the hand, plus each position's change over the last step (the
state's previous-frame half). The layout is envs/task_spaces.py's, shared by every task
family, so a policy node feeding the task's state vector needs nothing new.
"""
from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from envs.task_spaces import GOAL, GRIPPER, HAND, OBJ1, OBJ1_QUAT, OBJ2, OBJ2_QUAT, previous

FEATURES_DIM = 3 + 1 + 3 * 3 + 4 + 4 + 3 * 3


def hand_relative(state: torch.Tensor) -> torch.Tensor:
    """(B, 39) states -> (B, 30): hand, gripper, object/goal offsets from the hand, quaternions, per-step changes."""
    hand = state[:, HAND]
    return torch.cat([
        hand, state[:, GRIPPER:GRIPPER + 1],
        state[:, OBJ1] - hand, state[:, OBJ2] - hand, state[:, GOAL] - hand,
        state[:, OBJ1_QUAT], state[:, OBJ2_QUAT],
        hand - state[:, previous(HAND)], state[:, OBJ1] - state[:, previous(OBJ1)],
        state[:, OBJ2] - state[:, previous(OBJ2)],
    ], dim=1)


class HandRelative(BaseFeaturesExtractor):
    """`hand_relative` as an SB3 features extractor (no weights; saved in the policy file by name)."""

    def __init__(self, observation_space: gym.spaces.Box):
        if observation_space.shape != (39,):
            raise ValueError(f"hand-relative features need the 39-d task state, got shape {observation_space.shape}")
        super().__init__(observation_space, FEATURES_DIM)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return hand_relative(obs)
