"""Inception-v3 in the FID variant (Szegedy et al. 2016; the TensorFlow graph of 2015-12-05 that
Heusel et al. 2017 used for FID): 2048-d pool_3 features and 1008-way logits, in our own code.

It differs from torchvision's Inception-v3 where the TF graph does: average pools in the Mixed_5*,
Mixed_6* and Mixed_7b blocks exclude the padding from the mean, Mixed_7c pools its last branch with
a max pool, batch norm has no learned scale, and there are 1008 classes. Inputs are pixels in
[0, 255] of any size, resized to 299×299 the way `tf.image.resize_bilinear` (TF 1, no half-pixel
centres) does, then mapped to [-1, 1) by (x − 128) / 128, as stylegan2-ada-pytorch's
`inception-2015-12-05.pt` does.

Parameter names follow torchvision / pytorch-fid (`Mixed_5b.branch1x1.conv.weight`, `fc.weight`);
`NVIDIA_NAMES` maps the TorchScript file of stylegan2-ada-pytorch (`layers.mixed.conv.weight`,
`output.weight`) onto them."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import weights
from ..errors import StyleforgeError
from ..state_dict import load_state_strict

RESOLUTION = 299
FEATURES = 2048
CLASSES = 1008


class ConvBN(nn.Module):
    """conv (no bias) → batch norm (ε = 1e-3, frozen statistics) → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel, stride: int = 1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    """3×3 stride-1 average that, like TF's 'SAME' pooling, ignores the padding."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    """Mixed_5b/c/d (35×35): 1×1 | 1×1→5×5 | 1×1→3×3→3×3 | avg-pool→1×1."""

    def __init__(self, in_channels: int, pool_channels: int):
        super().__init__()
        self.branch1x1 = ConvBN(in_channels, 64, 1)
        self.branch5x5_1 = ConvBN(in_channels, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvBN(in_channels, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)
        self.branch_pool = ConvBN(in_channels, pool_channels, 1)

    def forward(self, x):
        return torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          self.branch_pool(_avg_pool(x))], 1)


class BlockB(nn.Module):
    """Mixed_6a (35 → 17): 3×3/2 | 1×1→3×3→3×3/2 | max-pool/2."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.branch3x3 = ConvBN(in_channels, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvBN(in_channels, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat([self.branch3x3(x), self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                          F.max_pool2d(x, 3, stride=2)], 1)


class BlockC(nn.Module):
    """Mixed_6b..e (17×17) with factorized 7×7s: 1×1 | 1×7→7×1 | (7×1→1×7)×2 | avg-pool→1×1."""

    def __init__(self, in_channels: int, c7: int):
        super().__init__()
        row, col = (1, 7), (7, 1)
        self.branch1x1 = ConvBN(in_channels, 192, 1)
        self.branch7x7_1 = ConvBN(in_channels, c7, 1)
        self.branch7x7_2 = ConvBN(c7, c7, row, padding=(0, 3))
        self.branch7x7_3 = ConvBN(c7, 192, col, padding=(3, 0))
        self.branch7x7dbl_1 = ConvBN(in_channels, c7, 1)
        self.branch7x7dbl_2 = ConvBN(c7, c7, col, padding=(3, 0))
        self.branch7x7dbl_3 = ConvBN(c7, c7, row, padding=(0, 3))
        self.branch7x7dbl_4 = ConvBN(c7, c7, col, padding=(3, 0))
        self.branch7x7dbl_5 = ConvBN(c7, 192, row, padding=(0, 3))
        self.branch_pool = ConvBN(in_channels, 192, 1)

    def forward(self, x):
        single = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = x
        for i in range(1, 6):
            double = getattr(self, f"branch7x7dbl_{i}")(double)
        return torch.cat([self.branch1x1(x), single, double, self.branch_pool(_avg_pool(x))], 1)


