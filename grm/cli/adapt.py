"""grm-adapt: fine-tune a pretrained GRM on pairs from ONE demonstration of a new task.

    grm-adapt checkpoint=grm/pretrained/grm_mt40.pt demo=data/heldout/drawer-close-v3/expert_0000.hdf5 out=runs/adapt-dc
"""
from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from grm.cli.common import to_plain
from grm.dataset import list_episodes
from grm.one_shot import one_shot_config
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
        raise ValueError(f"demo folder {path} holds {len(episodes)} episodes; one-shot adaptation takes one: pass its file")
    return episodes[0]


@hydra.main(config_path="pkg://configs", config_name="adapt", version_base="1.3")
def main(cfg: DictConfig) -> None:
    if not Path(cfg.checkpoint).is_file():
        raise FileNotFoundError(f"GRM checkpoint not found: {cfg.checkpoint}")
    demo = demo_file(cfg.demo)
    path = train(one_shot_config(demo, cfg.out, cfg.checkpoint, to_plain(cfg)))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
