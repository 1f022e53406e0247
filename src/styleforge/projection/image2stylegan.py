"""Image2StyleGAN (Abdal, Qin & Wonka, ICCV 2019, Sec. 3–5, Algorithm 1): embed an image in W+ by
optimizing one w per layer with Adam (lr 0.01, β 0.9 / 0.999, ε 1e-8) for 5000 steps from the mean
latent w̄, minimizing pixel MSE + a VGG-16 perceptual loss (MSE of the activations after conv1_1,
conv1_2, conv3_2 and conv4_2, each weight 1). Nothing else: no noise optimization (the noise stays
the model's const noise), no noise on w, no learning-rate schedule.

How the perceptual loss sees the images follows the published PyTorch implementation by the authors'
group (zaidbhat1234/Image2StyleGAN, made at KAUST under Peter Wonka): images mapped to [0, 1], resized
bilinearly to 256 px by `interpolate(scale_factor=256/R)` for VGG-16 with torchvision's ImageNet
weights and no further normalization; the pixel MSE on the full-size [0, 1] images; the loss the sum
of the batch means. Its notebook starts from zeros for 1500 steps; `init="zeros"` gives that start."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..devices import device_of
from ..errors import StyleforgeError
from ..perception import load_vgg16
from .projector import Projection, check_targets, w_statistics

TAPS = (1, 3, 13, 20)            # VGG16 `features` indices after conv1_1, conv1_2, conv3_2, conv4_2 (+ ReLU)
PERCEPTUAL_SIZE = 256
INITS = ("mean", "zeros")


@dataclass(frozen=True)
class Image2StyleGANSettings:
    """The paper's optimization (Sec. 5): Adam at 0.01 for 5000 steps from w̄."""

    steps: int = 5000
    learning_rate: float = 0.01
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    init: str = "mean"              # "mean": w̄ (the paper's choice for faces); "zeros": the notebook's
    w_avg_samples: int = 10_000


def _for_vgg(images01: torch.Tensor) -> torch.Tensor:
    """[0, 1] images at 256 px (bilinear by scale factor, as the published code), three channels."""
    size = images01.shape[-1]
    if size != PERCEPTUAL_SIZE:
        images01 = F.interpolate(images01, scale_factor=PERCEPTUAL_SIZE / size, mode="bilinear")
    return images01.repeat(1, 3, 1, 1) if images01.shape[1] == 1 else images01


def image2stylegan_loss(vgg, synth01: torch.Tensor, target01: torch.Tensor,
                        target_features: list | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(pixel MSE, perceptual loss) of [0, 1] images [B, C, R, R], each a mean over the batch."""
    mse = F.mse_loss(synth01, target01)
    wanted = target_features if target_features is not None else vgg.trunk(_for_vgg(target01), TAPS)
    perceptual = sum(F.mse_loss(a, b) for a, b in zip(vgg.trunk(_for_vgg(synth01), TAPS), wanted))
    return mse, perceptual


def image2stylegan(G, target: torch.Tensor, vgg=None, settings: Image2StyleGANSettings = Image2StyleGANSettings(),
                   vgg_weights=None, frame_every: int = 0,
                   progress: Callable[[int, np.ndarray], None] | None = None) -> Projection:
    """Embed target images [B, C, R, R] (or one [C, R, R]) in [-1, 1] into W+ as Image2StyleGAN does
    (module docstring). `vgg`: a loaded `perception.VGG16` (default: torchvision's weights, found or
    fetched like the metrics'). Each target is optimized on its own loss; `distances` [steps, B] are
    the per-target losses (MSE + perceptual)."""
    if settings.init not in INITS:
        raise StyleforgeError(f"init must be one of {', '.join(INITS)}, got {settings.init!r}")
    if settings.steps < 1:
        raise StyleforgeError(f"steps must be at least 1, got {settings.steps}")
    G = copy.deepcopy(G).eval().requires_grad_(False)
    device = device_of(G)
    target = check_targets(G, target).to(device, torch.float32)
    vgg = (vgg or load_vgg16(vgg_weights)).to(device).eval().requires_grad_(False)
    batch = target.shape[0]
    if settings.init == "mean":
        w_avg, _ = w_statistics(G, settings.w_avg_samples)
        start = w_avg.reshape(1, 1, -1).repeat(batch, G.num_ws, 1)
    else:
        start = torch.zeros(batch, G.num_ws, G.w_dim, device=device)
    ws = start.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([ws], lr=settings.learning_rate, betas=settings.betas, eps=settings.eps)
    target01 = (target + 1) / 2
    wanted = [[f[b:b + 1] for f in vgg.trunk(_for_vgg(target01), TAPS)] for b in range(batch)]

    distances, frames = [], []
    for step in range(settings.steps):
        synth01 = (G.synthesis(ws, noise_mode="const") + 1) / 2
        losses = torch.stack([sum(image2stylegan_loss(vgg, synth01[b:b + 1], target01[b:b + 1], wanted[b]))
                              for b in range(batch)])
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        optimizer.step()
        distances.append(losses.detach().cpu().numpy())
        if frame_every and (step % frame_every == 0 or step == settings.steps - 1):
            frames.append((step, synth01.detach().cpu() * 2 - 1))
        if progress is not None:
            progress(step, distances[-1])
    final = ws.detach().clone()
    with torch.no_grad():
        images = G.synthesis(final, noise_mode="const").cpu()
    return Projection(ws=final.cpu(), noise={}, distances=np.stack(distances), images=images, space="w+",
                      distance_kind="image2stylegan", frames=frames)


__all__ = ["Image2StyleGANSettings", "image2stylegan", "image2stylegan_loss", "TAPS"]
