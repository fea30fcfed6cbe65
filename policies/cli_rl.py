"""grm-rl: train SAC/PPO on a Meta-World task with a reward mode (the README's main job).

    grm-rl                                   # drawer-close-v3, adapt the shipped GRM, SAC + grm_pbrs
    grm-rl task=window-close-v3 reward=env_dense seed=1
    grm-rl algo=ppo reward=sparse episodes=300
"""
from __future__ import annotations

import json

from configs.typed import command
from policies.rl_run import RLConfig, run


def job(cfg: RLConfig) -> None:
    report = run(cfg)
    print(json.dumps({k: report[k] for k in ("task", "reward", "algo", "episodes", "final_success_rate", "wall_s")}))
    print(f"SUCCESS RATE: {report['final_success_rate']:.2f}  (report: {cfg.out}/report.md)")
    if report["best"] is not None:
        print(f"KEPT POLICY:  {report['best']['final_success_rate']:.2f}  ({cfg.out}/checkpoints/best_model.zip, "
              f"best evaluation after {report['best']['episodes']} episodes)")


main = command("rl", RLConfig, job)

if __name__ == "__main__":
    main()
