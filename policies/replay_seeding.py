"""Reference-controller episodes for off-policy learners: straight into an SB3 replay buffer
(`seed_replay`), or as stacked arrays for a demo-mixing buffer (`demo_transitions_from`)."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def roll_episodes(env, act, episodes: int, seed: int) -> Iterator[tuple]:
    """Yield (obs, next_obs, action, reward, terminated, truncated (by the time limit only),
    info, episode_end) for `episodes` episodes of `act(obs) -> action` (reset seeds seed,
    seed+1, ...)."""
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        for t in range(env.max_steps):
            action = np.asarray(act(obs), dtype=np.float32)
            nxt, reward, terminated, truncated, info = env.step(action)
            truncated = truncated or t == env.max_steps - 1
            done = terminated or truncated
            yield obs, nxt, action, float(reward), terminated, truncated and not terminated, info, done
            obs = nxt
            if done:
                break


def _success_rate(ends: list[dict]) -> float:
    return float(np.mean([bool(i.get("is_success", False)) for i in ends])) if ends else 0.0


def seed_replay(model, env, act, episodes: int, seed: int) -> float:
    """Add every transition of `episodes` reference episodes to `model.replay_buffer` (array or
    dict observations, HER included); returns the controller's success rate."""
    def batch(o):
        return {k: v[None] for k, v in o.items()} if isinstance(o, dict) else o[None]

    ends = []
    for obs, nxt, action, reward, terminated, truncated, info, end in roll_episodes(env, act, episodes, seed):
        model.replay_buffer.add(batch(obs), batch(nxt), action[None], np.array([reward]),
                                np.array([terminated or truncated]), [{**info, "TimeLimit.truncated": truncated}])
        if end:
            ends.append(info)
    return _success_rate(ends)


def demo_transitions_from(env, act, episodes: int, seed: int, successful_only: bool = True) -> tuple[dict, float]:
    """Reference episodes as arrays (obs, actions, next_obs, rewards, dones), for a demo set or
    `add_transitions`; `dones` is true termination only (a time limit bootstraps).
    With `successful_only`, failed episodes are left out. Returns (arrays, success rate)."""
    keys = ("obs", "next_obs", "actions", "rewards", "dones")
    kept, episode, ends = {k: [] for k in keys}, {k: [] for k in keys}, []
    for obs, nxt, action, reward, terminated, _, info, end in roll_episodes(env, act, episodes, seed):
        for k, v in zip(keys, (obs, nxt, action, reward, float(terminated))):
            episode[k].append(v)
        if end:
            ends.append(info)
            if info.get("is_success", False) or not successful_only:
                for k in keys:
                    kept[k] += episode[k]
            episode = {k: [] for k in keys}
    arrays = {k: np.asarray(v, dtype=np.float32) for k, v in kept.items()}
    return arrays, _success_rate(ends)


def add_transitions(buffer, arrays: dict) -> None:
    """Put stacked transitions (as `demo_transitions_from` returns) into an SB3 replay buffer."""
    for o, n, a, r, d in zip(arrays["obs"], arrays["next_obs"], arrays["actions"], arrays["rewards"], arrays["dones"]):
        buffer.add(o[None], n[None], a[None], np.array([r]), np.array([d]), [{"TimeLimit.truncated": False}])
