"""Videos of episodes with the reward model's progress drawn on them."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def progress_overlay(frame: np.ndarray, phi: float, label: str = "progress") -> np.ndarray:
    """RGB frame with a progress bar (green when >= 0.95) and its value along the bottom."""
    img = np.ascontiguousarray(frame[..., ::-1])  # RGB -> BGR for OpenCV
    h, w = img.shape[:2]
    bar_h = max(6, h // 16)
    cv2.rectangle(img, (0, h - bar_h), (w - 1, h - 1), (40, 40, 40), -1)
    color = (60, 200, 60) if phi >= 0.95 else (0, 165, 255)
    cv2.rectangle(img, (0, h - bar_h), (int(round(np.clip(phi, 0, 1) * (w - 1))), h - 1), color, -1)
    cv2.putText(img, f"{label} {phi:.2f}", (4, h - bar_h - 4), cv2.FONT_HERSHEY_SIMPLEX, max(0.3, h / 400), (255, 255, 255), 1,
                cv2.LINE_AA)
    return img


def write_progress_video(frames: np.ndarray, progress: np.ndarray, path: str | Path, fps: int = 20,
                         label: str = "progress") -> Path:
    """frames (T, H, W, 3) RGB (views already tiled), progress (T,) -> an mp4 file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    for frame, phi in zip(frames, progress):
        writer.write(progress_overlay(frame, float(phi), label))
    writer.release()
    return path


def tile_views(views: np.ndarray, scale: int = 2) -> np.ndarray:
    """(T, V, H, W, 3) -> (T, H*scale, V*W*scale, 3), views side by side."""
    T, V, H, W, _ = views.shape
    tiled = views.transpose(0, 2, 1, 3, 4).reshape(T, H, V * W, 3)
    return tiled.repeat(scale, axis=1).repeat(scale, axis=2)
