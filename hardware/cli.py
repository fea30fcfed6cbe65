"""Hydra entry points of the bridge: grm-deploy and grm-import-bag."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from configs.typed import command, setting


@dataclass
class DeployConfig:
    """grm-deploy's settings (values: configs/deploy.yaml)."""
    params: str = setting(file="ROS 2 params file")
    nodes: dict[str, Any] = setting({})  # per-node parameter overrides: +nodes.policy_node.max_steps=200
    episodes: int = setting(ge=0)  # 0: run until Ctrl-C
    episode_timeout_s: float = setting(gt=0)
    loopback: bool = setting()
    domain_id: Optional[int] = setting(ge=0, le=232)
    progress: bool = setting()
    out: str = setting()


def deploy_job(cfg: DeployConfig) -> None:
    from hardware.deploy import deploy

    result = deploy(cfg.params, cfg.out, episodes=cfg.episodes, overrides=cfg.nodes, loopback=cfg.loopback,
                    domain_id=cfg.domain_id, episode_timeout_s=cfg.episode_timeout_s, progress=cfg.progress)
    if "success_rate" in result:
        print(f"success rate over {len(result['episodes'])} episodes: {result['success_rate']:.2f} "
              f"({cfg.out}/episodes.json)")


deploy_main = command("deploy", DeployConfig, deploy_job)


@dataclass
class ImportBagConfig:
    """grm-import-bag's settings (values: configs/import_bag.yaml)."""
    bag: str = setting(path="rosbag2 recording (a folder or an .mcap / .db3 file)")
    out: str = setting()
    task: str = setting()
    instruction: str = setting()
    profile: str = setting()
    cameras: list[str] = setting()
    image_topic: str = setting()
    command_topic: Optional[str] = setting()
    rate_hz: float = setting(gt=0)
    image_size: int = setting(ge=16)
    success: bool = setting()
    keyframes_s: list[float] = setting()


def import_bag_job(cfg: ImportBagConfig) -> None:
    from hardware.rosbag_import import import_bag

    path = import_bag(cfg.bag, cfg.out, cfg.task, cfg.profile, cfg.cameras, cfg.image_topic, cfg.command_topic,
                      cfg.rate_hz, cfg.image_size, cfg.success, cfg.keyframes_s, cfg.instruction)
    print(f"wrote {path}")


import_bag_main = command("import_bag", ImportBagConfig, import_bag_job)
