"""tool-train-low, tool-train-affordance, tool-train-high: the tweezer hierarchy's trainable parts (Hydra)."""
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


@hydra.main(config_path="pkg://configs", config_name="tool_affordance", version_base="1.3")
def train_affordance_main(cfg: DictConfig) -> None:
    from policies.affordance import AffordanceConfig, train_affordance

    report = train_affordance(AffordanceConfig(**to_plain(cfg)))
    for name in ("val", "held_out_shapes", "held_out_sizes"):
        r = report[name]
        print(f"{name:<16} contact opening within {cfg.tolerance} rad: {r['within_tolerance']:.2f} "
              f"(MAE {r['contact_opening_mae_rad']:.3f} rad, extent MAE {r['extent_mae_mm']:.1f} mm)")


@hydra.main(config_path="pkg://configs", config_name="tool_high", version_base="1.3")
def train_high_main(cfg: DictConfig) -> None:
    from policies.tool_high_level import HighLevelConfig, train_high_level

    kind, folder = ("flat", "--flat") if cfg.flat else ("hierarchical", "--high")
    print(f"wrote {train_high_level(HighLevelConfig(**to_plain(cfg)))}; evaluate: python benchmarks/tool_pick.py "
          f"--policies {kind}_bc {kind} {folder} {cfg.out}")


@hydra.main(config_path="pkg://configs", config_name="tool_video", version_base="1.3")
def video_main(cfg: DictConfig) -> None:
    from policies.tool_video import VideoConfig, record_pick_videos

    for row in record_pick_videos(VideoConfig(**to_plain(cfg))):
        print(f"{'success' if row['success'] else 'fail   '} {row['shape']:<9} {row['extent'] * 100:.1f} cm  {row['video']}")
