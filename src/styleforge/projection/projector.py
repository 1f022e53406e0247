"""Projection of images into W or W+ by the reference projector's schedule (StyleGAN2 paper, Sec. 5
and Appendix D; stylegan2-ada-pytorch `projector.py`). Image2StyleGAN's own W+ method is
`image2stylegan.py`.

W (the reference projector): start from w_avg (the mean of 10,000 mapped z) with σ_w their spread;
optimize one w (broadcast to every layer) and every noise map with Adam (β 0.9, 0.999) at lr 0.1,
ramped up over the first 5 % of the steps and cosine-ramped down over the last 25 %; Gaussian noise
of scale σ_w · 0.05 · max(0, 1 − t / 0.75)² is added to w (ramped to zero over the first 75 %); the
noise maps are re-normalized to zero mean and unit variance after every step and regularized by the
squared autocorrelation at shift 1 over a pyramid down to 8×8, weighted 1e5.
W+: the same schedule with one w per layer (optionally started from a W result) and pixel MSE added to
the distance — an extension of the reference, not Image2StyleGAN.
Several targets are projected together, each with its own w and noise maps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import copy
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import StyleforgeError
from ..latent_files import noise_layers
from ..latents import z_from_seeds
from ..devices import device_of
from ..pipeline import labels_for, render
from .distance import ImageDistance, image_distance

SPACES = ("w", "w+")


@dataclass(frozen=True)
class ProjectionSettings:
    """The reference projector's hyper-parameters (stylegan2-ada-pytorch `projector.py` defaults)."""

    steps: int = 1000
    w_avg_samples: int = 10_000
    initial_learning_rate: float = 0.1
    initial_noise_factor: float = 0.05
    lr_rampdown_length: float = 0.25
    lr_rampup_length: float = 0.05
    noise_ramp_length: float = 0.75
    regularize_noise_weight: float = 1e5
    mse_weight: float = 1.0           # W+ only: weight of the pixel MSE added to the distance
    optimize_noise: bool = True


@dataclass
class Projection:
    """What a projection found: ws [B, num_ws, w_dim], the noise maps {layer: [B, 1, r, r]}, the
    distance per step [steps, B], the reconstructions [B, C, R, R] and (optionally) progress frames."""

    ws: torch.Tensor
    noise: dict
    distances: np.ndarray
    images: torch.Tensor
    space: str
    distance_kind: str
    frames: list = field(default_factory=list)   # (step, images [B, C, R, R]) every `frame_every` steps


W_STATISTICS_SEED = 123  # the reference projector draws its w_avg samples from RandomState(123)


def w_statistics(G, samples: int, seed: int = W_STATISTICS_SEED,
                 class_index: int | None = None) -> tuple[torch.Tensor, float]:
    """(w_avg [w_dim], σ_w): mean of `samples` mapped z and the root mean squared distance to it."""
    z = z_from_seeds([seed], G.z_dim * samples).reshape(samples, G.z_dim).to(device_of(G))
    c = labels_for(G, samples, class_index)
    with torch.no_grad():
        w = G.mapping(z, c)[:, 0]
    w_avg = w.mean(0)
    return w_avg, float(((w - w_avg).square().sum() / samples).sqrt())


def noise_regularization(maps: list[torch.Tensor]) -> torch.Tensor:
    """Per-target Σ over maps and pyramid levels of the squared autocorrelation at shift 1 in x and y
    (StyleGAN2 App. D), for maps [B, 1, r, r] → [B]."""
    total = 0
    for noise in maps:
        while True:
            total = total + (noise * torch.roll(noise, shifts=1, dims=3)).mean(dim=(1, 2, 3)).square()
            total = total + (noise * torch.roll(noise, shifts=1, dims=2)).mean(dim=(1, 2, 3)).square()
            if noise.shape[2] <= 8:
                break
            noise = F.avg_pool2d(noise, kernel_size=2)
    return total


def learning_rate(t: float, settings: ProjectionSettings) -> float:
    """lr at progress t ∈ [0, 1): linear ramp-up, cosine ramp-down (the reference's schedule)."""
    ramp = min(1.0, (1.0 - t) / settings.lr_rampdown_length)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp = ramp * min(1.0, t / settings.lr_rampup_length)
    return settings.initial_learning_rate * ramp


def check_targets(G, target: torch.Tensor) -> torch.Tensor:
    """Targets as [B, C, R, R] for this generator (one [C, R, R] image is a batch of one)."""
    target = target[None] if target.ndim == 3 else target
    expected = (G.img_channels, G.img_resolution, G.img_resolution)
    if target.ndim != 4 or tuple(target.shape[1:]) != expected:
        raise StyleforgeError(f"targets must be [B, {', '.join(map(str, expected))}] images in [-1, 1], "
                              f"got {list(target.shape)}")
    return target


