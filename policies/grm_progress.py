"""The GRM's progress as part of the environment: `info["grm_progress"]` on every reset and step.

Scoring where the env runs puts it in the worker process of a SubprocVecEnv, beside physics and
rendering, so the learner's process spends its core on updates; the frames then stay in the
worker too (`keep_pixels=False`), and only the progress crosses the pipe. `OracleProgress`
(policies/oracle_progress.py) does the same with ground truth; `InfoPotential`
(policies/shaping.py) reads either for shaping. Meant for our GRM (~3 MB, ~5 ms a step on one
core): a backend too large to hold once per env (the official VLM) scores all envs in one
batched call in the learner instead (`GRMPotential`).
"""
from __future__ import annotations

import gymnasium as gym


class GRMProgress(gym.Wrapper):
    def __init__(self, env: gym.Env, rm, perspective: str = "fused", guard: bool = False, fusion: str = "median",
                 keep_pixels: bool = False):
        from grm.inference import ProgressTracker

        super().__init__(env)
        self._tracker = ProgressTracker(rm, 1, perspective, guard, fusion=fusion)
        self._keep_pixels = keep_pixels

    def _views(self, info: dict):
        return (info["pixels"] if self._keep_pixels else info.pop("pixels"))[None]

    def reset(self, *, seed: int | None = None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        info["grm_progress"] = float(self._tracker.reset(self._views(info))[0])
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["grm_progress"] = float(self._tracker.step(self._views(info)).phi[0])
        return obs, reward, terminated, truncated, info
