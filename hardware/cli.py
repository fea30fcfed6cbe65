"""Hydra entry points of the bridge: grm-deploy and grm-import-bag."""
from __future__ import annotations

import hydra
from omegaconf import DictConfig

from grm.cli.common import to_plain


@hydra.main(config_path="pkg://configs", config_name="deploy", version_base="1.3")
def deploy_main(cfg: DictConfig) -> None:
    from hardware.deploy import deploy

    result = deploy(cfg.params, cfg.out, episodes=cfg.episodes, overrides=to_plain(cfg.nodes), loopback=cfg.loopback,
                    domain_id=cfg.domain_id, episode_timeout_s=cfg.episode_timeout_s, progress=cfg.progress)
    if "success_rate" in result:
        print(f"success rate over {len(result['episodes'])} episodes: {result['success_rate']:.2f} "
              f"({cfg.out}/episodes.json)")


@hydra.main(config_path="pkg://configs", config_name="import_bag", version_base="1.3")
def import_bag_main(cfg: DictConfig) -> None:
    from hardware.rosbag_import import import_bag

    path = import_bag(cfg.bag, cfg.out, cfg.task, cfg.profile, list(cfg.cameras), cfg.image_topic, cfg.command_topic,
                      cfg.rate_hz, cfg.image_size, cfg.success, to_plain(cfg.keyframes_s), cfg.instruction)
    print(f"wrote {path}")
