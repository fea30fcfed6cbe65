"""grm-rl: train SAC/PPO on a Meta-World task with a reward mode (the README's main job).

    grm-rl                                   # drawer-close-v3, adapt the shipped GRM, SAC + grm_pbrs
    grm-rl task=window-close-v3 reward=env_dense seed=1
    grm-rl algo=ppo reward=sparse episodes=300
"""
from __future__ import annotations

import json

import hydra
from omegaconf import DictConfig

from grm.cli.common import to_plain
from policies.rl_run import RLConfig, run


def config_from(cfg: DictConfig) -> RLConfig:
    return RLConfig(
        task=cfg.task, out=cfg.out, algo=cfg.algo, reward=cfg.reward, seed=cfg.seed, episodes=cfg.episodes,
        max_steps=cfg.max_steps, n_envs=cfg.n_envs, vec_env=cfg.vec_env, threads=cfg.threads,
        grm_checkpoint=cfg.grm.checkpoint, adapt=cfg.grm.adapt, adapt_steps=cfg.grm.adapt_steps,
        perspective=cfg.grm.perspective, guard=cfg.grm.guard, shaping_scale=cfg.grm.scale,
        reward_scale=cfg.reward_scale, terminate_on_success=cfg.terminate_on_success,
        task_reward=cfg.task_reward, success_delta=cfg.success_delta,
        demo_path=cfg.demo.path, demo_seed=cfg.demo.seed, seed_buffer=cfg.demo.seed_buffer, demo_ratio=cfg.demo.ratio,
        eval_every_episodes=cfg.eval.every_episodes, eval_episodes=cfg.eval.episodes,
        final_eval_episodes=cfg.eval.final_episodes, video=cfg.eval.video,
        checkpoint_every_episodes=cfg.checkpoint_every_episodes, progress=cfg.progress,
        sac=to_plain(cfg.sac), ppo=to_plain(cfg.ppo),
    )


@hydra.main(config_path="pkg://configs", config_name="rl", version_base="1.3")
def main(cfg: DictConfig) -> None:
    report = run(config_from(cfg))
    print(json.dumps({k: report[k] for k in ("task", "reward", "algo", "episodes", "final_success_rate", "wall_s")}))
    print(f"SUCCESS RATE: {report['final_success_rate']:.2f}  (report: {cfg.out}/report.md)")


if __name__ == "__main__":
    main()
