"""The MS-SSIM diversity of a generator's samples (mean MS-SSIM of random pairs; Odena et al. 2017):
lower means more diverse. Needs no pretrained network (MS-SSIM itself: `perception/ssim.py`)."""

from __future__ import annotations

import torch

from ..perception.ssim import ms_ssim
from .registry import Metric, register
from .samples import generated_images


def msssim_diversity(images: torch.Tensor, pairs: int = 10_000, seed: int = 0, batch: int = 256) -> float:
    """Mean MS-SSIM over random pairs of images in [-1, 1] (each pair of two distinct images)."""
    n = images.shape[0]
    rng = torch.Generator().manual_seed(seed)
    i = torch.randint(0, n, [pairs], generator=rng)
    j = (i + torch.randint(1, n, [pairs], generator=rng)) % n
    pixels = (images.double() + 1) * 127.5
    total = 0.0
    for start in range(0, pairs, batch):
        total += float(ms_ssim(pixels[i[start:start + batch]], pixels[j[start:start + batch]]).sum())
    return total / pairs


def compute(G, spec, dataset, context) -> dict:
    """MS-SSIM diversity of G's images (no real data, no feature network)."""
    return {"value": msssim_diversity(generated_images(G, spec.num, progress=context.progress)), "pairs": 10_000}


register(Metric("msssim", compute, 10_000, False, None,
                "MS-SSIM of random pairs (diversity; lower = more diverse)", "msssim[N]"))
