"""GANSpace (Härkönen et al., NeurIPS 2020, Sec. 2): principal components of W from mapped samples,
each with its standard deviation σ_i; an edit E(v_i, j–k) moves w by x·σ_i·v_i on W+ rows j..k."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..errors import StyleforgeError
from .edits import Edit, model_dims, parse_layers, sample_w
from .registry import EditContext, EditMethod, MethodResult, at_least, index_list, register, setting


@torch.no_grad()
def w_pca(G, samples: int = 100_000, seed: int = 0, batch: int = 4096,
          progress: Callable[[int], None] | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(components [w_dim, w_dim] as unit rows by decreasing variance, σ [w_dim], mean [w_dim]) of
    w = mapping(z) over `samples` z. Streamed: the mean and second moment are accumulated in float64
    batch by batch, so memory stays at one batch whatever `samples` is (the same components as an
    incremental PCA, exactly)."""
    if samples < 2:
        raise StyleforgeError("GANSpace needs at least 2 samples")
    rng = torch.Generator().manual_seed(seed)
    total = torch.zeros(G.w_dim, dtype=torch.float64)
    outer = torch.zeros(G.w_dim, G.w_dim, dtype=torch.float64)
    for start in range(0, samples, batch):
        n = min(batch, samples - start)
        w = sample_w(G, n, rng).double().cpu()
        total += w.sum(0)
        outer += w.T @ w
        if progress is not None:
            progress(n)
    mean = total / samples
    covariance = (outer - samples * torch.outer(mean, mean)) / (samples - 1)
    variance, vectors = torch.linalg.eigh(covariance)
    order = torch.argsort(variance, descending=True)
    return vectors[:, order].T.float(), variance[order].clamp_min(0).sqrt().float(), mean.float()


def ganspace_edits(G, components: torch.Tensor, sigmas: torch.Tensor, indices: list[int] | None = None,
                   layers="all") -> list[Edit]:
    """Edits E(v_i, layers) for the chosen components, strength in units of σ_i."""
    indices = list(range(min(10, len(components)))) if indices is None else list(indices)
    bad = [i for i in indices if not 0 <= i < len(components)]
    if bad:
        raise StyleforgeError(f"GANSpace has {len(components)} components for this model "
                              f"(0..{len(components) - 1}); there is no component {bad[0]}")
    rows = parse_layers(G, layers)
    return [Edit(f"ganspace-{i}", "ganspace", "w", components[i], unit=float(sigmas[i]), layers=rows,
                 dims=model_dims(G), info={"index": i, "sigma": float(sigmas[i]), "layers": str(layers)})
            for i in indices]


@dataclass(frozen=True)
class GanspaceSettings:
    """Options of `styleforge edit ganspace`."""

    samples: int = setting(100_000, "w samples for the PCA (at least twice w_dim)", parse=at_least(2))
    sample_seed: int = setting(0, "seed of the w samples", parse=at_least(0))
    components: tuple = setting((0, 1, 2, 3, 4), "component indices, e.g. 0-4", parse=index_list)
    layers: str = setting("all", "W+ rows each edit acts on: all, coarse, middle, fine, 0-3")


def _compute(G, settings: GanspaceSettings, context: EditContext) -> MethodResult:
    if settings.samples < 2 * G.w_dim:
        raise StyleforgeError(f"--samples must be at least {2 * G.w_dim} (twice w_dim) for a stable PCA")
    parse_layers(G, settings.layers)
    with context.progress(settings.samples, "w samples") as bar:
        components, sigmas, _ = w_pca(G, settings.samples, seed=settings.sample_seed, progress=bar.update)
    return MethodResult(ganspace_edits(G, components, sigmas, list(settings.components), layers=settings.layers))


register(EditMethod(
    "ganspace", "principal components of W (GANSpace)", GanspaceSettings, _compute,
    examples=("styleforge edit ganspace --model m.safetensors --samples 100000 --components 0-4 --layers 0-3 --out pca.safetensors",)))
