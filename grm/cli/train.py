"""grm-train: pretrain the GRM on one or more episode datasets.

    grm-train datasets=[data/pretrain] steps=2000 out=runs/grm-pretrain
    torchrun --nproc_per_node 2 -m grm.cli.train datasets=[data/pretrain] out=runs/grm-ddp
"""
from __future__ import annotations

import hydra
from omegaconf import DictConfig

from grm.cli.common import task_list, to_plain
from grm.train import TrainConfig, train


def config_from(cfg: DictConfig) -> TrainConfig:
    datasets = to_plain(cfg.datasets)
    return TrainConfig(
        datasets=[datasets] if isinstance(datasets, str) else list(datasets), out=cfg.out, tasks=task_list(cfg.tasks),
        cameras=to_plain(cfg.cameras), init=cfg.init, seed=cfg.seed, steps=cfg.steps, batch_size=cfg.batch_size,
        lr=cfg.lr, weight_decay=cfg.weight_decay, warmup=cfg.warmup, grad_clip=cfg.grad_clip, log_every=cfg.log_every,
        ckpt_every=cfg.ckpt_every, resume=cfg.resume, threads=cfg.threads, progress=cfg.progress,
        model=to_plain(cfg.model), sampler=to_plain(cfg.sampler),
    )


@hydra.main(config_path="pkg://configs", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    path = train(config_from(cfg))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
