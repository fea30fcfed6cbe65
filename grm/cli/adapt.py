"""grm-adapt: fine-tune a pretrained GRM on pairs from ONE demonstration of a new task.

    grm-adapt demo=data/heldout/drawer-close-v3/expert_0000.hdf5 out=runs/adapt-dc
"""
from __future__ import annotations

from pathlib import Path

from configs.typed import ConfigError, command
from grm.dataset import list_episodes
from grm.one_shot import AdaptConfig, one_shot_config
from grm.train import train


def demo_file(demo: str) -> Path:
    """The one episode behind `demo` (a file, or a folder that holds exactly one)."""
    path = Path(demo)
    if path.is_file():
        return path
    if not path.exists():
        raise FileNotFoundError(f"demo not found: {path}")
    episodes = list_episodes(path) or sorted(path.glob("*.hdf5"))
    if len(episodes) != 1:
        raise ConfigError("demo", demo, f"a folder holding {len(episodes)} episodes; one-shot adaptation takes one: "
                                        f"pass its file")
    return episodes[0]


def job(cfg: AdaptConfig) -> None:
    path = train(one_shot_config(demo_file(cfg.demo), cfg.out, cfg.checkpoint, cfg, cfg.seed, cfg.keyframes, cfg,
                                 cfg.views))
    print(f"wrote {path}")


main = command("adapt", AdaptConfig, job)

if __name__ == "__main__":
    main()
