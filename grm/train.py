"""GRM training loop: pretraining, and one-shot adaptation (same loop, other data and init).

Single process or DDP under `torchrun` (gloo on CPU, NCCL on GPU). The global batch is
fixed by (seed, step) and split across processes by items, so N processes compute the
same update as one. Checkpoints are atomic and the loop resumes from `out/checkpoints`.
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

import torch
import torch.distributed as dist
from tqdm import tqdm

from configs.typed import ConfigError, check, claim_run_folder, setting
from envs.tasks import resolve_tasks
from grm.checkpoint import load_model, read_checkpoint, save_checkpoint
from grm.frame_store import FrameStore
from grm.model import GRM, GRMConfig, ModelSettings, hop_loss
from grm.pair_sampler import PairSampler, SamplerConfig
from grm.dataset import dataset_cameras
from grm.view_slots import ViewMappingError, inputs, map_views, to_slots

log = logging.getLogger("grm-train")


@dataclass
class RunBookkeeping:
    """How a training run logs, checkpoints and resumes: nothing here changes what it learns."""
    log_every: int = setting(ge=1, resumable=True)
    ckpt_every: int = setting(ge=1, resumable=True)
    resume: bool = setting(resumable=True)
    threads: Optional[int] = setting(ge=1, resumable=True)
    progress: bool = setting(resumable=True)


@dataclass
class TrainConfig(RunBookkeeping):
    """grm-train's settings (values: configs/train.yaml; `compose("train", TrainConfig, [...])` in
    code); adaptation builds one from its own settings (grm/one_shot.py)."""
    datasets: list[str] = setting(path="dataset folder or episode file (make one with grm-collect)")
    out: str = setting(resumable=True)
    tasks: Any = setting()  # None = every task; a name, a list, or a group (envs/tasks.py GROUPS)
    cameras: Optional[list[str]] = setting()  # None: the first dataset's cameras
    init: Optional[str] = setting(file="checkpoint")  # start from this checkpoint (one-shot adaptation)
    seed: int = setting(ge=0)
    steps: int = setting(ge=1, resumable=True)  # a budget: a finished run may be extended
    batch_size: int = setting(ge=1)  # batch items (episodes) per global batch
    lr: float = setting(gt=0)
    weight_decay: float = setting(ge=0)
    warmup: int = setting(ge=0)
    grad_clip: float = setting(gt=0)
    model: Optional[ModelSettings] = setting()  # None: the architecture of `init`
    sampler: SamplerConfig = setting()
    keyframes: Optional[list[int]] = setting(None)  # hand-labelled sub-task boundaries of a single demo (adaptation)
    synthetic_failures: int = setting(0, ge=0, absent=0)  # failure episodes of each kind made from a single demo's frames
    views: dict[str, Optional[str]] = setting({})  # init's view -> the data's camera (grm/view_slots.py); {} = by name

    def check(self) -> None:
        if not self.datasets:
            raise ConfigError("datasets", self.datasets, "needs at least one dataset folder or episode file")
        if self.init is None and self.model is None:
            raise ConfigError("model", None, "a new model needs its architecture (configs/model/grm.yaml)")
        if self.views and self.init is None:
            raise ConfigError("views", self.views, "maps the views of a checkpoint (init=) onto the data's cameras; "
                                                   "a new model takes the data's cameras as they are")


def _lr(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def _dist_info() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def train(cfg: TrainConfig) -> Path:
    """Train; returns the path of the final weights (`out/grm.pt`)."""
    threads = torch.get_num_threads()
    try:
        return _train(cfg)
    finally:
        torch.set_num_threads(threads)  # callers (e.g. an RL run adapting its GRM) keep their setting


def _train(cfg: TrainConfig) -> Path:
    check(cfg)
    rank, world = _dist_info()
    if rank == 0 and not claim_run_folder(cfg.out, cfg, cfg.resume):
        (Path(cfg.out) / "checkpoints" / "last.pt").unlink(missing_ok=True)  # a fresh start
    if cfg.batch_size % world:
        raise ValueError(f"batch_size={cfg.batch_size} must be divisible by the number of processes ({world})")
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // world))
    device = torch.device("cuda", rank % torch.cuda.device_count()) if torch.cuda.is_available() else torch.device("cpu")
    out = Path(cfg.out)
    ckpt_dir = out / "checkpoints"
    init_cameras = load_model(cfg.init)[1] if cfg.init else None
    if cfg.cameras:
        cameras = list(cfg.cameras)
    elif init_cameras:  # the checkpoint's views, fed by the data's cameras of the same name or as mapped
        try:
            cameras = map_views(init_cameras, dataset_cameras(cfg.datasets[0]), cfg.views)
        except ViewMappingError as e:
            raise ConfigError("views", cfg.views, str(e)) from None
    else:
        cameras = dataset_cameras(cfg.datasets[0])
    tasks = resolve_tasks(cfg.tasks) if cfg.tasks else None
    if rank > 0:
        dist.barrier()  # rank 0 builds the datasets' shared frame caches first, the others then read them
    store = FrameStore(cfg.datasets, inputs(cameras), tasks=tasks, progress=cfg.progress and rank == 0, keyframes=cfg.keyframes,
                       synthetic_failures=cfg.synthetic_failures, seed=cfg.seed)
    if rank == 0 and world > 1:
        dist.barrier()
    sampler = PairSampler(store, cfg.sampler, cfg.seed)

    if cfg.init:
        model, init_cams, _ = load_model(cfg.init)
        if len(init_cams) != len(cameras):
            raise ValueError(f"init checkpoint has {len(init_cams)} views ({init_cams}), but cameras={cameras}")
    else:
        torch.manual_seed(cfg.seed)  # same initial weights whatever the number of processes
        arch = asdict(cfg.model)
        image_size = arch.pop("image_size") or store.image_size
        model = GRM(GRMConfig(num_views=len(cameras), image_size=image_size, **arch))
        model.load_pretrained_trunk()
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    start = 0
    last = ckpt_dir / "last.pt"
    if cfg.resume and last.exists():
        payload = read_checkpoint(last)
        model.load_state_dict(payload["state_dict"])
        opt.load_state_dict(payload["optimizer"])
        start = int(payload["step"])
        if rank == 0:
            log.info("resumed from %s at step %d", last, start)
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    writer = None
    if rank == 0:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(out / "tb"))
    per_rank = cfg.batch_size // world
    K = sampler.cfg.frames_per_episode
    bar = tqdm(total=cfg.steps, initial=start, desc="grm-train", disable=not (cfg.progress and rank == 0))
    t0, loss_acc, mae_acc, n_acc = time.perf_counter(), 0.0, 0.0, 0
    for step in range(start, cfg.steps):
        items = range(rank * per_rank, (rank + 1) * per_rank)
        b = sampler.batch(step, items)
        images = torch.from_numpy(to_slots(b.images, cameras, axis=-4)).to(device)  # masked views: black, masked
        mask = torch.from_numpy(to_slots(b.view_mask, cameras, axis=-1)).to(device)
        hop = torch.from_numpy(b.hop).to(device)
        weight = torch.from_numpy(b.weight).to(device)
        for g in opt.param_groups:
            g["lr"] = _lr(step, cfg)
        logits = ddp(images, mask, K)
        loss = (hop_loss(model, logits, hop) * weight).sum((1, 2)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        with torch.no_grad():
            loss_acc += loss.item()
            mae_acc += ((model.readout(logits) - hop).abs() * weight).sum((1, 2)).mean().item()
            n_acc += 1
        bar.update(1)
        done = step + 1
        if rank == 0 and (done % cfg.log_every == 0 or done == cfg.steps):
            sps = n_acc / (time.perf_counter() - t0)
            writer.add_scalar("train/loss", loss_acc / n_acc, done)
            writer.add_scalar("train/hop_mae", mae_acc / n_acc, done)
            writer.add_scalar("train/lr", _lr(step, cfg), done)
            writer.add_scalar("train/steps_per_s", sps, done)
            bar.set_postfix(loss=f"{loss_acc / n_acc:.3f}", mae=f"{mae_acc / n_acc:.3f}")
            t0, loss_acc, mae_acc, n_acc = time.perf_counter(), 0.0, 0.0, 0
        if rank == 0 and (done % cfg.ckpt_every == 0 or done == cfg.steps):
            save_checkpoint(last, model, cameras, {"optimizer": opt.state_dict(), "step": done,
                                                   "train_config": json.dumps(asdict(cfg))})
    bar.close()
    final = out / "grm.pt"
    if rank == 0:
        save_checkpoint(final, model, cameras, {"train_config": json.dumps(asdict(cfg)), "step": cfg.steps})
        writer.close()
    if world > 1:
        dist.barrier()
    return final
