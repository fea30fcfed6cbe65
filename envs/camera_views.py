"""Any MuJoCo-based gymnasium environment as the reward modes see a Meta-World `RLTask`.

`CameraViews` renders the chosen cameras after every reset and step into `info["pixels"]`
(V, H, W, 3), keeps the environment's own reward as `info["env_reward"]`, and makes the step's
reward the task's success (r_task), read by `success(info)` (default: gymnasium-robotics'
`info["is_success"]`). `ShapedRewardVecEnv` (policies/shaping.py) then pays any reward mode on a
VecEnv of these, exactly as for the project's own tasks: termination vs truncation stays the
environment's, and gamma comes from the learner.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym

from envs.rendering import FreeCamera, MultiViewRenderer


def _is_success(info: dict) -> bool:
    if "is_success" not in info:
        raise KeyError("the environment's info has no `is_success`: pass CameraViews(success=...) saying "
                       "when the task is done, e.g. lambda info: info['distance'] < 0.05")
    return bool(info["is_success"])


class CameraViews(gym.Wrapper):
    def __init__(self, env: gym.Env, cameras: Sequence[str | FreeCamera], image_size: int = 64,
                 success: Callable[[dict], bool] = _is_success, terminate_on_success: bool = False):
        """cameras: the model's named cameras or `FreeCamera`s; their names are the views a reward
        model maps onto its slots (`RewardModel.load(..., available=env.cameras, views=...)`)."""
        super().__init__(env)
        base = env.unwrapped
        if not (hasattr(base, "model") and hasattr(base, "data")):
            raise TypeError(f"{type(base).__name__} is not a MuJoCo environment (no .model / .data to render)")
        self.renderer = MultiViewRenderer(base.model, list(cameras), image_size, image_size)
        self.cameras = self.renderer.cameras
        self.success, self.terminate_on_success = success, terminate_on_success

    def _views(self, info: dict) -> dict:
        info["pixels"] = self.renderer.render(self.env.unwrapped.data)
        return info

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, self._views(info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        done = self.success(info)
        info.update(env_reward=float(reward), is_success=done)
        terminated = bool(terminated or (done and self.terminate_on_success))
        return obs, float(done), terminated, bool(truncated and not terminated), self._views(info)

    def close(self) -> None:
        self.renderer.close()
        super().close()
