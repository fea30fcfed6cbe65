"""grm-convert: move datasets between this project's episode files and LeRobotDataset v3.0.

    grm-convert src=data/heldout out=data/heldout-lerobot            # to LeRobot (parquet + mp4)
    grm-convert src=data/heldout-lerobot out=data/heldout-back to=hdf5
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from configs.typed import command, setting


@dataclass
class ConvertConfig:
    src: str = setting(path="dataset folder")
    out: str = setting()
    to: str = setting(choices=("lerobot", "hdf5"))
    fps: int = setting(ge=1)
    robot_type: str = setting()
    task: Optional[str] = setting()


def job(cfg: ConvertConfig) -> None:
    from grm.dataset.lerobot import from_lerobot, to_lerobot

    if cfg.to == "lerobot":
        info = to_lerobot(cfg.src, cfg.out, cfg.fps, cfg.robot_type)
        print(f"wrote {cfg.out}: {info['total_episodes']} episodes, {info['total_frames']} frames (LeRobotDataset v3.0)")
    else:
        written = from_lerobot(cfg.src, cfg.out, cfg.task)
        print(f"wrote {len(written)} episode files under {cfg.out}")


main = command("convert", ConvertConfig, job)

if __name__ == "__main__":
    main()
