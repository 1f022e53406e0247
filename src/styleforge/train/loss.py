"""StyleGAN2 losses and regularizers (StyleGAN2 paper, Sec. 3 and App. B): non-saturating logistic
loss, lazy R1 on reals, lazy path-length regularization, style-mixing regularization."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class SubBatch:
    """The inputs of one forward/backward pass (one process, one accumulation round)."""

    real_img: torch.Tensor         # [n, C, H, W] in [-1, 1]
    real_c: torch.Tensor | None
    gen_z: torch.Tensor            # [n, z_dim]
    gen_c: torch.Tensor | None
    mix_z: torch.Tensor            # [n, z_dim] second latents for style mixing
    mix_cutoff: int                # W+ row where the mixing latent takes over (num_ws = no mixing)
    generator: torch.Generator     # noise inputs of the synthesis network


def run_generator(G, batch: SubBatch, count: int | None = None):
    """(images, ws) with style mixing: rows ≥ cutoff come from the second latent (StyleGAN Sec. 3.1)."""
    n = count or batch.gen_z.shape[0]
    c = batch.gen_c[:n] if batch.gen_c is not None else None
    ws = G.mapping(batch.gen_z[:n], c)
    if batch.mix_cutoff < ws.shape[1]:
        mixed = G.mapping(batch.mix_z[:n], c)
        ws = torch.cat([ws[:, :batch.mix_cutoff], mixed[:, batch.mix_cutoff:]], dim=1)
    return G.synthesis(ws, noise_mode="random", generator=batch.generator), ws


def generator_main_loss(G, D, batch: SubBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample non-saturating loss softplus(−D(G(z))) (Goodfellow 2014), and the unmixed w."""
    img, ws = run_generator(G, batch)
    return F.softplus(-D(img, batch.gen_c)).flatten(), ws[:, 0].detach()


def path_length_penalty(G, batch: SubBatch, pl_mean: torch.Tensor, shrink: int, decay: float):
    """Per-sample (|J_wᵀ y| − a)² with y ~ N(0, I)/√(HW) (StyleGAN2 Eq. 4); a is the running mean
    updated with this sub-batch's lengths. Returns (penalty [n/shrink], lengths [n/shrink])."""
    n = max(1, batch.gen_z.shape[0] // shrink)
    img, ws = run_generator(G, batch, count=n)
    noise = torch.randn(img.shape, generator=batch.generator, device=img.device) / math.sqrt(
        img.shape[2] * img.shape[3])
    (grads,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
    lengths = grads.square().sum(2).mean(1).sqrt()
    a = pl_mean.lerp(lengths.mean().detach(), decay)
    return (lengths - a).square(), lengths.detach()


def discriminator_main_loss(G, D, batch: SubBatch) -> torch.Tensor:
    """Per-sample softplus(D(G(z))) + softplus(−D(x))."""
    with torch.no_grad():
        fake, _ = run_generator(G, batch)
    return F.softplus(D(fake, batch.gen_c)).flatten() + F.softplus(-D(batch.real_img, batch.real_c)).flatten()


def r1_penalty(D, batch: SubBatch) -> torch.Tensor:
    """Per-sample |∇_x D(x)|² on reals (Mescheder et al. 2018, R1; StyleGAN2 uses it lazily)."""
    real = batch.real_img.detach().requires_grad_(True)
    logits = D(real, batch.real_c)
    (grads,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grads.square().sum(dim=[1, 2, 3])
