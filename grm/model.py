"""The GRM network: a shared per-view CNN, view embeddings, attention fusion, a hop head.

An observation (V camera views) is encoded once into one vector; a query is four such
vectors (reference START, reference END, BEFORE, AFTER) and the head is a small MLP, so
scoring an environment step costs one multi-view encoding plus three cheap head calls.
GroupNorm (not BatchNorm) keeps results independent of how a batch is split across
processes, which makes DDP training match single-process training.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from configs.typed import ConfigError, setting
from grm.efficientnet_lite import NUM_BLOCKS, EfficientNetLiteTrunk, load_imagenet_weights


@dataclass(frozen=True)
class GRMConfig:
    num_views: int = 3
    image_size: int = 64
    width: int = 32  # channels of the first conv; later layers double it
    embed_dim: int = 128
    num_bins: int = 25  # uniform bins on [-1, 1] (the paper's token discretization)
    head: str = "bins"  # "bins" (classification, expected value) or "regression" (ablation)
    fusion: str = "attention"  # "attention" over views, or "mean"
    trunk: str = "cnn"  # "cnn" (from scratch) or "efficientnet_lite0" (ImageNet, grm/efficientnet_lite.py)
    trunk_blocks: int = 11  # efficientnet_lite0: how many of its 16 blocks are kept
    trunk_tuned_blocks: int = 0  # efficientnet_lite0: how many of the kept blocks train (the last); 0: frozen

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ModelSettings:
    """The architecture choices grm-train takes (values: configs/model/grm.yaml); the number of
    views and the image size come from the dataset."""
    width: int = setting(ge=8)  # GroupNorm(8, .) needs a multiple of 8
    embed_dim: int = setting(ge=8)
    num_bins: int = setting(ge=3)
    head: str = setting(choices=("bins", "regression"))
    fusion: str = setting(choices=("attention", "mean"))
    trunk: str = setting(choices=("cnn", "efficientnet_lite0"), absent="cnn")
    trunk_blocks: int = setting(ge=1, le=NUM_BLOCKS, absent=11)
    trunk_tuned_blocks: int = setting(ge=0, le=NUM_BLOCKS, absent=0)
    image_size: Optional[int] = setting(ge=16, absent=None)  # frames are resized to this on the way in; null: the dataset's

    def check(self) -> None:
        if self.width % 8:
            raise ConfigError("model.width", self.width, "must be a multiple of 8 (GroupNorm groups)")
        if self.trunk_tuned_blocks > self.trunk_blocks:
            raise ConfigError("model.trunk_tuned_blocks", self.trunk_tuned_blocks,
                              f"must be at most model.trunk_blocks ({self.trunk_blocks})")


def _conv(cin: int, cout: int, k: int, s: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2), nn.GroupNorm(8, cout), nn.SiLU())


class ViewEncoder(nn.Module):
    """(N, 3, H, W) images in [-1, 1] -> (N, D) features; one set of weights for every view.

    The trunk's feature map keeps its layout into the projection: where things are is progress."""

    def __init__(self, cfg: GRMConfig):
        super().__init__()
        w = cfg.width
        if cfg.trunk == "cnn":
            self.net = nn.Sequential(_conv(3, w, 5, 2), _conv(w, 2 * w, 3, 2), _conv(2 * w, 2 * w, 3, 2), _conv(2 * w, 4 * w, 3, 2))
            stride = 16
        elif cfg.trunk == "efficientnet_lite0":
            trunk = EfficientNetLiteTrunk(cfg.trunk_blocks, cfg.trunk_tuned_blocks)
            self.net = nn.Sequential(trunk, _conv(trunk.out_channels, 4 * w, 1, 1))
            stride = trunk.stride
        else:
            raise ValueError(f"trunk must be 'cnn' or 'efficientnet_lite0', got {cfg.trunk!r}")
        side = -(-cfg.image_size // stride)
        self.proj = nn.Linear(4 * w * side * side, cfg.embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.net(x).flatten(1))


class GRM(nn.Module):
    def __init__(self, cfg: GRMConfig):
        super().__init__()
        if cfg.head not in ("bins", "regression"):
            raise ValueError(f"head must be 'bins' or 'regression', got {cfg.head!r}")
        self.cfg = cfg
        d = cfg.embed_dim
        self.encoder = ViewEncoder(cfg)
        self.view_embed = nn.Parameter(torch.zeros(cfg.num_views, d))
        nn.init.normal_(self.view_embed, std=0.02)
        self.fuse = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.norm = nn.LayerNorm(d)
        out = cfg.num_bins if cfg.head == "bins" else 1
        self.head = nn.Sequential(nn.Linear(5 * d, 256), nn.SiLU(), nn.Linear(256, 256), nn.SiLU(), nn.Linear(256, out))
        self.register_buffer("bin_centers", torch.linspace(-1.0, 1.0, cfg.num_bins), persistent=False)

    def load_pretrained_trunk(self) -> None:
        """ImageNet weights into a pretrained trunk before training from scratch (no-op for the CNN)."""
        if self.cfg.trunk == "efficientnet_lite0":
            load_imagenet_weights(self.encoder.net[0])

    def encode(self, views: torch.Tensor, view_mask: torch.Tensor | None = None) -> torch.Tensor:
        """views: (B, V, H, W, 3) uint8 (or float 0..255), any H x W -> (B, D) observation embedding.

        view_mask (B, V) bool marks views that are present (view dropout / missing cameras).
        """
        B, V, H, W, _ = views.shape
        if V != self.cfg.num_views:
            raise ValueError(f"model expects {self.cfg.num_views} views, got {V}")
        x = views.reshape(B * V, H, W, 3).permute(0, 3, 1, 2).float()
        size = self.cfg.image_size
        if (H, W) != (size, size):  # frames of any size (a dataset at 96 px, a robot's camera): resized here
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        x = x.div(127.5).sub(1.0)
        tokens = self.encoder(x).reshape(B, V, -1) + self.view_embed
        if view_mask is None:
            view_mask = torch.ones(B, V, dtype=torch.bool, device=views.device)
        if self.cfg.fusion == "attention":
            tokens = self.fuse(tokens, src_key_padding_mask=~view_mask)
        m = view_mask.unsqueeze(-1).float()
        return self.norm((tokens * m).sum(1) / m.sum(1).clamp_min(1.0))

    def hop_logits(self, z_start, z_end, z_before, z_after) -> torch.Tensor:
        """Embeddings broadcast against each other -> (..., num_bins) logits (or (..., 1))."""
        z_start, z_end, z_before, z_after = torch.broadcast_tensors(z_start, z_end, z_before, z_after)
        return self.head(torch.cat([z_start, z_end, z_before, z_after, z_after - z_before], dim=-1))

    def forward(self, images: torch.Tensor, view_mask: torch.Tensor, num_query: int) -> torch.Tensor:
        """Training pass. images (B, N, V, H, W, 3): N observations per item, the first
        `num_query` of them the query frames and the last two the reference START and END.
        Returns logits (B, N, num_query, bins): every observation as BEFORE against every
        query frame as AFTER, conditioned on the item's references."""
        B, N = images.shape[:2]
        z = self.encode(images.flatten(0, 1), view_mask.flatten(0, 1)).reshape(B, N, -1)
        start, end = z[:, -2, None, None], z[:, -1, None, None]
        return self.hop_logits(start, end, z[:, :, None], z[:, None, :num_query])

    def readout(self, logits: torch.Tensor) -> torch.Tensor:
        """Expected hop in [-1, 1]."""
        if self.cfg.head == "regression":
            return torch.tanh(logits.squeeze(-1))
        return (F.softmax(logits, dim=-1) * self.bin_centers).sum(-1)

    def hop(self, z_start, z_end, z_before, z_after) -> torch.Tensor:
        return self.readout(self.hop_logits(z_start, z_end, z_before, z_after))


def two_hot(h: torch.Tensor, num_bins: int) -> torch.Tensor:
    """Soft label on the two bins around h, so its expected value is exactly h."""
    pos = (h.clamp(-1, 1) + 1.0) / 2.0 * (num_bins - 1)
    lo = pos.floor().long().clamp(0, num_bins - 1)
    hi = (lo + 1).clamp(max=num_bins - 1)
    w_hi = pos - lo.float()
    target = torch.zeros(*h.shape, num_bins, device=h.device)
    target.scatter_add_(-1, lo.unsqueeze(-1), (1.0 - w_hi).unsqueeze(-1))
    target.scatter_add_(-1, hi.unsqueeze(-1), w_hi.unsqueeze(-1))
    return target


def hop_loss(model: GRM, logits: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Per-pair loss: cross-entropy to the two-hot label, or squared error for regression."""
    if model.cfg.head == "regression":
        return (torch.tanh(logits.squeeze(-1)) - h) ** 2
    return -(two_hot(h, model.cfg.num_bins) * F.log_softmax(logits, dim=-1)).sum(-1)
