"""The image distance a projection minimizes: LPIPS-VGG16 on images downsampled to 256 px (the
reference projector's choice, StyleGAN2 App. D; weights found or downloaded on first use), or, when
asked for, a distance that needs no pretrained network: pixel MSE + (1 − SSIM). The kind used is
always recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import StyleforgeError
from ..perception import load_lpips
from ..perception.ssim import ssim

KINDS = ("lpips", "pixel", "auto")  # auto: the default of earlier versions, now the same as lpips
PIXEL_HINT = "or project with the weight-free distance: --distance pixel (pixel MSE + (1 − SSIM))"


@dataclass
class ImageDistance:
    """distance(synth, target) → [N] for images in [-1, 1]; `kind` is 'lpips' or 'pixel'."""

    kind: str
    description: str
    function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def __call__(self, synth: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.function(synth, target)


def _to_256(images: torch.Tensor) -> torch.Tensor:
    """Area-downsample images larger than 256 px to 256 (as the reference projector does)."""
    return F.interpolate(images, size=(256, 256), mode="area") if images.shape[-1] > 256 else images


def _three_channels(images: torch.Tensor) -> torch.Tensor:
    return images.repeat(1, 3, 1, 1) if images.shape[1] == 1 else images


def pixel_distance(synth: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Pixel MSE + (1 − SSIM) per image [N], images in [-1, 1]; needs no pretrained network."""
    mse = (synth - target).square().mean(dim=(1, 2, 3))
    return mse + (1 - ssim(synth, target, max_value=2.0))


def image_distance(kind: str = "lpips", vgg_weights=None, lpips_weights=None, device="cpu",
                   download: bool = True) -> ImageDistance:
    """The distance to project with: 'lpips' (the reference projector's; its weight files are found
    or downloaded into the cache like the metrics' — offline and missing, one error naming the files and
    the pixel option) or 'pixel' (no weights). 'auto' is the same as 'lpips'."""
    if kind not in KINDS:
        raise StyleforgeError(f"distance must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "pixel":
        return ImageDistance("pixel", "pixel MSE + (1 − SSIM)", pixel_distance)
    try:
        lpips = load_lpips(vgg_weights, lpips_weights, download=download).to(device).requires_grad_(False)
    except StyleforgeError as error:
        raise StyleforgeError(f"projection uses LPIPS-VGG16 by default: {error}; {PIXEL_HINT}") from None

    def lpips_distance(synth, target):
        return lpips(_three_channels(_to_256(synth)), _three_channels(_to_256(target)))

    return ImageDistance("lpips", "LPIPS v0.1 VGG16 at ≤ 256 px", lpips_distance)