def project(G, target: torch.Tensor, space: str = "w", distance: ImageDistance | None = None,
            settings: ProjectionSettings = ProjectionSettings(), seed: int = 0,
            init_ws: torch.Tensor | None = None, class_index: int | None = None,
            frame_every: int = 0, progress: Callable[[int, np.ndarray], None] | None = None) -> Projection:
    """Project target images [B, C, R, R] (or one [C, R, R]) in [-1, 1] into W or W+ (module
    docstring). `distance` defaults to LPIPS-VGG16 as the reference projector (`distance.image_distance`,
    fetched on first use; `image_distance("pixel")` needs no weights); `init_ws` starts W+ from given latents (e.g. a W result); `progress(step, distances [B])`
    after each step; `frame_every` > 0 keeps the reconstructions every that many steps."""
    if space not in SPACES:
        raise StyleforgeError(f"space must be one of {', '.join(SPACES)}, got {space!r}")
    if settings.steps < 1:
        raise StyleforgeError(f"steps must be at least 1, got {settings.steps}")
    distance = distance or image_distance("lpips", device=device_of(G))
    G = copy.deepcopy(G).eval().requires_grad_(False)
    device = device_of(G)
    target = check_targets(G, target).to(device, torch.float32)
    batch = target.shape[0]
    w_avg, w_std = w_statistics(G, settings.w_avg_samples, class_index=class_index)

    rng = torch.Generator(device=device).manual_seed(seed)
    maps = {}
    for name, layer in noise_layers(G).items():
        size = layer.noise_const.shape[-1]
        layer.noise_const = torch.randn([batch, 1, size, size], generator=rng, device=device)
        layer.noise_const.requires_grad_(settings.optimize_noise)
        maps[name] = layer.noise_const
    if init_ws is not None:
        start = init_ws.to(device, torch.float32).reshape(batch, -1, G.w_dim)
        start = start[:, :1] if space == "w" else start.expand(batch, G.num_ws, G.w_dim)
    else:
        start = w_avg.reshape(1, 1, -1).repeat(batch, 1 if space == "w" else G.num_ws, 1)
    w_opt = start.detach().clone().requires_grad_(True)
    params = [w_opt] + (list(maps.values()) if settings.optimize_noise else [])
    optimizer = torch.optim.Adam(params, betas=(0.9, 0.999), lr=settings.initial_learning_rate)

    distances, frames = [], []
    for step in range(settings.steps):
        t = step / settings.steps
        w_noise_scale = w_std * settings.initial_noise_factor * max(0.0, 1.0 - t / settings.noise_ramp_length) ** 2
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(t, settings)
        w_noise = torch.randn(w_opt.shape, generator=rng, device=device) * w_noise_scale
        ws = (w_opt + w_noise).expand(batch, G.num_ws, G.w_dim)
        synth = G.synthesis(ws, noise_mode="const")
        dist = distance(synth, target)
        loss = dist.sum()
        if space == "w+" and settings.mse_weight:
            loss = loss + settings.mse_weight * (synth - target).square().mean(dim=(1, 2, 3)).sum()
        if settings.optimize_noise and maps:
            loss = loss + settings.regularize_noise_weight * noise_regularization(list(maps.values())).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():  # noise maps back to zero mean, unit variance (per target)
            for noise in maps.values():
                noise -= noise.mean(dim=(1, 2, 3), keepdim=True)
                noise *= noise.square().mean(dim=(1, 2, 3), keepdim=True).rsqrt()
        distances.append(dist.detach().cpu().numpy())
        if frame_every and (step % frame_every == 0 or step == settings.steps - 1):
            frames.append((step, synth.detach().cpu()))
        if progress is not None:
            progress(step, distances[-1])
    final_ws = w_opt.detach().expand(batch, G.num_ws, G.w_dim).clone()
    with torch.no_grad():
        images = G.synthesis(final_ws, noise_mode="const").cpu()
    return Projection(ws=final_ws.cpu(), noise={k: v.detach().cpu() for k, v in maps.items()},
                      distances=np.stack(distances), images=images, space=space,
                      distance_kind=distance.kind, frames=frames)


def render_projection(G, projection: Projection) -> torch.Tensor:
    """The reconstructions of a projection on G with its optimized noise maps (as `project` returns)."""
    return render(G, ws=projection.ws, noise=projection.noise, device="cpu")
