"""grm-collect: run scripted experts (and failure variants) and write episodes to a dataset.

    grm-collect task=drawer-open-v3 episodes=10 seed=0 out=data/demos
    grm-collect task=pretrain episodes=5 failures.wrong=2 failures.reversed=2 out=data/pretrain
"""
from __future__ import annotations

import json
import logging

import hydra
from omegaconf import DictConfig, OmegaConf

from envs.tasks import resolve_tasks
from grm.dataset.collect import EnvSettings, collect
from grm.dataset.rollout import RolloutSettings
from policies.scripted_expert import KeyframeRule

log = logging.getLogger("grm-collect")


def settings_from_cfg(cfg: DictConfig) -> tuple[EnvSettings, RolloutSettings]:
    env = EnvSettings(tuple(cfg.env.cameras), int(cfg.env.image_size), int(cfg.env.max_steps), bool(cfg.env.fast_render))
    r = cfg.rollout
    rollout = RolloutSettings(
        noise_std=float(r.noise_std),
        post_success_steps=int(r.post_success_steps),
        post_success=str(r.post_success),
        early_stop_range=tuple(r.early_stop_range),
        wrong_after_range=tuple(r.wrong_after_range),
        keyframes=KeyframeRule(**OmegaConf.to_container(cfg.keyframes)),
        cap_unfinished=bool(r.cap_unfinished),
    )
    return env, rollout


@hydra.main(config_path="pkg://configs", config_name="collect", version_base="1.3")
def main(cfg: DictConfig) -> None:
    tasks = resolve_tasks(OmegaConf.to_container(cfg.task) if OmegaConf.is_list(cfg.task) else cfg.task)
    counts = {"expert": int(cfg.episodes), **{k: int(v) for k, v in cfg.failures.items()}}
    env, rollout = settings_from_cfg(cfg)
    # validate camera names before spawning workers, so a typo fails at once
    from envs.metaworld_env import MetaWorldTask

    MetaWorldTask(tasks[0], env.cameras, env.image_size, env.max_steps).close()
    summary = collect(tasks, counts, int(cfg.seed), cfg.out, env, rollout, workers=int(cfg.workers))
    log.info("collection done: %s", json.dumps(summary))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
