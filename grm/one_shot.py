"""One-shot adaptation: the settings (configs/adaptation/one_shot.yaml) and the training run they make.

grm-adapt, grm-rl (before shaping) and benchmarks/grm_heldout.py all adapt with these settings,
read from that one file, so the held-out figures describe the GRM that RL actually shapes with.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from configs.typed import setting
from grm.pair_sampler import SamplerConfig
from grm.train import TrainConfig


@dataclass
class AdaptationSettings:
    """What adaptation learns with (values: configs/adaptation/one_shot.yaml)."""
    steps: int = setting(ge=1)
    batch_size: int = setting(ge=1)
    lr: float = setting(gt=0)
    weight_decay: float = setting(ge=0)
    warmup: int = setting(ge=0)
    grad_clip: float = setting(gt=0)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)


@dataclass
class AdaptConfig(AdaptationSettings):
    """grm-adapt's settings (values: configs/adapt.yaml)."""
    checkpoint: str = setting()
    demo: str = setting()
    keyframes: Optional[list[int]] = setting()
    out: str = setting(resumable=True)
    seed: int = setting(ge=0)
    log_every: int = setting(ge=1, resumable=True)
    ckpt_every: int = setting(ge=1, resumable=True)
    resume: bool = setting(resumable=True)
    threads: Optional[int] = setting(ge=1, resumable=True)
    progress: bool = setting(resumable=True)

    def check(self) -> None:
        from configs.typed import ConfigError

        if not Path(self.checkpoint).is_file():
            raise ConfigError("checkpoint", self.checkpoint, "no such file (a GRM checkpoint: grm.pt)")
        if not Path(self.demo).exists():
            raise ConfigError("demo", self.demo, "no such episode file or folder")


def one_shot_config(demo: str | Path, out: str | Path, checkpoint: str | Path, settings: AdaptationSettings,
                    seed: int = 0, keyframes: list[int] | None = None, **bookkeeping) -> TrainConfig:
    """The TrainConfig that adapts `checkpoint` on the one episode `demo` with `settings`;
    `bookkeeping`: log_every, ckpt_every, resume, threads, progress."""
    learned = {k: v for k, v in asdict(settings).items() if k in AdaptationSettings.__dataclass_fields__}
    return TrainConfig(datasets=[str(demo)], out=str(out), init=str(checkpoint), seed=seed, keyframes=keyframes,
                       **learned, **bookkeeping)
