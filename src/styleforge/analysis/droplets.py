"""The droplet artifact side by side (StyleGAN2 paper, Sec. 2 and Fig. 1): AdaIN's instance
normalization lets a v1 generator pass signal strength through a local spike in its feature maps;
weight demodulation (v2) removes the cause. Per-layer spikiness of several generators, their ratio at
chosen resolutions, and a figure of the images with the channel-mean activation maps."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from ..pipeline import render
from .feature_maps import layer_features, layer_spikiness


def resolution_spikiness(spikes: dict[str, float], resolution: int) -> float | None:
    """The largest spikiness among the conv layers of one resolution ('b32.conv_up', 'b32.conv')."""
    values = [v for name, v in spikes.items() if name.split(".")[0] == f"b{resolution}"]
    return max(values) if values else None


def droplet_comparison(models: dict, seeds: list[int], resolutions: tuple = (32, 64), psi: float = 1.0,
                       noise_mode: str = "none") -> dict:
    """{'models': {name: {'family', 'layers': {layer: spikiness}, 'by_resolution': {r: max}}},
    'ratios': {r: first model / second model}} over `seeds` (the first two models are compared).
    Noise inputs are off by default: per-pixel noise adds speckle that is not the artifact."""
    record = {"seeds": list(seeds), "noise_mode": noise_mode, "models": {}, "ratios": {}}
    for name, G in models.items():
        spikes = layer_spikiness(G, list(seeds), psi, noise_mode)
        record["models"][name] = {
            "family": G.config.family, "resolution": G.img_resolution,
            "layers": spikes, "by_resolution": {str(r): resolution_spikiness(spikes, r) for r in resolutions}}
    names = list(models)
    if len(names) >= 2:
        first, second = (record["models"][n]["by_resolution"] for n in names[:2])
        for r in resolutions:
            a, b = first[str(r)], second[str(r)]
            record["ratios"][str(r)] = a / b if a is not None and b else None
    return record


def channel_mean_map(feature_map: torch.Tensor) -> np.ndarray:
    """[H, W]: mean |activation| over channels of one map [C, H, W] — where a droplet is a bright dot."""
    return feature_map.abs().mean(0).float().cpu().numpy()


def droplet_figure(models: dict, seed: int, resolutions: tuple = (32, 64), psi: float = 1.0,
                   noise_mode: str = "none") -> Figure:
    """Rows = models; columns = the image and, per resolution, the channel-mean |activation| of that
    block's last conv layer (each map on its own colour scale, its spikiness in the title)."""
    figure = Figure(figsize=(2.4 * (1 + len(resolutions)), 2.5 * len(models)), dpi=100)
    axes = figure.subplots(len(models), 1 + len(resolutions), squeeze=False)
    for row, (name, G) in enumerate(models.items()):
        image = render(G, seeds=[seed], psi=psi, device="cpu", noise_mode=noise_mode)[0]
        picture = ((image.permute(1, 2, 0).clamp(-1, 1) + 1) / 2).numpy()
        axes[row, 0].imshow(picture if picture.shape[2] == 3 else picture[..., 0], cmap="gray")
        axes[row, 0].set_title(f"{name}\nseed {seed}", fontsize=8)
        maps = layer_features(G, seed, psi, noise_mode)
        for col, r in enumerate(resolutions, start=1):
            axis = axes[row, col]
            key = f"b{r}.conv"
            if key not in maps:
                axis.set_title(f"no {r} px layer", fontsize=8)
            else:
                heat = channel_mean_map(maps[key])
                axis.imshow(heat, cmap="magma")
                spike = heat.max() / max(float(np.median(heat)), 1e-12)
                axis.set_title(f"{key} |x| mean\nspikiness {spike:.1f}", fontsize=8)
        for axis in axes[row]:
            axis.set_xticks([])
            axis.set_yticks([])
    figure.tight_layout()
    return figure
