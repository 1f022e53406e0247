"""High-level generation: images from seeds, truncation strips and style-mixing grids
(the figures of the StyleGAN papers: Fig. 3 style mixing, Fig. 8 truncation), all through
`pipeline.render`."""

from collections.abc import Callable

import torch

from .latents import mix, truncate
from .models import Generator
from .pipeline import render, to_ws


def map_seeds(G: Generator, seeds: list[int], psi: float = 1.0, cutoff: int | None = None,
              class_index: int | None = None) -> torch.Tensor:
    """W+ [N, num_ws, w_dim] for seeds (reference z convention), truncated toward w_avg."""
    return to_ws(G, seeds=seeds, psi=psi, cutoff=cutoff, class_index=class_index)


def synthesize(G: Generator, ws: torch.Tensor, noise_mode: str = "const", batch_size: int = 16,
               progress: Callable | None = None) -> torch.Tensor:
    """Images [N, C, R, R] on the CPU from W+ in batches; `progress(n)` is called after each batch."""
    return render(G, ws=ws, noise_mode=noise_mode, batch_size=batch_size, progress=progress, device="cpu")


def generate(G: Generator, seeds: list[int], psi: float = 1.0, cutoff: int | None = None,
             noise_mode: str = "const", class_index: int | None = None, batch_size: int = 16,
             progress: Callable | None = None) -> torch.Tensor:
    """Images [N, C, R, R] in [-1, 1] on the CPU for seeds."""
    return render(G, seeds=seeds, psi=psi, cutoff=cutoff, class_index=class_index, noise_mode=noise_mode,
                  batch_size=batch_size, progress=progress, device="cpu")


def truncation_strip(G: Generator, seeds: list[int], psis: list[float], noise_mode: str = "const",
                     class_index: int | None = None) -> torch.Tensor:
    """Images [len(seeds)·len(psis), C, R, R]: each seed's row runs through the ψ values."""
    ws = map_seeds(G, seeds, class_index=class_index)
    rows = [truncate(ws, G.w_avg, psi) for psi in psis]
    ws_all = torch.stack(rows, dim=1).reshape(-1, *ws.shape[1:])  # seed-major
    return synthesize(G, ws_all, noise_mode=noise_mode)


def style_mixing(G: Generator, row_seeds: list[int], col_seeds: list[int], col_styles: list[int],
                 psi: float = 1.0, noise_mode: str = "const", class_index: int | None = None,
                 cutoff: int | None = None):
    """(row images [R, ...], column images [K, ...], cells [R, K, ...]): cell (r, k) takes the W+ rows
    `col_styles` from column seed k and every other row from row seed r."""
    ws_rows = map_seeds(G, row_seeds, psi=psi, class_index=class_index, cutoff=cutoff)
    ws_cols = map_seeds(G, col_seeds, psi=psi, class_index=class_index, cutoff=cutoff)
    r, k = len(row_seeds), len(col_seeds)
    a = ws_rows.repeat_interleave(k, dim=0)
    b = ws_cols.repeat(r, 1, 1)
    cells = synthesize(G, mix(a, b, mask=col_styles), noise_mode=noise_mode)
    return (synthesize(G, ws_rows, noise_mode=noise_mode), synthesize(G, ws_cols, noise_mode=noise_mode),
            cells.reshape(r, k, *cells.shape[1:]))
