"""grm-collect: run scripted experts (and failure variants) and write episodes to a dataset.

    grm-collect task=drawer-open-v3 episodes=10 seed=0 out=data/demos
    grm-collect task=pretrain episodes=5 failures.wrong=2 failures.reversed=2 out=data/pretrain
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from configs.typed import ConfigError, command, setting
from envs.rendering import ViewRandomization
from envs.tasks import family, resolve_tasks
from grm.dataset.collect import EnvSettings, collect
from grm.dataset.rollout import POST_SUCCESS, RolloutSettings
from envs.scripted_expert import KeyframeRule

log = logging.getLogger("grm-collect")


@dataclass
class RandomizeSection:
    camera_deg: float = setting(ge=0)
    camera_m: float = setting(ge=0)
    light: float = setting(ge=0, lt=1)
    color: float = setting(ge=0, lt=1)


@dataclass
class EnvSection:
    cameras: list[str] = setting()
    image_size: int = setting(ge=16)
    max_steps: int = setting(ge=1)
    fast_render: bool = setting()
    randomize: RandomizeSection = setting()


@dataclass
class FailureCounts:
    noisy: int = setting(ge=0)
    early_stop: int = setting(ge=0)
    wrong: int = setting(ge=0)
    reversed: int = setting(ge=0)


@dataclass
class RolloutSection:
    noise_std: float = setting(ge=0)
    post_success_steps: int = setting(ge=0)
    post_success: str = setting(choices=POST_SUCCESS)
    early_stop_range: list[float] = setting()
    wrong_after_range: list[float] = setting()
    cap_unfinished: bool = setting()


@dataclass
class KeyframeSection:
    target_jump: float = setting(gt=0)
    min_gap: int = setting(ge=1)
    turn_cos: float = setting(ge=-1, le=1)


@dataclass
class CollectConfig:
    """grm-collect's settings (values: configs/collect.yaml, configs/env/metaworld.yaml)."""
    task: Any = setting()  # one task, a list, or a group (envs/tasks.py GROUPS)
    episodes: int = setting(ge=0)
    seed: int = setting(ge=0)
    out: str = setting()
    workers: int = setting(ge=0)
    failures: FailureCounts = setting()
    rollout: RolloutSection = setting()
    keyframes: KeyframeSection = setting()
    env: EnvSection = setting()

    def check(self) -> None:
        try:
            resolve_tasks(self.task)
        except ValueError as exc:
            raise ConfigError("task", self.task, str(exc)) from None
        if self.episodes + sum(asdict(self.failures).values()) == 0:
            raise ConfigError("episodes", self.episodes, "must be >= 1 (or ask for failures.*): nothing to collect")
        for key in ("early_stop_range", "wrong_after_range"):
            lo_hi = getattr(self.rollout, key)
            if len(lo_hi) != 2 or not 0 <= lo_hi[0] <= lo_hi[1] <= 1:
                raise ConfigError(f"rollout.{key}", lo_hi, "must be [low, high] with 0 <= low <= high <= 1")

    def settings(self) -> tuple[EnvSettings, RolloutSettings]:
        e, r = self.env, self.rollout
        env = EnvSettings(tuple(e.cameras), e.image_size, e.max_steps, e.fast_render,
                          randomize=ViewRandomization(**asdict(e.randomize)))
        rollout = RolloutSettings(noise_std=r.noise_std, post_success_steps=r.post_success_steps,
                                  post_success=r.post_success, early_stop_range=tuple(r.early_stop_range),
                                  wrong_after_range=tuple(r.wrong_after_range),
                                  keyframes=KeyframeRule(**asdict(self.keyframes)), cap_unfinished=r.cap_unfinished)
        return env, rollout


def job(cfg: CollectConfig) -> None:
    tasks = resolve_tasks(cfg.task)
    counts = {"expert": cfg.episodes, **asdict(cfg.failures)}
    env, rollout = cfg.settings()
    # validate camera names before spawning workers, so a typo fails at once
    from envs.task_env import make_task

    # one task of each family (their cameras differ), so a bad name fails here and not in a worker,
    # without building every task's environment (a robosuite arm takes seconds)
    for task in {family(t): t for t in tasks}.values():
        make_task(task, env.cameras, env.image_size, env.max_steps).close()
    summary = collect(tasks, counts, cfg.seed, cfg.out, env, rollout, workers=cfg.workers)
    log.info("collection done: %s", json.dumps(summary))
    print(json.dumps(summary))


main = command("collect", CollectConfig, job)

if __name__ == "__main__":
    main()
