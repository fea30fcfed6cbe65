"""grm-eval: per-task VOC (sparse/medium/dense), success AUC and preference accuracy.

    grm-eval checkpoint=grm/pretrained/grm_mt40.pt dataset=data/heldout out=runs/eval-zeroshot
Writes out/metrics.json and out/plots/<task>.png (progress vs time, successes and failures).
"""
from __future__ import annotations

import hydra
from omegaconf import DictConfig

from grm.cli.common import task_list
from grm.evaluate import evaluate, format_table
from grm.inference import RewardModel


@hydra.main(config_path="pkg://configs", config_name="eval", version_base="1.3")
def main(cfg: DictConfig) -> None:
    rm = RewardModel.load(cfg.checkpoint)
    result = evaluate(rm, cfg.dataset, task_list(cfg.tasks), cfg.reference, cfg.out, cfg.perspective, cfg.guard, cfg.plots)
    print(format_table(result["per_task"], result["mean"]))
    print(f"wrote {cfg.out}/metrics.json")


if __name__ == "__main__":
    main()
