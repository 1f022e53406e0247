"""One path from latents to pixels (StyleGAN Sec. 2; StyleGAN2 Sec. 2): seeds → z → w → W+ → S →
image, entered at any of those points or from a latent file, in batches, on the generator's device,
with the truncation trick, class labels, a noise mode and, on request, every layer's feature maps.

Every caller that turns latents into images (generation, figures, videos, metrics, training
snapshots, the demo) goes through `render_batches` / `render`, so the rules live here once:
truncation in `latents.truncate`, labels in `latents.check_labels` / `labels_for`.

Sources (exactly one): `seeds` (list of ints, the reference tools' z), `z` [N, z_dim], `w` [N, w_dim],
`ws` [N, num_ws, w_dim], `styles` (S: one [N, C_l] tensor per modulated layer), `latent_file`
(our latent file in any space, with its noise maps and labels — `latent_files` — or the reference
projector's `projected_w.npz` with key `w`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from .devices import device_of
from .errors import StyleforgeError
from .latent_files import LatentFile, check_latents, noise_maps, read_latents
from .latents import check_labels, one_hot, space_sizes, truncate, vector_to_styles, w_to_ws, z_from_seeds

SOURCES = ("seeds", "z", "w", "ws", "styles", "latent_file")


@dataclass
class Rendered:
    """One batch: images [n, C, R, R] in [-1, 1] for source rows [start, start + n), and the feature
    maps of every layer when asked for ({'b8.conv': [n, C, 8, 8], ...})."""

    start: int
    images: torch.Tensor
    features: dict | None = None


def _synthesize(G, ws: torch.Tensor, noise_mode: str, generator, maps) -> torch.Tensor:
    """G.synthesis with only the options in use (so any ws → image module can stand in for G's)."""
    options = {k: v for k, v in (("generator", generator), ("features", maps)) if v is not None}
    return G.synthesis(ws, noise_mode=noise_mode, **options)


def labels_for(G, count: int, class_index: int | None = None, labels: torch.Tensor | None = None,
               device: torch.device | str | None = None) -> torch.Tensor | None:
    """Labels [count, c_dim] from one class index or explicit labels (checked against G.c_dim);
    None for an unconditional model."""
    device = device or device_of(G)
    if labels is not None:
        if class_index is not None:
            raise StyleforgeError("give a class index or labels, not both")
        return check_labels(labels.to(device), G.c_dim, count, "this model")
    return one_hot(class_index, G.c_dim, count, device)


def open_latent_file(source, G) -> LatentFile:
    """A latent file (path, or an already read LatentFile) checked against G's sizes."""
    latent = source if isinstance(source, LatentFile) else read_latents(source)
    check_latents(latent, G, str(getattr(source, "name", source)) if not isinstance(source, LatentFile)
                  else "the latents")
    return latent


def load_latent_file(path, G) -> torch.Tensor:
    """W+ [N, num_ws, w_dim] of a latent file holding w or W+ codes (z is mapped without truncation);
    S codes cannot be turned back into W+ (one line)."""
    latent = open_latent_file(path, G)
    if latent.space == "s":
        raise StyleforgeError(f"{path} holds S codes, which cannot be turned back into W+; render them with "
                              "`styleforge generate --projected-w` instead")
    return to_ws(G, **{latent.space: latent.latent}, **({"labels": latent.labels} if latent.space == "z" and
                                                         latent.labels is not None else {}))


def _latent_source(latent: LatentFile, G) -> tuple[str, object]:
    if latent.space == "s":
        return "styles", vector_to_styles(latent.latent, space_sizes(G))
    return latent.space, latent.latent


def _one_source(sources: dict) -> tuple[str, object]:
    given = [(k, v) for k, v in sources.items() if v is not None]
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise StyleforgeError(f"unknown latent source(s) {', '.join(unknown)}; use one of {', '.join(SOURCES)}")
    if len(given) != 1:
        raise StyleforgeError(f"give exactly one latent source ({', '.join(SOURCES)}), got "
                              f"{', '.join(k for k, _ in given) or 'none'}")
    return given[0]


def _count(kind: str, value) -> int:
    if kind == "seeds":
        return len(value)
    if kind == "styles":
        return value[0].shape[0]
    return value.shape[0]


def _z_rows(G, kind: str, value, rows: slice) -> torch.Tensor:
    """z [n, z_dim] of source rows `rows` (seeds follow the reference tools' convention)."""
    if kind == "seeds":
        return z_from_seeds(value[rows], G.z_dim, device_of(G))
    if value.ndim != 2 or value.shape[1] != G.z_dim:
        raise StyleforgeError(f"z must have shape [N, {G.z_dim}], got {list(value.shape)}")
    return value[rows].to(device_of(G))


def _ws_rows(G, kind: str, value, rows: slice, psi: float, cutoff: int | None, c) -> torch.Tensor:
    """W+ for source rows `rows` (the mapping runs per batch, so memory stays flat)."""
    device = device_of(G)
    if kind in ("seeds", "z"):
        return G.mapping(_z_rows(G, kind, value, rows), c, psi=psi, cutoff=cutoff)
    if kind == "w":
        if value.ndim != 2 or value.shape[1] != G.w_dim:
            raise StyleforgeError(f"w must have shape [N, {G.w_dim}], got {list(value.shape)}")
        ws = w_to_ws(value[rows].to(device), G.num_ws)
    else:
        ws = value[rows].to(device)
        if hasattr(G.synthesis, "check_ws"):
            G.synthesis.check_ws(ws)
    return truncate(ws, G.w_avg, psi, cutoff) if psi != 1 else ws


@torch.no_grad()
def render_batches(G, *, seeds: list[int] | None = None, z: torch.Tensor | None = None,
                   w: torch.Tensor | None = None, ws: torch.Tensor | None = None,
                   styles: list[torch.Tensor] | None = None, latent_file: str | Path | LatentFile | None = None,
                   psi: float = 1.0, cutoff: int | None = None, class_index: int | None = None,
                   labels: torch.Tensor | None = None, noise_mode: str | None = None, noise: dict | None = None,
                   batch_size: int = 16, generator: torch.Generator | None = None, features: bool = False,
                   progress: Callable[[int], None] | None = None) -> Iterator[Rendered]:
    """Images batch by batch for one latent source (see the module docstring). `labels` [N, c_dim]
    or `class_index` for conditional models; truncation ψ / cutoff for seeds, z, w, W+ and files
    (S is rendered as given); `progress(n)` after each batch. `noise` ({layer: [N, 1, r, r]}, a
    projection's maps) replaces the model's `const` noise row by row; noise_mode None: the maps saved in
    a latent file, else the model's own `const` maps."""
    kind, value = _one_source(dict(seeds=seeds, z=z, w=w, ws=ws, styles=styles, latent_file=latent_file))
    saved_noise = noise or {}
    if kind == "latent_file":
        latent = open_latent_file(value, G)
        kind, value = _latent_source(latent, G)
        saved_noise = latent.noise if noise_mode is None and noise is None else saved_noise
        if kind == "z" and latent.labels is not None and labels is None and class_index is None:
            labels = latent.labels
    if batch_size < 1:
        raise StyleforgeError(f"batch size must be at least 1, got {batch_size}")
    count = _count(kind, value)
    if saved_noise and (noise_mode or "const") != "const":
        raise StyleforgeError(f"noise maps replace the const noise; they cannot be used with noise mode {noise_mode!r}")
    if any(maps.shape[0] != count for maps in saved_noise.values()):
        raise StyleforgeError(f"the noise maps hold {next(iter(saved_noise.values())).shape[0]} rows for {count} latents")
    if kind in ("seeds", "z"):
        all_labels = labels_for(G, count, class_index, labels)
    elif class_index is not None or labels is not None:
        raise StyleforgeError("class labels only apply when mapping seeds or z (w, W+ and S already hold them)")
    noise_mode = noise_mode or "const"
    for start in range(0, count, batch_size):
        rows = slice(start, min(start + batch_size, count))
        maps = {} if features else None
        with noise_maps(G, saved_noise, rows):
            if kind == "styles":
                batch_styles = [s[rows].to(device_of(G)) for s in value]
                images = G.synthesis.from_styles(batch_styles, noise_mode=noise_mode, generator=generator,
                                                 features=maps)
            else:
                c = all_labels[rows] if kind in ("seeds", "z") and all_labels is not None else None
                if kind in ("seeds", "z") and psi == 1 and maps is None and generator is None:
                    images = G(_z_rows(G, kind, value, rows), c, noise_mode=noise_mode)  # = synthesis(mapping(z))
                else:
                    images = _synthesize(G, _ws_rows(G, kind, value, rows, psi, cutoff, c), noise_mode, generator,
                                         maps)
        if progress is not None:
            progress(images.shape[0])
        yield Rendered(start, images, maps)


def render(G, *, features: bool = False, device: str | torch.device | None = None, **kwargs):
    """All images of `render_batches` concatenated (moved to `device`, default: where G is); with
    `features=True`, (images, {layer: feature maps [N, ...]})."""
    images, maps = [], {}
    for batch in render_batches(G, features=features, **kwargs):
        images.append(batch.images.to(device) if device is not None else batch.images)
        for name, value in (batch.features or {}).items():
            maps.setdefault(name, []).append(value.to(device) if device is not None else value)
    images = torch.cat(images)
    if not features:
        return images
    return images, {name: torch.cat(values) for name, values in maps.items()}


def to_ws(G, *, psi: float = 1.0, cutoff: int | None = None, class_index: int | None = None,
          labels: torch.Tensor | None = None, **source) -> torch.Tensor:
    """W+ [N, num_ws, w_dim] for seeds, z, w, W+ or a latent file (truncated, labelled as in render)."""
    kind, value = _one_source(source)
    if kind == "styles":
        raise StyleforgeError("S cannot be turned back into W+")
    if kind not in ("seeds", "z") and (class_index is not None or labels is not None):
        raise StyleforgeError("class labels only apply when mapping seeds or z (w, W+ and S already hold them)")
    if kind == "latent_file":
        ws = load_latent_file(value, G)
        return truncate(ws, G.w_avg, psi, cutoff) if psi != 1 else ws
    count = _count(kind, value)
    c = labels_for(G, count, class_index, labels) if kind in ("seeds", "z") else None
    with torch.no_grad():
        return _ws_rows(G, kind, value, slice(0, count), psi, cutoff, c)
