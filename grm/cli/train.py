"""grm-train: pretrain the GRM on one or more episode datasets.

    grm-train datasets=[data/pretrain] steps=2000 out=runs/grm-pretrain
    torchrun --nproc_per_node 2 -m grm.cli.train datasets=[data/pretrain] out=runs/grm-ddp
"""
from __future__ import annotations

from configs.typed import command
from grm.train import TrainConfig, train


def job(cfg: TrainConfig) -> None:
    print(f"wrote {train(cfg)}")


main = command("train", TrainConfig, job)

if __name__ == "__main__":
    main()
