"""Meta-World's scripted experts, instrumented to expose their phases, plus failure behaviours.

The experts are stateless: each step they pick a target position by a chain of if/else
on the observation and move toward it. A jump of that target between two steps is a phase
change (a sub-task boundary), and a sign flip of the grip command is a gripper event;
together with the first success they give the keyframes the GRM's labels are built from.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from envs.tasks import check_task


def _policy_class(task: str):
    from metaworld.policies import ENV_POLICY_MAP

    return ENV_POLICY_MAP[task]


class ScriptedExpert:
    """The task's Meta-World expert; `act` returns the action and the phase target it aimed at."""

    def __init__(self, task: str):
        self.task = check_task(task)
        self._policy = _policy_class(task)()
        self._has_target = hasattr(self._policy, "_desired_pos")

    def act(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Constant(s) may be too high": clipped anyway
            action = np.clip(self._policy.get_action(state), -1.0, 1.0).astype(np.float32)
            target = None
            if self._has_target:
                desired = self._policy._desired_pos(self._policy._parse_obs(state))
                # some experts return a bare z; `move` broadcasts it, so the real target is (z, z, z)
                target = np.broadcast_to(np.asarray(desired, dtype=np.float64).reshape(-1)[:3], (3,)).copy()
            else:  # no explicit target (drawer-open, reach): the commanded direction marks phases
                target = None
        return action, target


def expert_physics_states(task: str, seed: int, after: int = 10, max_steps: int = 200):
    """Roll the task's expert from reset(seed) until `after` steps past its first success (or
    truncation) without rendering; returns the env and every step's (qpos, qvel), reset included,
    so benchmarks can re-render the same states however they like."""
    from envs.metaworld_env import MetaWorldTask

    env, expert = MetaWorldTask(task, (), max_steps=max_steps), ScriptedExpert(task)
    obs, _ = env.reset(seed=seed)
    states, done_at = [(env.data.qpos.copy(), env.data.qvel.copy())], None
    for t in range(max_steps):
        obs, _, _, truncated, info = env.step(expert.act(obs["state"])[0])
        states.append((env.data.qpos.copy(), env.data.qvel.copy()))
        done_at = t if info.get("is_success") and done_at is None else done_at
        if truncated or (done_at is not None and t >= done_at + after):
            break
    return env, states


@dataclass(frozen=True)
class KeyframeRule:
    """Thresholds for turning expert traces into sub-task boundaries."""

    target_jump: float = 0.03  # metres the expert's target must jump to count as a phase change
    min_gap: int = 5  # keyframes closer than this (frames) are merged
    turn_cos: float = 0.5  # without targets: a turn of the commanded direction by > 60 degrees


def derive_keyframes(
    targets: np.ndarray | None,
    grip: np.ndarray,
    first_success: int | None,
    n_frames: int,
    rule: KeyframeRule = KeyframeRule(),
    directions: np.ndarray | None = None,
) -> np.ndarray:
    """Frame indices K0=0 < K1 < ... < KN of sub-task boundaries.

    `targets[t]`/`grip[t]` belong to action t (taken at frame t); `directions[t]` (the
    commanded xyz motion) stands in for targets when an expert has none. KN is the first success
    frame when the episode succeeds, else the last frame; nothing after KN is a keyframe.
    """
    end = first_success if first_success is not None else n_frames - 1
    events: list[int] = []
    if targets is not None and len(targets) > 1:
        jumps = np.linalg.norm(np.diff(targets, axis=0), axis=1) > rule.target_jump
        events += (np.nonzero(jumps)[0] + 1).tolist()
    elif directions is not None and len(directions) > 1:
        norm = np.linalg.norm(directions, axis=1)
        unit = directions / np.maximum(norm, 1e-9)[:, None]
        turn = (np.sum(unit[1:] * unit[:-1], axis=1) < rule.turn_cos) & (norm[1:] > 0.1) & (norm[:-1] > 0.1)
        events += (np.nonzero(turn)[0] + 1).tolist()
    if len(grip) > 1:
        sign = np.sign(grip)
        flips = (sign[1:] != sign[:-1]) & (sign[1:] != 0)
        events += (np.nonzero(flips)[0] + 1).tolist()
    kept = [0]
    for k in sorted(set(events)):
        if k - kept[-1] >= rule.min_gap and end - k >= rule.min_gap:
            kept.append(k)
    if end > 0:
        kept.append(end)
    return np.asarray(kept, dtype=np.int64)


class WrongBehaviour:
    """A plausible-looking failure: smooth motion toward random workspace points, random grip."""

    def __init__(self, rng: np.random.Generator, workspace: tuple[np.ndarray, np.ndarray], retarget_every: int = 25,
                 gain: float = 10.0):
        """workspace: (low, high) hand positions to wander between, the task env's `workspace`."""
        self.rng = rng
        self.LOW, self.HIGH = (np.asarray(b, dtype=np.float64) for b in workspace)
        self.retarget_every = retarget_every
        self.gain = gain
        self._t = 0
        self._target = rng.uniform(self.LOW, self.HIGH)
        self._grip = float(rng.choice([-1.0, 1.0]))

    def act(self, state: np.ndarray) -> np.ndarray:
        if self._t and self._t % self.retarget_every == 0:
            self._target = self.rng.uniform(self.LOW, self.HIGH)
            self._grip = float(self.rng.choice([-1.0, 1.0]))
        self._t += 1
        delta = np.clip(self.gain * (self._target - state[:3]), -1.0, 1.0)
        return np.append(delta, self._grip).astype(np.float32)
