"""grm-train: pretrain the GRM on one or more episode datasets.

    grm-train datasets=[data/pretrain] steps=2000 out=runs/grm-pretrain
    torchrun --nproc_per_node 2 -m grm.cli.train datasets=[data/pretrain] out=runs/grm-ddp
"""
from __future__ import annotations

import os

from configs.typed import command
from grm.train import TrainConfig, train


def job(cfg: TrainConfig) -> None:
    final = train(cfg)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one line for the run, not one per process
        print(f"wrote {final}")


main = command("train", TrainConfig, job)

if __name__ == "__main__":
    main()
