"""Perceptual path length (StyleGAN paper, Sec. 4.2, Eqs. 2–3), with the reference's protocol:
pairs at t and t + ε (ε = 1e-4) along slerp in Z or lerp in W, t ~ U(0, 1) ('full') or t = 0 ('end'),
the per-batch noise shared by both images of a pair, optional face crop, images above 256 px
box-downsampled, distance / ε², then the mean over the 1st–99th percentile."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import numpy as np
import torch

from ..errors import StyleforgeError
from ..files import file_sha256
from ..latents import slerp
from ..perception import load_lpips
from ..perception.weights import LPIPS_VGG_V01, VGG16_TORCHVISION, resolve
from ..pipeline import render
from .registry import Metric, MetricSpec, count, register


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
            images = render(G, ws=ws, noise_mode="const", batch_size=len(ws))
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


def compute(G, spec, dataset, context) -> dict:
    """PPL with LPIPS-VGG16, as the reference's ppl_* (face crop) or ppl2_* (whole image)."""
    crop = spec.base == "ppl"
    seen = G.img_resolution // 2 if crop else G.img_resolution  # the face crop keeps half of each side
    if seen < 16 and crop:
        raise StyleforgeError(f"{spec.name}: LPIPS-VGG16 needs at least 16 px; the face crop of {G.img_resolution} px "
                              f"images is {seen} px ({MetricSpec('ppl2', spec.num, spec.variant).name} uses the "
                              "whole image)")
    if seen < 16:
        raise StyleforgeError(f"{spec.name}: LPIPS-VGG16 needs images of at least 16 px; these are {seen} px")
    weights = context.weights or {}
    # Resolve first, so the record names the files actually used (given, cached or downloaded).
    files = {"vgg": resolve(VGG16_TORCHVISION, weights.get("vgg")),
             "lpips": resolve(LPIPS_VGG_V01, weights.get("lpips"))}
    lpips = load_lpips(files["vgg"], files["lpips"])
    space, sampling = spec.variant[1], spec.variant[2:]
    value = path_length(G, lpips, num=spec.num, space=space, sampling=sampling, crop=crop,
                        progress=context.progress)
    return {"value": value, "feature_network": "LPIPS v0.1 VGG16", "epsilon": 1e-4, "crop": crop,
            "noise_mode": "random per batch", "weights": {k: str(v) for k, v in files.items()},
            "weights_sha256": {k: file_sha256(v)[:16] for k, v in files.items()}}


_NAME = re.compile(r"ppl(?:(2)(?:_(\d+)(k)?)?|(\d+)(k)?)?_(z|w)(full|end)")


def parse(text: str) -> MetricSpec | None:
    """As the reference names them: 'ppl_wend' / 'ppl10k_zfull' crop to the face, 'ppl2_wend' /
    'ppl2_10k_wend' see the whole image."""
    match = _NAME.fullmatch(text)
    if match is None:
        return None
    digits, thousands = (match.group(2), match.group(3)) if match.group(1) else (match.group(4), match.group(5))
    return MetricSpec("ppl2" if match.group(1) else "ppl", count(digits, thousands, 50_000),
                      f"_{match.group(6)}{match.group(7)}")


register(Metric("ppl", compute, 50_000, False, "lpips",
                "perceptual path length, face crop (StyleGAN §4.1; the reference's ppl_*)",
                "ppl[N]_{z,w}{full,end}", parse=parse))
register(Metric("ppl2", compute, 50_000, False, "lpips",
                "perceptual path length, whole image (StyleGAN2 Table 1; ppl2_*)",
                "ppl2[_N]_{z,w}{full,end}", parse=lambda text: None))
