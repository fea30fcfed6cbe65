"""The flat baseline of the pick task: one policy moves the arm and the six index/middle
flexion targets directly, with no goal opening in between and no low level.

Same scene, objects, step length and success test as `TweezerPickEnv`; its observation adds
the affordance encoder's estimate (approach and contact openings, extent: without a goal
opening in between, the fingers must know how far to close) and the finger angles it now has
to control. The action is the same object-relative arm waypoint (3) + 6 finger-target moves,
each applied on every one of the `low_steps` inner steps (the same finger speed limit the low
level has).
`FlatPickHeuristic` is the hierarchical heuristic with a P controller on the fingers folded in,
so both tasks get demonstrations of the same behaviour.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

from envs.tweezers.opening_controller import OpeningPController
from envs.tweezers.pick_env import PickHeuristic, TweezerPickEnv, opening_command
from envs.tweezers.tool_env import FINGER_JOINTS


class FlatTweezerPickEnv(TweezerPickEnv):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        n = len(FINGER_JOINTS)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (3 + n,), np.float32)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.observation_space.shape[0] + 3 + n,), np.float32)

    def _drive_hand(self, a: np.ndarray) -> None:
        for _ in range(self.low_steps):
            self.hand.apply(self.data, a)
            self._inner_step()

    def _obs(self) -> np.ndarray:
        return np.concatenate([super()._obs(), self.afford, self.data.qpos[self.hand.qpos_ids]]).astype(np.float32)


class FlatPickHeuristic:
    """PickHeuristic's arm moves, and a P controller's finger moves toward its opening.
    The gain is lower than the low level's (1.2 vs 5): one flat action is held for all inner steps
    without feedback, and the low level's gain overshoots and rings then."""

    def __init__(self, env: FlatTweezerPickEnv, privileged: bool = False, gain: float = 1.2):
        self.env, self.high, self.fingers = env, PickHeuristic(env, privileged), OpeningPController(gain)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        a = self.high(obs)
        fingers = self.fingers(self.env.hand.observe(self.env.data, opening_command(a[3], self.env.afford)))
        return np.concatenate([a[:3], fingers]).astype(np.float32)
