"""GANSpace (Härkönen et al., NeurIPS 2020, Sec. 2): principal components of W from mapped samples,
each with its standard deviation σ_i; an edit E(v_i, j–k) moves w by x·σ_i·v_i on W+ rows j..k."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..errors import StyleforgeError
from .edits import Edit, model_dims, parse_layers, sample_w


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
