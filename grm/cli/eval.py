"""grm-eval: per-task VOC (sparse/medium/dense), success AUC and preference accuracy.

    grm-eval dataset=data/heldout out=runs/eval-zeroshot
    grm-eval reward_model=robodopamine reward_model.path=DIR dataset=data/heldout   # the official GRM
Writes out/metrics.json and out/plots/<task>.png (progress vs time, successes and failures).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from configs.typed import ConfigError, command, setting
from envs.tasks import resolve_tasks
from grm.dataset import dataset_cameras, list_episodes
from grm.backends import RewardModelSettings, load_reward_model
from grm.evaluate import evaluate, format_table
from grm.inference import FUSIONS, PERSPECTIVES


@dataclass
class EvalConfig:
    """grm-eval's settings (values: configs/eval.yaml, configs/reward_model/)."""
    reward_model: RewardModelSettings = setting()
    checkpoint: str = setting(file="file (a GRM checkpoint: grm.pt)")
    dataset: str = setting()
    tasks: Any = setting()  # None = every task in the dataset; a name, a list or a group
    views: dict[str, Optional[str]] = setting()
    reference: str = setting()
    perspective: str = setting(choices=PERSPECTIVES)
    fusion: str = setting(choices=FUSIONS)
    guard: bool = setting()
    plots: bool = setting()
    out: str = setting()

    def check(self) -> None:
        if self.guard and self.fusion != "mean":
            raise ConfigError("guard", True, "smooths the mean of the perspectives: pass fusion=mean with it")
        if not (Path(self.dataset) / "dataset.json").is_file():
            raise ConfigError("dataset", self.dataset, "not a dataset folder (no dataset.json; make one with grm-collect)")
        if not list_episodes(self.dataset):
            raise ConfigError("dataset", self.dataset, "holds no episodes; collect some with grm-collect")


def job(cfg: EvalConfig) -> None:
    rm = load_reward_model(cfg.reward_model, cfg.checkpoint, cfg.views, dataset_cameras(cfg.dataset))
    tasks = resolve_tasks(cfg.tasks) if cfg.tasks else None
    result = evaluate(rm, cfg.dataset, tasks, cfg.reference, cfg.out, cfg.perspective, cfg.guard, cfg.plots, fusion=cfg.fusion)
    print(format_table(result["per_task"], result["mean"]))
    if "replies" in result:
        print(f"{result['unparsed_replies']} of {result['replies']} replies had no score (counted as no change)")
    print(f"wrote {cfg.out}/metrics.json")


main = command("eval", EvalConfig, job)

if __name__ == "__main__":
    main()
