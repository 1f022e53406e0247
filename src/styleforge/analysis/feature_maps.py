"""Feature maps of the synthesis network (from `pipeline.render(..., features=True)`): a picture of
each layer's channels and a per-layer "spikiness" — the peak of the channel-mean magnitude over
positions divided by its median — which is large where a layer concentrates its signal in a local
spike (the "droplet" of StyleGAN v1, StyleGAN2 paper Sec. 2)."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib import colormaps

from ..pipeline import render


def spikiness(feature_map: torch.Tensor) -> float:
    """max / median over positions of the channel-mean |activation| of one map [C, H, W] (or [1, C, H, W])."""
    x = feature_map[0] if feature_map.ndim == 4 else feature_map
    magnitude = x.abs().mean(0).flatten().double()
    return float(magnitude.max() / magnitude.median().clamp_min(1e-12))


def layer_features(G, seed: int = 0, psi: float = 1.0, noise_mode: str = "const") -> dict[str, torch.Tensor]:
    """{layer: [C, h, w]} of the conv layers for one seed."""
    _, features = render(G, seeds=[seed], psi=psi, features=True, device="cpu", noise_mode=noise_mode)
    return {name: value[0] for name, value in features.items() if name.endswith((".conv", ".conv_up"))}


def layer_spikiness(G, seeds: list[int], psi: float = 1.0, noise_mode: str = "const") -> dict[str, float]:
    """Mean spikiness of each conv layer over the seeds."""
    totals: dict[str, list[float]] = {}
    for seed in seeds:
        for name, value in layer_features(G, seed, psi, noise_mode).items():
            totals.setdefault(name, []).append(spikiness(value))
    return {name: float(np.mean(values)) for name, values in totals.items()}


def feature_grid(feature_map: torch.Tensor, channels: int = 16, cell: int = 48) -> np.ndarray:
    """uint8 [rows·cell, cols·cell, 3]: the first `channels` channels, each normalized to its own
    range and shown with the viridis colour scale (nearest-neighbour upscaled)."""
    x = feature_map[:channels].float()
    cols = int(np.ceil(np.sqrt(len(x))))
    rows = int(np.ceil(len(x) / cols))
    lo = x.flatten(1).min(1).values[:, None, None]
    hi = x.flatten(1).max(1).values[:, None, None]
    x = ((x - lo) / (hi - lo).clamp_min(1e-12)).numpy()
    colour = (colormaps["viridis"](x)[..., :3] * 255).astype(np.uint8)  # [C, h, w, 3]
    repeat = max(1, cell // x.shape[-1])
    colour = colour.repeat(repeat, 1).repeat(repeat, 2)
    h, w = colour.shape[1:3]
    grid = np.full((rows * (h + 2), cols * (w + 2), 3), 255, np.uint8)
    for i, tile in enumerate(colour):
        r, c = divmod(i, cols)
        grid[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = tile
    return grid
