"""Films of pick episodes: every low-level period from the scene's cameras, side by side, with a
bar showing how far the object has been lifted (full = the success height)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from configs.typed import setting
from envs.tweezers.pick_env import LIFT
from policies.tool_pick_eval import POLICIES, SPLITS, load_pick_policy, run_pick_episode


@dataclass
class VideoConfig:
    """tool-video's settings (values: configs/tool_video.yaml)."""
    out: str = setting()
    policy: str = setting(choices=POLICIES)
    split: str = setting(choices=SPLITS)
    episodes: int = setting(ge=1)
    seed: int = setting(ge=0)
    high: str = setting()
    flat: str = setting()
    low_level: Optional[str] = setting()
    affordance: Optional[str] = setting()
    cameras: list[str] = setting()
    size: int = setting(ge=16)
    fps: int = setting(ge=1)


def record_pick_videos(cfg: VideoConfig) -> list[dict]:
    """One mp4 per episode in cfg.out; returns the episodes' outcomes with their video paths."""
    from envs.rendering import MultiViewRenderer
    from grm.video import tile_views, write_progress_video
    from policies.tool_high_level import load_affordance, make_pick_env
    from policies.tool_low_level import load_low_level

    if cfg.split not in SPLITS:
        raise ValueError(f"unknown split {cfg.split!r}; choose from {', '.join(SPLITS)}")
    flat, make_policy = load_pick_policy(cfg.policy, cfg.high, cfg.flat)
    affordance, low_level = load_affordance(cfg.affordance), load_low_level(cfg.low_level)
    dists, rows = SPLITS[cfg.split], []
    for k in range(cfg.episodes):
        env = make_pick_env(dists[k % len(dists)], flat, affordance, low_level)
        frames, lift, renderer = [], [], []

        def film(e):
            if not renderer:  # made on the first step: reset builds the episode's scene
                renderer.append(MultiViewRenderer(e.model, list(cfg.cameras), cfg.size, cfg.size))
            frames.append(renderer[0].render(e.data))
            lift.append(np.clip((e.data.body("object").xpos[2] - e.rest_z) / LIFT, 0, 1))

        env.on_inner_step = film
        row = run_pick_episode(env, make_policy, cfg.seed + k)
        for r in renderer:
            r.close()
        env.close()
        outcome = "success" if row["success"] else "fail"
        path = Path(cfg.out) / f"{cfg.policy}-{cfg.split}-{k}-{row['shape']}-{row['extent'] * 100:.1f}cm-{outcome}.mp4"
        write_progress_video(tile_views(np.stack(frames), scale=1), np.array(lift), path, cfg.fps, label="lift")
        rows.append({**row, "video": str(path)})
    return rows
