"""One-shot adaptation: the settings (configs/adaptation/one_shot.yaml) and the training run they make.

grm-adapt, grm-rl (before shaping) and benchmarks/grm_heldout.py all adapt with these settings,
read from that one file, so the held-out figures describe the GRM that RL actually shapes with.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Optional

from configs.typed import setting
from grm.pair_sampler import SamplerConfig
from grm.train import RunBookkeeping, TrainConfig


@dataclass
class AdaptationSettings:
    """What adaptation learns with (values: configs/adaptation/one_shot.yaml)."""
    steps: int = setting(ge=1)
    batch_size: int = setting(ge=1)
    lr: float = setting(gt=0)
    weight_decay: float = setting(ge=0)
    warmup: int = setting(ge=0)
    grad_clip: float = setting(gt=0)
    synthetic_failures: int = setting(ge=0, absent=0)  # failure-aware adaptation: grm/synthetic_failures.py
    sampler: SamplerConfig = field(default_factory=SamplerConfig)


@dataclass
class AdaptConfig(AdaptationSettings, RunBookkeeping):
    """grm-adapt's settings (values: configs/adapt.yaml)."""
    checkpoint: str = setting(file="file (a GRM checkpoint: grm.pt)")
    demo: str = setting(path="episode file or folder")
    keyframes: Optional[list[int]] = setting()
    views: dict[str, Optional[str]] = setting()  # {} = by name (a mapping, not null: Hydra merges a mapping into it)
    out: str = setting(resumable=True)
    seed: int = setting(ge=0)


def one_shot_config(demo: str | Path, out: str | Path, checkpoint: str | Path, settings: AdaptationSettings,
                    seed: int, keyframes: list[int] | None, bookkeeping: RunBookkeeping,
                    views: dict | None = None) -> TrainConfig:
    """The TrainConfig that adapts `checkpoint` on the one episode `demo` with `settings` (the
    model and tasks come from the checkpoint and the demo; its views are fed by the demo's cameras
    of the same name, or as `views` maps them: grm/view_slots.py)."""
    def own(obj, cls) -> dict:
        return {f.name: getattr(obj, f.name) for f in fields(cls)}

    return TrainConfig(datasets=[str(demo)], out=str(out), init=str(checkpoint), tasks=None, cameras=None, model=None,
                       seed=seed, keyframes=keyframes, views=dict(views or {}), **own(settings, AdaptationSettings),
                       **own(bookkeeping, RunBookkeeping))
