"""tool-train-low: train and evaluate the low-level tweezer policy (Hydra)."""
from __future__ import annotations

import hydra
from omegaconf import DictConfig

from grm.cli.common import to_plain


@hydra.main(config_path="pkg://configs", config_name="tool_low", version_base="1.3")
def train_low_main(cfg: DictConfig) -> None:
    from policies.tool_low_level import LowLevelConfig, train_low_level

    report = train_low_level(LowLevelConfig(**to_plain(cfg)))
    print(f"learned: success {report['learned']['success_rate']:.2f} (mean error {report['learned']['mean_error']:.3f} rad); "
          f"P controller: {report['p_controller']['success_rate']:.2f}; {cfg.out}/report.json")
