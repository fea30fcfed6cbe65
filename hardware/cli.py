"""Hydra entry points of the bridge: grm-deploy and grm-import-bag."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import hydra
from omegaconf import DictConfig

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


@hydra.main(config_path="pkg://configs", config_name="import_bag", version_base="1.3")
def import_bag_main(cfg: DictConfig) -> None:
    from omegaconf import OmegaConf

    from hardware.rosbag_import import import_bag

    path = import_bag(cfg.bag, cfg.out, cfg.task, cfg.profile, list(cfg.cameras), cfg.image_topic, cfg.command_topic,
                      cfg.rate_hz, cfg.image_size, cfg.success, OmegaConf.to_container(cfg.keyframes_s), cfg.instruction)
    print(f"wrote {path}")
