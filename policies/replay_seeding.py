"""Put a reference controller's episodes into an SB3 replay buffer before learning starts."""
from __future__ import annotations

import numpy as np


def seed_replay(model, env, act, episodes: int, seed: int) -> float:
    """Roll `act(obs) -> action` for `episodes` episodes (reset seeds seed, seed+1, ...) and add
    every transition to `model.replay_buffer` (array or dict observations, HER included);
    returns the controller's success rate (`info["is_success"]`)."""
    def batch(o):
        return {k: v[None] for k, v in o.items()} if isinstance(o, dict) else o[None]

    wins = 0
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        info = {}
        for _ in range(env.max_steps):
            action = act(obs)
            nxt, reward, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            model.replay_buffer.add(batch(obs), batch(nxt), action[None], np.array([reward]), np.array([done]),
                                    [{**info, "TimeLimit.truncated": truncated and not terminated}])
            obs = nxt
            if done:
                break
        wins += bool(info.get("is_success", False))
    return wins / max(episodes, 1)
