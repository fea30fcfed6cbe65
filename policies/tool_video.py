"""Films of pick episodes: every low-level period from the scene's cameras, side by side, with a
bar showing how far the object has been lifted (full = the success height)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from envs.tweezers.pick_env import LIFT
from policies.tool_pick_eval import SPLITS, load_pick_policy, run_pick_episode


@dataclass
class VideoConfig:
    out: str = "runs/tool-video"
    policy: str = "hierarchical"
    split: str = "held_out_shapes"
    episodes: int = 3
    seed: int = 0
    high: str = "runs/tool-high"
    flat: str = "runs/tool-flat"
    low_level: str | None = None
    affordance: str | None = "runs/tool-affordance/affordance.pt"
    cameras: list = field(default_factory=lambda: ["closeup", "depth_front"])
    size: int = 240
    fps: int = 25


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
