"""Recording one episode of a task: the expert, its noisy and failing variants, reversals.

Failure data is what keeps a reward model honest: trained on expert demos alone it learns
"any motion is progress". Each kind below is a different way of not finishing the task.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from envs.metaworld_env import MetaWorldTask
from grm.dataset.episode_io import EpisodeData
from policies.scripted_expert import KeyframeRule, ScriptedExpert, WrongBehaviour, derive_keyframes

KINDS = ("expert", "noisy", "early_stop", "wrong", "reversed")


@dataclass(frozen=True)
class RolloutSettings:
    noise_std: float = 0.3  # Gaussian action noise of `noisy` episodes
    post_success_steps: int = 10  # frames kept after the first success
    early_stop_range: tuple[float, float] = (0.2, 0.8)  # `early_stop` ends at this share of the expert's time
    wrong_after_range: tuple[float, float] = (0.0, 0.5)  # `wrong` follows the expert for this share first
    keyframes: KeyframeRule = KeyframeRule()


def _record(env: MetaWorldTask, seed: int, act: Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray | None]],
            max_steps: int, stop_after_success: int | None) -> dict[str, np.ndarray | int | None]:
    """Run `act(t, state)` from reset(seed); returns frames, traces and the first-success frame."""
    obs, _ = env.reset(seed=seed)
    images, states, physics = [obs["pixels"]], [obs["state"]], [env.physics_state()]
    actions, rewards, success, targets = [], [], [], []
    first_success = None
    for t in range(max_steps):
        action, target = act(t, obs["state"])
        obs, reward, _, truncated, info = env.step(action)
        images.append(obs["pixels"])
        states.append(obs["state"])
        physics.append(env.physics_state())
        actions.append(action)
        rewards.append(reward)
        success.append(info["success"])
        targets.append(target)
        if info["success"] and first_success is None:
            first_success = t + 1
        if truncated or (stop_after_success is not None and first_success is not None
                         and t + 1 >= first_success + stop_after_success):
            break
    has_targets = all(tg is not None for tg in targets)
    return dict(
        images=np.stack(images), state=np.stack(states), physics=np.stack(physics),
        actions=np.asarray(actions, dtype=np.float32), rewards=np.asarray(rewards, dtype=np.float32),
        success=np.asarray(success, dtype=bool), targets=np.stack(targets) if has_targets else None,
        first_success=first_success,
    )


def expert_time(state_env: MetaWorldTask, task: str, seed: int, max_steps: int) -> int:
    """Steps the expert needs to succeed from this seed (max_steps if it never does); no rendering."""
    expert = ScriptedExpert(task)
    obs, _ = state_env.reset(seed=seed)
    for t in range(max_steps):
        obs, _, _, _, info = state_env.step(expert.act(obs["state"])[0])
        if info["success"]:
            return t + 1
    return max_steps


def record_episode(env: MetaWorldTask, state_env: MetaWorldTask, kind: str, seed: int, max_steps: int,
                   settings: RolloutSettings = RolloutSettings()) -> EpisodeData:
    """Record one episode of `kind` on `env` (rendering) from `seed`; `state_env` is a pixel-free twin."""
    if kind not in KINDS:
        raise ValueError(f"unknown episode kind {kind!r}; valid: {', '.join(KINDS)}")
    task = env.task
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    expert = ScriptedExpert(task)
    horizon, stop = max_steps, settings.post_success_steps

    if kind in ("expert", "reversed"):
        act = lambda t, s: expert.act(s)  # noqa: E731
    elif kind == "noisy":
        def act(t, s):
            a, target = expert.act(s)
            return np.clip(a + rng.normal(0.0, settings.noise_std, 4), -1, 1).astype(np.float32), target
    elif kind == "early_stop":
        need = expert_time(state_env, task, seed, max_steps)
        horizon = max(2, int(round(rng.uniform(*settings.early_stop_range) * need)))
        act = lambda t, s: expert.act(s)  # noqa: E731
        stop = None
    else:  # wrong: start like the expert, then wander off for as long as the expert would have taken
        need = expert_time(state_env, task, seed, max_steps)
        switch = int(rng.uniform(*settings.wrong_after_range) * need)
        horizon = min(max_steps, need + settings.post_success_steps)
        wander = WrongBehaviour(rng)

        def act(t, s):
            return expert.act(s) if t < switch else (wander.act(s), None)
        stop = None

    rec = _record(env, seed, act, horizon, stop)
    n_frames = len(rec["images"])
    if kind == "wrong":  # its phases are not the task's: only the start and the end are boundaries
        keyframes = np.array([0, n_frames - 1])
    else:
        keyframes = derive_keyframes(rec["targets"], rec["actions"][:, 3], rec["first_success"], n_frames,
                                     settings.keyframes, directions=rec["actions"][:, :3])
    ep = EpisodeData(
        task=task, instruction=env.instruction, kind=kind, seed=seed, cameras=list(env.cameras),
        images=rec["images"], state=rec["state"], physics=rec["physics"], actions=rec["actions"],
        rewards=rec["rewards"], step_success=rec["success"], keyframes=keyframes,
    )
    return reverse_episode(ep) if kind == "reversed" else ep


def reverse_episode(ep: EpisodeData) -> EpisodeData:
    """The same frames played backwards: the task being undone (never a success).

    Actions are reversed in time with the motion negated (the gripper command kept), which
    approximately undoes each step; keyframes map to T - k. meta['source_first_success']
    keeps where the forward episode succeeded, so labels can be derived from the original.
    """
    T = ep.num_steps
    actions = ep.actions[::-1].copy()
    actions[:, :3] *= -1
    return EpisodeData(
        task=ep.task, instruction=ep.instruction, kind="reversed", seed=ep.seed, cameras=ep.cameras,
        images=ep.images[::-1].copy(), state=ep.state[::-1].copy(), physics=ep.physics[::-1].copy(),
        actions=actions, rewards=ep.rewards[::-1].copy(), step_success=np.zeros(T, dtype=bool),
        keyframes=np.sort(T - ep.keyframes), meta={"source_first_success": ep.first_success, "source_kind": ep.kind},
    )
