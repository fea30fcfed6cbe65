"""tool-train-low, tool-train-affordance, tool-train-high, tool-video: the tweezer hierarchy's
trainable parts and its films (each a typed config over configs/tool_*.yaml)."""
from __future__ import annotations

from configs.typed import command
from policies.affordance import AffordanceConfig, train_affordance
from policies.tool_high_level import HighLevelConfig, train_high_level
from policies.tool_low_level import LowLevelConfig, train_low_level
from policies.tool_video import VideoConfig, record_pick_videos


def train_low(cfg: LowLevelConfig) -> None:
    report = train_low_level(cfg)
    print(f"learned: success {report['learned']['success_rate']:.2f} (mean error {report['learned']['mean_error']:.3f} rad); "
          f"P controller: {report['p_controller']['success_rate']:.2f}; {cfg.out}/report.json")


def train_aff(cfg: AffordanceConfig) -> None:
    report = train_affordance(cfg)
    for name in ("val", "held_out_shapes", "held_out_sizes"):
        r = report[name]
        print(f"{name:<16} contact opening within {cfg.tolerance} rad: {r['within_tolerance']:.2f} "
              f"(MAE {r['contact_opening_mae_rad']:.3f} rad, extent MAE {r['extent_mae_mm']:.1f} mm)")


def train_high(cfg: HighLevelConfig) -> None:
    kind, folder = ("flat", "--flat") if cfg.flat else ("hierarchical", "--high")
    print(f"wrote {train_high_level(cfg)}; evaluate: python benchmarks/tool_pick.py "
          f"--policies {kind}_bc {kind} {folder} {cfg.out}")


def video(cfg: VideoConfig) -> None:
    for row in record_pick_videos(cfg):
        print(f"{'success' if row['success'] else 'fail   '} {row['shape']:<9} {row['extent'] * 100:.1f} cm  {row['video']}")


train_low_main = command("tool_low", LowLevelConfig, train_low)
train_affordance_main = command("tool_affordance", AffordanceConfig, train_aff)
train_high_main = command("tool_high", HighLevelConfig, train_high)
video_main = command("tool_video", VideoConfig, video)
