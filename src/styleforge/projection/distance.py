"""The image distance a projection minimizes: LPIPS-VGG16 on images downsampled to 256 px (the
reference projector's choice, StyleGAN2 App. D) when its weights can be found, otherwise a distance
that needs no pretrained network: pixel MSE + (1 − SSIM). The kind used is always recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import StyleforgeError
from ..perception import load_lpips
from ..perception import weights as weight_files
from ..perception.ssim import ssim

KINDS = ("auto", "lpips", "pixel")
FALLBACK_WARNING = ("LPIPS-VGG16 weights not found: projecting with pixel MSE + (1 − SSIM) instead; results "
                    "differ from the reference projector (give --vgg-weights and --lpips-weights, or put the "
                    "files in $STYLEFORGE_WEIGHTS, for LPIPS)")


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


def image_distance(kind: str = "auto", vgg_weights=None, lpips_weights=None, device="cpu",
                   warn: Callable[[str], None] | None = None) -> ImageDistance:
    """The distance to project with: 'lpips' (required), 'pixel', or 'auto' = LPIPS when its weights
    are given or on disk (never downloaded implicitly), else pixel with a one-line warning."""
    if kind not in KINDS:
        raise StyleforgeError(f"distance must be one of {', '.join(KINDS)}, got {kind!r}")
    have_lpips = (vgg_weights is not None and lpips_weights is not None) or (
        weight_files.find_local(weight_files.VGG16_TORCHVISION) is not None
        and weight_files.find_local(weight_files.LPIPS_VGG_V01) is not None)
    if kind == "lpips" or (kind == "auto" and have_lpips):
        lpips = load_lpips(vgg_weights, lpips_weights, download=kind == "lpips").to(device).requires_grad_(False)

        def lpips_distance(synth, target):
            return lpips(_three_channels(_to_256(synth)), _three_channels(_to_256(target)))

        return ImageDistance("lpips", "LPIPS v0.1 VGG16 at ≤ 256 px", lpips_distance)
    if kind == "auto" and warn is not None:
        warn(FALLBACK_WARNING)
    return ImageDistance("pixel", "pixel MSE + (1 − SSIM)", pixel_distance)
