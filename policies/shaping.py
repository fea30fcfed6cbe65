"""Reward modes for RL, policy-invariant shaping among them (docs/method.md, "Policy-invariant shaping").

    grm_pbrs     r_task + gamma * Phi(s') - Phi(s), Phi(s') = 0 on true termination only
    grm_naive    r_task + Phi(s') - Phi(s): each step pays (1 - gamma) Phi(s') more than
                 PBRS, so "good enough and stay there" beats finishing (the semantic trap)
    oracle_pbrs  PBRS with ground-truth progress from simulator state (upper reference)
    sparse       r_task only
    env_dense    Meta-World's hand-designed reward (scaled to [0, 1])

r_task is the environment's success (1 on the step that reaches it, which terminates).
Phi comes from a frozen potential: computed inside each environment, where it runs (`InfoPotential`
reads it: our GRM and ground truth), or in one batched call for all environments per step
(`GRMPotential`: a backend too large to hold once per env). `ShapedRewardVecEnv` turns it into the
mode's reward; gamma must be the learner's own discount.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from grm.success import SUCCESS_DELTA, SUCCESS_HOLD, SuccessDetector

ENV_DENSE_SCALE = 0.1  # Meta-World rewards lie in [0, 10]


@dataclass(frozen=True)
class RewardMode:
    """One way to reward a step: where its potential comes from and how it shapes."""
    name: str
    potential: Optional[str]  # "grm" (the frozen GRM's progress), "oracle" (ground truth) or None
    shaping: str  # "none" (r_task), "env" (the simulator's dense reward), "pbrs" or "naive"


REWARD_MODES = {m.name: m for m in (
    RewardMode("sparse", None, "none"),
    RewardMode("env_dense", None, "env"),
    RewardMode("grm_pbrs", "grm", "pbrs"),
    RewardMode("grm_naive", "grm", "naive"),
    RewardMode("oracle_pbrs", "oracle", "pbrs"),
)}
MODES = tuple(REWARD_MODES)
GRM_MODES = tuple(name for name, m in REWARD_MODES.items() if m.potential == "grm")


def pbrs_reward(r_task: np.ndarray, phi: np.ndarray, phi_next: np.ndarray, terminated: np.ndarray, gamma: float) -> np.ndarray:
    """r + gamma * Phi(s') - Phi(s), with the absorbing state's potential 0 on termination."""
    return r_task + gamma * np.where(terminated, 0.0, phi_next) - phi


def naive_reward(r_task: np.ndarray, phi: np.ndarray, phi_next: np.ndarray) -> np.ndarray:
    return r_task + phi_next - phi


def mode_reward(mode: str, r_task: np.ndarray, env_reward: np.ndarray | None, phi: np.ndarray | None,
                phi_next: np.ndarray | None, terminated: np.ndarray, gamma: float, scale: float = 1.0,
                reward_scale: float = 1.0) -> np.ndarray:
    """The reward of `mode` for a batch of transitions: online steps and demo transitions
    both go through here, so the two halves of a SAC batch mean the same thing.
    `scale` weighs the shaping term against r_task; `reward_scale` multiplies the whole reward."""
    shaping = REWARD_MODES[mode].shaping
    if shaping == "none":
        reward = r_task
    elif shaping == "env":
        reward = ENV_DENSE_SCALE * np.asarray(env_reward, dtype=np.float32)
    else:
        shaped = (naive_reward(r_task, phi, phi_next) if shaping == "naive"
                  else pbrs_reward(r_task, phi, phi_next, terminated, gamma))
        reward = r_task + scale * (shaped - r_task)
    return (reward_scale * np.asarray(reward)).astype(np.float32)


TASK_REWARDS = ("env", "grm")


def grm_success_rewards(phis: np.ndarray, delta: float = SUCCESS_DELTA, hold: int = SUCCESS_HOLD) -> np.ndarray:
    """r_task from the GRM alone along one episode's Phi(s_1..s_T): the ROS monitor's success
    detector (docs/method.md: the real-robot case), so training pays what the robot would call success."""
    detector = SuccessDetector(1, delta, hold)
    return np.array([detector.update(np.array([p]))[0] for p in phis], dtype=np.float32)


class Potential(Protocol):
    """Phi for a batch of environments; may keep per-environment episode state. `source`: "grm"
    (the GRM's progress) or "oracle" (ground truth)."""

    source: str

    def reset(self, env_ids: np.ndarray, infos: list[dict]) -> np.ndarray: ...

    def step(self, infos: list[dict]) -> np.ndarray: ...


class GRMPotential:
    """The frozen GRM's fused progress from each environment's camera views, all environments in
    one batched call in the learner's process (for a backend too large to hold once per env; the
    small GRM scores inside each env instead: `GRMProgress` and `InfoPotential`)."""

    source = "grm"

    def __init__(self, rm, num_envs: int, perspective: str = "fused", guard: bool = False, fusion: str = "median"):
        from grm.inference import ProgressTracker

        self.tracker = ProgressTracker(rm, num_envs, perspective, guard, fusion=fusion)

    def reset(self, env_ids: np.ndarray, infos: list[dict]) -> np.ndarray:
        return self.tracker.reset(np.stack([i["pixels"] for i in infos]), env_ids)

    def step(self, infos: list[dict]) -> np.ndarray:
        return self.tracker.step(np.stack([i["pixels"] for i in infos])).phi


class InfoPotential:
    """Progress that each environment computed itself, where it runs (the worker process of a
    SubprocVecEnv), read from `info["<source>_progress"]`: the GRM's (`GRMProgress`,
    policies/grm_progress.py) or ground truth (`OracleProgress`, policies/oracle_progress.py)."""

    def __init__(self, source: str):
        if source not in ("grm", "oracle"):
            raise ValueError(f"source must be grm or oracle, got {source!r}")
        self.source, self.key = source, f"{source}_progress"

    def reset(self, env_ids: np.ndarray, infos: list[dict]) -> np.ndarray:
        return self.step(infos)

    def step(self, infos: list[dict]) -> np.ndarray:
        return np.array([i[self.key] for i in infos], dtype=np.float32)


class ShapedRewardVecEnv(VecEnvWrapper):
    """Replaces the reward of a VecEnv of `RLTask`s by the chosen mode's reward."""

    def __init__(self, venv: VecEnv, mode: str, gamma: float, potential: Potential | None = None, scale: float = 1.0,
                 reward_scale: float = 1.0, task_reward: str = "env", success_delta: float = SUCCESS_DELTA,
                 success_hold: int = SUCCESS_HOLD):
        """scale weighs the shaping term against r_task; reward_scale multiplies the whole reward
        (any positive factor leaves the optimal policy unchanged; SAC needs rewards well above its
        entropy bonus, so per-step shaping of ~0.01 is scaled up). task_reward: r_task is the
        environment's success ("env") or the GRM's own, Phi(s') >= 1 - success_delta for
        success_hold steps ("grm": the real-robot case, where no success sensor exists)."""
        super().__init__(venv)
        if mode not in MODES:
            raise ValueError(f"unknown reward mode {mode!r}; valid: {', '.join(MODES)}")
        source = REWARD_MODES[mode].potential
        if source and getattr(potential, "source", None) != source:
            raise ValueError(f"reward mode {mode} needs the {source} potential, got {potential!r}")
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma}")
        if reward_scale <= 0:
            raise ValueError(f"reward_scale must be positive, got {reward_scale}")
        self.mode, self.gamma, self.potential, self.scale = mode, float(gamma), potential, float(scale)
        self.reward_scale = float(reward_scale)
        if task_reward not in TASK_REWARDS:
            raise ValueError(f"task_reward must be one of {TASK_REWARDS}, got {task_reward!r}")
        if task_reward == "grm" and getattr(potential, "source", None) != "grm":
            raise ValueError("task_reward=grm needs the GRM potential (a grm_* reward mode)")
        self.task_reward = task_reward
        self.success = SuccessDetector(self.num_envs, success_delta, success_hold) if task_reward == "grm" else None
        self.phi = np.zeros(self.num_envs, dtype=np.float32)

    def reset(self):
        obs = self.venv.reset()
        if self.success is not None:
            self.success.reset()
        if self.potential is not None:
            self.phi = self.potential.reset(np.arange(self.num_envs), list(self.venv.reset_infos)).astype(np.float32)
        for info in self.venv.reset_infos:
            info.pop("pixels", None)
        return obs

    def step_wait(self):
        obs, r_task, dones, infos = self.venv.step_wait()
        terminated = np.array([d and not i.get("TimeLimit.truncated", False) for d, i in zip(dones, infos)])
        env_reward = np.array([i["env_reward"] for i in infos], dtype=np.float32) if self.mode == "env_dense" else None
        phi_next = self.potential.step(infos) if self.potential is not None else None
        if self.success is not None:
            r_task = self.success.update(phi_next).astype(np.float32)
        reward = mode_reward(self.mode, r_task, env_reward, self.phi, phi_next, terminated, self.gamma, self.scale,
                             self.reward_scale)
        if phi_next is not None:
            for i, info in enumerate(infos):
                info["phi"] = float(phi_next[i])
            self.phi = phi_next.astype(np.float32)
            done_ids = np.nonzero(dones)[0]
            if len(done_ids):  # auto-reset happened: the next episode's first frame starts a new potential
                self.phi[done_ids] = self.potential.reset(done_ids, [self.venv.reset_infos[i] for i in done_ids])
                if self.success is not None:
                    self.success.reset(done_ids)
        for info in infos:
            info.pop("pixels", None)
        for info in self.venv.reset_infos:
            info.pop("pixels", None)
        return obs, reward, dones, infos
