"""Multi-scale sliced Wasserstein distance (Karras et al. 2018, ProGAN, Sec. 5 and App. D): 7×7
neighbourhoods drawn from each level of a Laplacian pyramid (from full resolution down to 16 px),
normalized per channel, compared by sliced Wasserstein distance with random projections.
Needs no pretrained network. Reported ×1e3 per level and averaged, as in the ProGAN paper."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import StyleforgeError
from .registry import Metric, register
from .samples import check_data, generated_images, real_images

_GAUSSIAN = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def _blur(x: torch.Tensor) -> torch.Tensor:
    c = x.shape[1]
    kernel = torch.outer(_GAUSSIAN, _GAUSSIAN).to(x)[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(F.pad(x, [2, 2, 2, 2], mode="reflect"), kernel, groups=c)


def laplacian_pyramid(images: torch.Tensor, min_resolution: int = 16) -> list[torch.Tensor]:
    """Band-pass levels from full resolution down to `min_resolution`, whose last level is the low-pass
    residual. images: [N, C, H, W] float."""
    levels, current = [], images
    while current.shape[-1] > min_resolution:
        down = _blur(current)[:, :, ::2, ::2]
        up = torch.zeros_like(current)
        up[:, :, ::2, ::2] = down
        levels.append(current - _blur(up) * 4)
        current = down
    levels.append(current)
    return levels


def neighbourhoods(level: torch.Tensor, per_image: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """`per_image` random size×size patches of every image, flattened: [N·per_image, C·size²]."""
    n, c, h, w = level.shape
    if h < size:
        raise StyleforgeError(f"images of {h}px are too small for {size}×{size} neighbourhoods")
    ys = torch.randint(0, h - size + 1, [n, per_image], generator=generator)
    xs = torch.randint(0, w - size + 1, [n, per_image], generator=generator)
    offsets = torch.arange(size)
    rows = (ys[..., None] + offsets)[..., :, None].expand(n, per_image, size, size)
    cols = (xs[..., None] + offsets)[..., None, :].expand(n, per_image, size, size)
    batch = torch.arange(n)[:, None, None, None].expand_as(rows)
    patches = level.permute(0, 2, 3, 1)[batch, rows, cols]  # [N, P, size, size, C]
    return patches.permute(0, 1, 4, 2, 3).reshape(n * per_image, -1)


def _normalize(descriptors: torch.Tensor, channels: int) -> torch.Tensor:
    d = descriptors.reshape(descriptors.shape[0], channels, -1)
    d = (d - d.mean(dim=(0, 2), keepdim=True)) / d.std(dim=(0, 2), keepdim=True).clamp_min(1e-8)
    return d.reshape(descriptors.shape[0], -1)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, repeats: int = 4, directions: int = 128,
                       generator: torch.Generator | None = None) -> float:
    """Mean over random unit directions of the 1-D Wasserstein-1 distance between the projections."""
    if a.shape != b.shape:
        raise StyleforgeError("sliced Wasserstein needs descriptor sets of one shape")
    a, b = a.float(), b.float()
    results = []
    for _ in range(repeats):
        dirs = torch.randn([a.shape[1], directions], generator=generator)
        dirs = dirs / dirs.norm(dim=0, keepdim=True)
        pa, _ = torch.sort((a @ dirs).t().contiguous(), dim=1)  # [directions, n], sorted per direction
        pb, _ = torch.sort((b @ dirs).t().contiguous(), dim=1)
        results.append((pa - pb).abs().double().mean())
    return float(torch.stack(results).mean())


def swd(real: torch.Tensor, fake: torch.Tensor, per_image: int = 128, size: int = 7,
        seed: int = 0) -> dict[str, float]:
    """SWD×1e3 per pyramid level (keyed by resolution) and their mean ('avg'). Images in [-1, 1],
    equal counts; the same patch positions are used for both sets."""
    if real.shape != fake.shape:
        raise StyleforgeError(f"SWD needs equally many images of one size, got {list(real.shape)} "
                              f"and {list(fake.shape)}")
    out = {}
    channels = real.shape[1]
    for level_real, level_fake in zip(laplacian_pyramid(real.double()), laplacian_pyramid(fake.double())):
        positions = torch.Generator().manual_seed(seed)
        a = _normalize(neighbourhoods(level_real, per_image, size, positions), channels)
        positions = torch.Generator().manual_seed(seed)
        b = _normalize(neighbourhoods(level_fake, per_image, size, positions), channels)
        out[str(level_real.shape[-1])] = 1e3 * sliced_wasserstein(
            a, b, generator=torch.Generator().manual_seed(seed + 1))
    out["avg"] = float(np.mean(list(out.values())))
    return out


def compute(G, spec, dataset, context) -> dict:
    """SWD between the dataset's and G's images (no feature network)."""
    check_data(G, dataset, spec)
    per_level = swd(real_images(dataset, spec.num, context.progress),
                    generated_images(G, spec.num, progress=context.progress))
    return {"value": per_level["avg"], "per_level": per_level, "num_real": spec.num,
            "patches": "7x7, 128 per image", "scale": "x1e3"}


register(Metric("swd", compute, 16_384, True, None, "sliced Wasserstein distance ×1e3 (ProGAN §5)", "swd[N]"))
