"""One-shot adaptation settings in one place (configs/adapt.yaml).

grm-adapt, grm-rl (before shaping) and benchmarks/grm_heldout.py all adapt with these, so the
held-out figures describe the GRM that RL actually shapes with.
"""
from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from grm.train import TrainConfig

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
_TRAIN_KEYS = ("keyframes", "seed", "steps", "batch_size", "lr", "weight_decay", "warmup", "grad_clip", "log_every",
               "ckpt_every", "resume", "threads", "progress", "sampler")
_BOOKKEEPING = ("log_every", "ckpt_every", "resume", "threads", "progress")  # change nothing the model learns


def adapt_settings() -> dict:
    """configs/adapt.yaml with its sampler defaults merged in, as a plain dict (what `grm-adapt`
    composes through Hydra, readable from inside another Hydra app such as grm-rl)."""
    cfg = OmegaConf.load(CONFIGS / "adapt.yaml")
    sampler = OmegaConf.merge(OmegaConf.load(CONFIGS / "sampler" / "default.yaml"), cfg.get("sampler") or {})
    cfg.sampler = sampler
    return {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k not in ("defaults", "hydra")}


def learned_settings(settings: dict) -> dict:
    """The settings that decide what adaptation learns (logging, checkpointing, threads left
    out): what a cache or a recipe must key on."""
    return {k: settings[k] for k in _TRAIN_KEYS if k in settings and k not in _BOOKKEEPING}


def one_shot_config(demo: str | Path, out: str | Path, checkpoint: str | Path, settings: dict | None = None,
                    **overrides) -> TrainConfig:
    """The TrainConfig that adapts `checkpoint` on the one episode `demo`: `settings` (default
    adapt_settings()) with `overrides` on top."""
    s = {**(settings if settings is not None else adapt_settings()), **overrides}
    return TrainConfig(datasets=[str(demo)], out=str(out), init=str(checkpoint),
                       **{k: s[k] for k in _TRAIN_KEYS if k in s})
