"""Recording one episode of a task: the expert, its noisy and failing variants, reversals.

Failure data is what keeps a reward model honest: trained on expert demos alone it learns
"any motion is progress". Each kind below is a different way of not finishing the task.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from envs.scripted_expert import KeyframeRule, WrongBehaviour, derive_keyframes
from envs.task_env import make_expert
from grm.dataset.episode_io import EpisodeData
from grm.progress_labels import keyframe_progress, matched_progress, unfinished_cap

KINDS = ("expert", "noisy", "early_stop", "wrong", "reversed")
POST_SUCCESS = ("expert", "retract")


@dataclass(frozen=True)
class RolloutSettings:
    noise_std: float = 0.3  # Gaussian action noise of `noisy` episodes
    post_success_steps: int = 10  # frames kept after the first success
    post_success: str = "expert"  # after success: the expert keeps acting, or "retract" (retract_action)
    early_stop_range: tuple[float, float] = (0.2, 0.8)  # `early_stop` ends at this share of the expert's time
    wrong_after_range: tuple[float, float] = (0.0, 0.5)  # `wrong` follows the expert for this share first
    keyframes: KeyframeRule = KeyframeRule()
    cap_unfinished: bool = False  # cap a never-successful run's matched progress at (N-1)/N (unfinished_cap)

    def __post_init__(self):
        if self.post_success not in POST_SUCCESS:
            raise ValueError(f"post_success must be one of {POST_SUCCESS}, got {self.post_success!r}")

    @property
    def label_rule(self) -> str:
        """How progress labels are made; recorded in dataset.json so episodes labelled two ways never share a folder."""
        return "keyframes+matched, unfinished capped at (N-1)/N" if self.cap_unfinished else "keyframes+matched"


def retract_action(state: np.ndarray, home: np.ndarray, grip: float, gain: float = 10.0) -> np.ndarray:
    """Move the hand back to where it started, the last grip command held.

    Scripted experts end wherever the task left the hand, so in their demos the hand's pose
    and the task's progress change together; a GRM can then score where the hand is instead of
    what the objects did (door-lock: a success whose hand ends near its start reads as START).
    Demos that end with the hand back home, the task still done, separate the two (and real
    demos often end that way). Measured as pretraining data in the README ("Retracted endings")."""
    delta = np.clip(gain * (np.asarray(home) - state[:3]), -1.0, 1.0)
    return np.append(delta, grip).astype(np.float32)


def _record(env: gym.Env, seed: int, act: Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray | None]],
            max_steps: int, stop_after_success: int | None, retract: bool = False) -> dict[str, np.ndarray | int | None]:
    """Run `act(t, state)` from reset(seed); returns frames, traces and the first-success frame.

    `retract`: after the first success the hand returns home (retract_action) instead of `act`,
    and recording stops before the first frame the simulator no longer calls a success, so every
    kept post-success frame is one where the task is done."""
    obs, _ = env.reset(seed=seed)
    home = obs["state"][:3].copy()
    images, states, physics = [obs["pixels"]], [obs["state"]], [env.physics_state()]
    actions, rewards, success, targets = [], [], [], []
    first_success = None
    for t in range(max_steps):
        if retract and first_success is not None:
            action, target = retract_action(obs["state"], home, float(actions[first_success - 1][3])), None
        else:
            action, target = act(t, obs["state"])
        obs, reward, _, truncated, info = env.step(action)
        if retract and first_success is not None and not info["is_success"]:
            break  # the retract undid the task (a carried object left the goal): end at the last done frame
        images.append(obs["pixels"])
        states.append(obs["state"])
        physics.append(env.physics_state())
        actions.append(action)
        rewards.append(reward)
        success.append(info["is_success"])
        targets.append(target)
        if info["is_success"] and first_success is None:
            first_success = t + 1
        if truncated or (stop_after_success is not None and first_success is not None
                         and t + 1 >= first_success + stop_after_success):
            break
    has_targets = all(tg is not None for tg in targets[:first_success])
    return dict(
        images=np.stack(images), state=np.stack(states), physics=np.stack(physics),
        actions=np.asarray(actions, dtype=np.float32), rewards=np.asarray(rewards, dtype=np.float32),
        success=np.asarray(success, dtype=bool), targets=np.stack(targets[:first_success]) if has_targets else None,
        first_success=first_success,
    )


class UnsolvableSeed(RuntimeError):
    """The scripted expert does not finish from this seed; the collector moves to the next one."""


@dataclass
class ExpertReference:
    """The clean expert run from a seed (no rendering): what failure episodes are labelled against."""

    states: np.ndarray  # (T+1, 39)
    progress: np.ndarray  # (T+1,)
    first_success: int  # = steps the expert needs from this seed
    subtasks: int  # N, the number of sub-tasks its keyframes split it into


def expert_reference(state_env: gym.Env, seed: int, max_steps: int, settings: RolloutSettings) -> ExpertReference:
    """Run the expert state-only from `seed`; raise UnsolvableSeed if it never succeeds."""
    expert = make_expert(state_env.task)
    obs, _ = state_env.reset(seed=seed)
    states, targets, grip, dirs = [obs["state"]], [], [], []
    for t in range(max_steps):
        action, target = expert.act(obs["state"])
        obs, _, _, _, info = state_env.step(action)
        states.append(obs["state"])
        targets.append(target)
        grip.append(action[3])
        dirs.append(action[:3])
        if info["is_success"]:
            n = t + 2
            tg = np.stack(targets) if all(x is not None for x in targets) else None
            kf = derive_keyframes(tg, np.asarray(grip), t + 1, n, settings.keyframes, directions=np.stack(dirs))
            return ExpertReference(np.stack(states), keyframe_progress(kf, n), t + 1, len(kf) - 1)
    raise UnsolvableSeed(f"{state_env.task}: expert does not succeed from seed {seed} in {max_steps} steps")


def record_episode(env: gym.Env, state_env: gym.Env, kind: str, seed: int, max_steps: int,
                   settings: RolloutSettings = RolloutSettings()) -> EpisodeData:
    """Record one episode of `kind` on `env` (rendering) from `seed`; `state_env` is a pixel-free twin.

    Raises UnsolvableSeed when the expert cannot finish from `seed`: every episode, failures
    included, has a successful expert run beside it to define its progress labels.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown episode kind {kind!r}; valid: {', '.join(KINDS)}")
    task = env.task
    ref = expert_reference(state_env, seed, max_steps, settings)
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    expert = make_expert(task)
    horizon, stop = max_steps, settings.post_success_steps
    need = ref.first_success

    if kind in ("expert", "reversed"):
        act = lambda t, s: expert.act(s)  # noqa: E731
    elif kind == "noisy":
        def act(t, s):
            a, target = expert.act(s)
            return np.clip(a + rng.normal(0.0, settings.noise_std, 4), -1, 1).astype(np.float32), target
    elif kind == "early_stop":
        horizon = max(2, int(round(rng.uniform(*settings.early_stop_range) * need)))
        act = lambda t, s: expert.act(s)  # noqa: E731
        stop = None
    else:  # wrong: start like the expert, then wander off for as long as the expert would have taken
        switch = int(rng.uniform(*settings.wrong_after_range) * need)
        horizon = min(max_steps, need + settings.post_success_steps)
        wander = WrongBehaviour(rng, env.workspace)

        def act(t, s):
            return expert.act(s) if t < switch else (wander.act(s), None)
        stop = None

    rec = _record(env, seed, act, horizon, stop,
                  retract=settings.post_success == "retract" and kind in ("expert", "noisy", "reversed"))
    n_frames = len(rec["images"])
    succeeded = rec["first_success"] is not None and kind != "wrong"
    if succeeded:
        keyframes = derive_keyframes(rec["targets"], rec["actions"][:, 3], rec["first_success"], n_frames,
                                     settings.keyframes, directions=rec["actions"][:, :3])
        progress = keyframe_progress(keyframes, n_frames)
    else:  # its own phases are not the task's: only start and end are boundaries; progress by matching
        keyframes = np.array([0, n_frames - 1])
        progress = matched_progress(rec["state"], ref.states, ref.progress)
        # early_stop's frames are the expert's own, so only runs that leave its path are capped
        if settings.cap_unfinished and rec["first_success"] is None and kind != "early_stop":
            progress = np.minimum(progress, unfinished_cap(ref.subtasks)).astype(np.float32)
    ep = EpisodeData(
        task=task, instruction=env.instruction, kind=kind, seed=seed, cameras=list(env.cameras),
        images=rec["images"], state=rec["state"], physics=rec["physics"], actions=rec["actions"],
        rewards=rec["rewards"], step_success=rec["success"], keyframes=keyframes, progress=progress,
        meta={"expert_steps_to_success": need},
    )
    return reverse_episode(ep) if kind == "reversed" else ep


def reverse_episode(ep: EpisodeData) -> EpisodeData:
    """The same frames played backwards: the task being undone (never a success).

    Actions are reversed in time with the motion negated (the gripper command kept), which
    approximately undoes each step; keyframes map to T - k and progress is read backwards.
    """
    T = ep.num_steps
    actions = ep.actions[::-1].copy()
    actions[:, :3] *= -1
    return EpisodeData(
        task=ep.task, instruction=ep.instruction, kind="reversed", seed=ep.seed, cameras=ep.cameras,
        images=ep.images[::-1].copy(), state=ep.state[::-1].copy(), physics=ep.physics[::-1].copy(),
        actions=actions, rewards=ep.rewards[::-1].copy(), step_success=np.zeros(T, dtype=bool),
        keyframes=np.sort(T - ep.keyframes), progress=ep.progress[::-1].copy(),
        meta={**ep.meta, "source_first_success": ep.first_success, "source_kind": ep.kind},
    )