class BlockD(nn.Module):
    """Mixed_7a (17 → 8): 1×1→3×3/2 | 1×1→1×7→7×1→3×3/2 | max-pool/2."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.branch3x3_1 = ConvBN(in_channels, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvBN(in_channels, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x):
        tower = x
        for i in range(1, 5):
            tower = getattr(self, f"branch7x7x3_{i}")(tower)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), tower, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    """Mixed_7b/c (8×8): 1×1 | 1×1→{1×3, 3×1} | 1×1→3×3→{1×3, 3×1} | pool→1×1; the pool is an
    average (padding excluded) in Mixed_7b and a max in Mixed_7c, as in the TF graph."""

    def __init__(self, in_channels: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = ConvBN(in_channels, 320, 1)
        self.branch3x3_1 = ConvBN(in_channels, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvBN(in_channels, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = ConvBN(in_channels, 192, 1)

    def forward(self, x):
        a = self.branch3x3_1(x)
        b = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat([self.branch1x1(x), self.branch3x3_2a(a), self.branch3x3_2b(a),
                          self.branch3x3dbl_3a(b), self.branch3x3dbl_3b(b), self.branch_pool(pooled)], 1)


def tf_resize_matrix(size_in: int, size_out: int = RESOLUTION) -> torch.Tensor:
    """[size_out, size_in] weights of TF 1's resize_bilinear (no half-pixel centres): output pixel i
    samples input coordinate i · size_in / size_out, clamped at the last pixel."""
    position = torch.arange(size_out, dtype=torch.float64) * (size_in / size_out)
    left = position.floor().long().clamp(max=size_in - 1)
    right = (left + 1).clamp(max=size_in - 1)
    frac = position - left
    matrix = torch.zeros(size_out, size_in, dtype=torch.float64)
    matrix[torch.arange(size_out), left] += 1 - frac
    matrix[torch.arange(size_out), right] += frac
    return matrix.float()


def tf_resize(images: torch.Tensor, size: int = RESOLUTION) -> torch.Tensor:
    """[N, C, H, W] → [N, C, size, size] with `tf_resize_matrix` along each axis."""
    rows = tf_resize_matrix(images.shape[2], size).to(images.device)
    cols = tf_resize_matrix(images.shape[3], size).to(images.device)
    return rows @ images @ cols.T


class InceptionV3(nn.Module):
    """The FID Inception: `features(x)` → [N, 2048]; `logits(features, bias)` → [N, 1008]."""

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = BlockA(192, 32)
        self.Mixed_5c = BlockA(256, 64)
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b = BlockE(1280, max_pool=False)
        self.Mixed_7c = BlockE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURES, CLASSES)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """Pixels [N, 1 or 3, H, W] in [0, 255] (uint8 or float) → [N, 3, 299, 299] in [-1, 1)."""
        x = images.float()
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        return (tf_resize(x) - 128) / 128

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """pool_3 features [N, 2048] of pixels in [0, 255]."""
        x = self.preprocess(images)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))      # [N, 64, 147, 147]
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, stride=2)))  # [N, 192, 71, 71]
        x = F.max_pool2d(x, 3, stride=2)                                        # [N, 192, 35, 35]
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)                               # → [N, 2048, 8, 8]
        return F.avg_pool2d(x, 8).flatten(1)

    def logits(self, features: torch.Tensor, bias: bool = True) -> torch.Tensor:
        """[N, 1008] class logits; the reference's Inception Score leaves out the bias."""
        return F.linear(features, self.fc.weight, self.fc.bias if bias else None)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(images)


# stylegan2-ada-pytorch's TorchScript names → ours, per block type (prefix `layers.`).
_STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
         "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
_BLOCKS = {"mixed": "Mixed_5b", "mixed_1": "Mixed_5c", "mixed_2": "Mixed_5d", "mixed_3": "Mixed_6a",
           "mixed_4": "Mixed_6b", "mixed_5": "Mixed_6c", "mixed_6": "Mixed_6d", "mixed_7": "Mixed_6e",
           "mixed_8": "Mixed_7a", "mixed_9": "Mixed_7b", "mixed_10": "Mixed_7c"}
