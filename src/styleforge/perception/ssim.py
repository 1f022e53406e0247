"""SSIM and multi-scale SSIM (Wang et al. 2004; Wang et al. 2003): image similarity without a pretrained
network, for the MS-SSIM diversity metric and the projector's fallback distance."""

from __future__ import annotations

import torch
import torch.nn.functional as F

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003, Sec. 3.1


def _gaussian_window(size: int, sigma: float, channels: int, like: torch.Tensor) -> torch.Tensor:
    x = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return torch.outer(g, g)[None, None].repeat(channels, 1, 1, 1)


def _ssim_terms(a: torch.Tensor, b: torch.Tensor, max_value: float, filter_size: int = 11,
                sigma: float = 1.5) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean SSIM, mean contrast-structure) per image. The window shrinks with small images and its
    σ with it, as in the ProGAN / TF reference implementation."""
    size = min(filter_size, a.shape[-2], a.shape[-1])
    window = _gaussian_window(size, size * sigma / filter_size, a.shape[1], a)
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2
    conv = lambda x: F.conv2d(x, window, groups=a.shape[1])  # noqa: E731
    mu_a, mu_b = conv(a), conv(b)
    var_a = conv(a * a) - mu_a ** 2
    var_b = conv(b * b) - mu_b ** 2
    cov = conv(a * b) - mu_a * mu_b
    cs = (2 * cov + c2) / (var_a + var_b + c2)
    ssim = (2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1) * cs
    return ssim.mean(dim=(1, 2, 3)), cs.mean(dim=(1, 2, 3))


def ms_ssim(a: torch.Tensor, b: torch.Tensor, max_value: float = 255.0) -> torch.Tensor:
    """MS-SSIM per image pair [N] for images [N, C, H, W] in [0, max_value]; 5 scales (fewer for small
    images, with the weights renormalized), 2× average pooling between scales."""
    a, b = a.double(), b.double()
    scales = min(len(WEIGHTS), max(1, int(torch.log2(torch.tensor(min(a.shape[-2:]) / 4.0)).item()) + 1))
    weights = torch.tensor(WEIGHTS[:scales], dtype=a.dtype)
    weights = weights / weights.sum()
    values = []
    for scale in range(scales):
        ssim, cs = _ssim_terms(a, b, max_value)
        values.append(ssim.clamp_min(0) if scale == scales - 1 else cs.clamp_min(0))
        if scale < scales - 1:
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
    return torch.stack([v ** w for v, w in zip(values, weights)]).prod(dim=0)


def ssim(a: torch.Tensor, b: torch.Tensor, max_value: float = 2.0) -> torch.Tensor:
    """Single-scale SSIM per image pair [N] (differentiable; images in a range of width max_value)."""
    return _ssim_terms(a, b, max_value)[0]
