"""GRM checkpoints: atomic writes, validated loads, no pickled code executed.

A checkpoint is a torch file holding only tensors and plain data (loaded with
`weights_only=True`, so a malicious file cannot run code): the model config, the cameras
it was trained on, the weights, and, for training checkpoints, optimizer state and step.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from configs.files import atomic_write
from grm.model import GRM, GRMConfig

FORMAT = "robo-dopamine-grm"
VERSION = 1


class CheckpointError(ValueError):
    """The file exists but is not a usable GRM checkpoint."""


def save_checkpoint(path: str | Path, model: GRM, cameras: list[str], extra: dict[str, Any] | None = None) -> Path:
    """Write atomically (temp file + rename): a crash never leaves a half-written checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": json.dumps(model.cfg.to_dict()),
        "cameras": json.dumps(list(cameras)),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        **(extra or {}),
    }
    atomic_write(path, lambda tmp: torch.save(payload, tmp))
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and validate the raw payload; clear errors for missing, corrupt or foreign files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GRM checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, random bytes, a pickle with code in it...
        raise CheckpointError(f"{path} is not a loadable GRM checkpoint (corrupt or unsafe file): {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a GRM checkpoint (no '{FORMAT}' format marker)")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')}; this code reads version {VERSION}")
    return payload


def load_model(path: str | Path) -> tuple[GRM, list[str], dict[str, Any]]:
    """(model in eval mode, camera names, payload) from a checkpoint."""
    payload = read_checkpoint(path)
    try:
        cfg = GRMConfig(**json.loads(payload["config"]))
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: model config is missing or from an incompatible version: {exc}") from exc
    model = GRM(cfg)
    try:
        missing, unexpected = model.load_state_dict(payload["state_dict"], strict=False)
    except RuntimeError as exc:  # shape mismatch
        raise CheckpointError(f"{path}: weights do not fit the model config: {exc}") from exc
    if missing or unexpected:
        raise CheckpointError(f"{path}: weights do not fit the model (missing {missing[:5]}, unexpected {unexpected[:5]})")
    model.eval()
    return model, json.loads(payload["cameras"]), payload
