"""Perceptual path length (StyleGAN paper, Sec. 4.2, Eqs. 2–3), with the reference's protocol:
pairs at t and t + ε (ε = 1e-4) along slerp in Z or lerp in W, t ~ U(0, 1) ('full') or t = 0 ('end'),
the per-batch noise shared by both images of a pair, optional face crop, images above 256 px
box-downsampled, distance / ε², then the mean over the 1st–99th percentile."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import torch

from ..errors import StyleforgeError
from ..latents import slerp


@torch.no_grad()
def path_length(G, distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], num: int = 50_000,
                space: str = "w", sampling: str = "end", epsilon: float = 1e-4, crop: bool = False,
                batch: int = 16, seed: int = 0, progress: Callable | None = None) -> float:
    """PPL of G; `distance(images_a, images_b)` → [N] (LPIPS-VGG16 in the reference), images in [-1, 1]."""
    if space not in ("z", "w") or sampling not in ("full", "end"):
        raise StyleforgeError("PPL space must be 'z' or 'w' and sampling 'full' or 'end'")
    device = next(itertools.chain(G.parameters(), G.buffers())).device
    rng = torch.Generator().manual_seed(seed)
    noise_buffers = [b for name, b in G.named_buffers() if name.endswith("noise_const")]
    saved = [b.clone() for b in noise_buffers]
    distances = []
    try:
        for start in range(0, num, batch):
            n = min(batch, num - start)
            t = torch.rand([n], generator=rng) * (1.0 if sampling == "full" else 0.0)
            z0, z1 = torch.randn([n, G.z_dim], generator=rng), torch.randn([n, G.z_dim], generator=rng)
            c = None
            if G.c_dim:
                c = torch.eye(G.c_dim)[torch.randint(0, G.c_dim, [n], generator=rng)].repeat(2, 1).to(device)
            for buffer in noise_buffers:  # fresh noise per batch, the same for both images of a pair
                buffer.copy_(torch.randn(buffer.shape, generator=rng))
            if space == "w":
                w0, w1 = G.mapping(torch.cat([z0, z1]).to(device), c).chunk(2)
                tt = t.to(device)[:, None, None]
                ws = torch.cat([w0.lerp(w1, tt), w0.lerp(w1, tt + epsilon)])
            else:
                tt = t[:, None]
                z = torch.cat([slerp(z0, z1, tt), slerp(z0, z1, tt + epsilon)]).to(device)
                ws = G.mapping(z, c)
            images = G.synthesis(ws, noise_mode="const")
            if crop:  # the reference's face crop
                k = images.shape[2] // 8
                images = images[:, :, k * 3:k * 7, k * 2:k * 6]
            factor = images.shape[2] // 256
            if factor > 1:
                nn_, ch, h, w = images.shape
                images = images.reshape(nn_, ch, h // factor, factor, w // factor, factor).mean(dim=(3, 5))
            a, b = images.chunk(2)
            distances.append((distance(a, b).double() / epsilon ** 2).cpu())
            if progress is not None:
                progress(n)
    finally:
        for buffer, value in zip(noise_buffers, saved):
            buffer.copy_(value)
    d = torch.cat(distances).numpy()
    lo, hi = np.percentile(d, 1, method="lower"), np.percentile(d, 99, method="higher")
    return float(d[(d >= lo) & (d <= hi)].mean())
