"""Replay buffer that mixes the one demonstration into every SAC batch (as RLPD does).

Online transitions come from SB3's ordinary buffer; a fixed share of each sampled batch
is drawn from the demo's transitions, whose rewards were computed with the run's own reward
mode (the same frozen potential), so both halves of a batch agree on what reward means.

With `n_steps` > 1 both halves are n-step transitions (SB3's `NStepReplayBuffer` for the online
ones): the reward summed over up to n steps, the state n steps on, and the bootstrap's discount
gamma^k for the k steps summed (fewer at the episode's end), so value reaches the start of a
long task in fewer updates.
"""
from __future__ import annotations

import numpy as np
import torch
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples


def n_step_transitions(demo: dict[str, np.ndarray], n_steps: int, gamma: float) -> dict[str, np.ndarray]:
    """One episode's transitions (in order; its last one ends it, by termination or time limit)
    as n-step transitions, each with the discount its bootstrap gets."""
    T = len(demo["actions"])
    rewards, dones = demo["rewards"].reshape(T), demo["dones"].reshape(T)
    returns, discounts, last = np.zeros(T, np.float32), np.zeros(T, np.float32), np.zeros(T, int)
    for i in range(T):
        k, total = 0, 0.0
        while k < n_steps and i + k < T:
            total += gamma ** k * rewards[i + k]
            k += 1
            if dones[i + k - 1]:  # a termination: nothing follows it
                break
        returns[i], discounts[i], last[i] = total, gamma ** k, i + k - 1
    return {"obs": demo["obs"], "actions": demo["actions"], "next_obs": demo["next_obs"][last],
            "dones": dones[last], "rewards": returns, "discounts": discounts}


class DemoMixReplayBuffer(NStepReplayBuffer):
    def __init__(self, *args, demo: dict[str, np.ndarray] | None = None, demo_ratio: float = 0.25, n_steps: int = 1,
                 gamma: float = 0.99, **kwargs):
        super().__init__(*args, n_steps=n_steps, gamma=gamma, **kwargs)
        if demo is None or len(demo["actions"]) == 0:
            raise ValueError("DemoMixReplayBuffer needs demo transitions")
        if not 0.0 <= demo_ratio < 1.0:
            raise ValueError(f"demo_ratio must be in [0, 1), got {demo_ratio}")
        demo = {k: np.asarray(v, dtype=np.float32) for k, v in demo.items()}
        self.demo = n_step_transitions(demo, n_steps, gamma)
        self.demo_ratio = demo_ratio

    def demo_rows(self, batch_size: int) -> int:
        """How many rows of a `sample(batch_size)` are demo transitions: always its last ones."""
        return int(round(batch_size * self.demo_ratio))

    def sample(self, batch_size: int, env=None) -> ReplayBufferSamples:
        n_demo = self.demo_rows(batch_size)
        online = super().sample(batch_size - n_demo, env=env)
        if n_demo == 0:
            return online
        demo = self.sample_demo(n_demo, env)
        return ReplayBufferSamples(*(torch.cat([a, b]) for a, b in zip(online, demo)))

    def sample_demo(self, batch_size: int, env=None) -> ReplayBufferSamples:
        """A batch of demo transitions only (pretraining before the first online step)."""
        idx = np.random.randint(0, len(self.demo["actions"]), size=batch_size)
        d = self.demo
        demo = (d["obs"][idx], d["actions"][idx], d["next_obs"][idx], d["dones"][idx, None], d["rewards"][idx, None],
                d["discounts"][idx, None])
        return ReplayBufferSamples(*(self.to_torch(self._normalize_obs(x, env) if i in (0, 2) else x)
                                     for i, x in enumerate(demo)))