_BRANCHES = {
    "A": {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
          "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
          "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"},
    "B": {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
          "tower.conv_2": "branch3x3dbl_3"},
    "C": {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
          "tower.conv_2": "branch7x7_3", "tower_2.conv": "branch_pool",
          **{f"tower_1.conv{'' if i == 0 else f'_{i}'}": f"branch7x7dbl_{i + 1}" for i in range(5)}},
    "D": {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2",
          **{f"tower_1.conv{'' if i == 0 else f'_{i}'}": f"branch7x7x3_{i + 1}" for i in range(4)}},
    "E": {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
          "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1",
          "tower_1_conv_1": "branch3x3dbl_2", "tower_1_mixed_conv": "branch3x3dbl_3a",
          "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"},
}
_BLOCK_TYPE = {"Mixed_5": "A", "Mixed_6a": "B", "Mixed_6": "C", "Mixed_7a": "D", "Mixed_7": "E"}
_CONV_PARAMS = {"weight": "conv.weight", "beta": "bn.bias", "mean": "bn.running_mean", "var": "bn.running_var"}


def _nvidia_names() -> dict[str, str]:
    names = {"output.weight": "fc.weight", "output.bias": "fc.bias"}
    convs = {f"layers.{theirs}": ours for theirs, ours in _STEM.items()}
    for theirs, ours in _BLOCKS.items():
        kind = next(v for k, v in _BLOCK_TYPE.items() if ours.startswith(k))
        convs.update({f"layers.{theirs}.{a}": f"{ours}.{b}" for a, b in _BRANCHES[kind].items()})
    for theirs, ours in convs.items():
        names.update({f"{theirs}.{p}": f"{ours}.{q}" for p, q in _CONV_PARAMS.items()})
    return names


NVIDIA_NAMES = _nvidia_names()


def inception_state(state: dict[str, torch.Tensor], source: str = "Inception") -> dict[str, torch.Tensor]:
    """A state dict of either published layout in ours: NVIDIA's names are renamed; batch-norm
    scales (absent in the TF graph, and in NVIDIA's file) become 1; `num_batches_tracked` is kept
    only as our module has it."""
    if "output.weight" in state:
        unknown = sorted(set(state) - set(NVIDIA_NAMES))
        if unknown:
            raise StyleforgeError(f"{source}: unexpected tensors {', '.join(unknown[:5])} for the NVIDIA layout")
        state = {NVIDIA_NAMES[k]: v for k, v in state.items()}
    elif "fc.weight" not in state or "Mixed_5b.branch1x1.conv.weight" not in state:
        raise StyleforgeError(f"{source} is not an Inception-v3 FID weights file (expected pytorch-fid's "
                              "Mixed_5b.* / fc.* or stylegan2-ada-pytorch's layers.* / output.* tensors)")
    state = dict(state)
    for key in [k for k in state if k.endswith(".bn.running_var")]:
        prefix = key.removesuffix("running_var")
        state.setdefault(prefix + "weight", torch.ones_like(state[key]))
        state.setdefault(prefix + "num_batches_tracked", torch.tensor(0))
    return state


def load_inception(path=None, download: bool = True) -> InceptionV3:
    """The FID Inception from a given file, $STYLEFORGE_WEIGHTS, the cache or a download (either
    published file; see `weights.INCEPTION_FILES`)."""
    path = weights.resolve_any(weights.INCEPTION_FILES, path, download)
    spec = next((s for s in weights.INCEPTION_FILES if s.name == Path(path).name), weights.INCEPTION_NVIDIA)
    if Path(path).suffix == ".pkl":  # stylegan3's inception-2015-12-05.pkl carries code we do not run
        raise StyleforgeError(f"{path}: pickled networks are not read (they execute code when loaded); use "
                              f"{weights.INCEPTION_NVIDIA.name} or {weights.INCEPTION_PYTORCH_FID.name}, "
                              "which hold the same weights (see docs/metrics.md)")
    model = InceptionV3()
    load_state_strict(model, inception_state(weights.load_state(path, spec), str(path)), "Inception-v3")
    return model.eval().requires_grad_(False)
