"""The images metrics see: generated ones from z seeds 0..N−1 (through `pipeline`), real ones in a
dataset's order, and the check that the two match in size and channels."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..errors import StyleforgeError
from ..pipeline import render_batches


@torch.no_grad()
def seed_batches(G, count: int, batch: int = 32, noise_mode: str = "const"):
    """Images [≤ batch, C, H, W] from z seeds 0..count−1, a batch at a time (classes in turn for a
    conditional G)."""
    seeds = list(range(count))
    labels = torch.eye(G.c_dim)[[s % G.c_dim for s in seeds]] if G.c_dim else None
    for rendered in render_batches(G, seeds=seeds, labels=labels, noise_mode=noise_mode, batch_size=batch):
        yield rendered.images


def generated_images(G, count: int, batch: int = 32, progress: Callable | None = None) -> torch.Tensor:
    """count images [N, C, H, W] in [-1, 1] from seeds 0..count-1 (constant noise), on the CPU."""
    out = []
    for images in seed_batches(G, count, batch):
        out.append(images.clamp(-1, 1).cpu())
        if progress is not None:
            progress(len(images))
    return torch.cat(out)


def real_images(dataset, count: int, progress: Callable | None = None) -> torch.Tensor:
    """The first `count` images of a dataset in [-1, 1] (an image folder's sorted order)."""
    if len(dataset) < count:
        raise StyleforgeError(f"the dataset has {len(dataset)} images; the metric needs {count} "
                              "(use --num)")
    images = []
    for i in range(count):
        images.append(torch.from_numpy(dataset.image(i)).float() / 127.5 - 1)
        if progress is not None:
            progress(1)
    return torch.stack(images)


def check_data(G, dataset, spec) -> None:
    """Real data is given and has G's resolution and channels."""
    if dataset is None:
        raise StyleforgeError(f"{spec.name} needs real data: give --data")
    if (dataset.resolution, dataset.channels) != (G.img_resolution, G.img_channels):
        raise StyleforgeError(f"the data has {dataset.resolution}px × {dataset.channels} images but the "
                              f"model makes {G.img_resolution}px × {G.img_channels}")
