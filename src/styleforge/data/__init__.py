"""Datasets: image folders / zip archives, the procedural toyfaces, and the dataset tool."""

from __future__ import annotations

from ..errors import StyleforgeError
from .images import ImageDataset
from .toyfaces import FACTOR_NAMES, ToyFaces


def open_dataset(spec: str, resolution: int | None = None, use_labels: bool = False,
                 max_size: int | None = None, seed: int = 0):
    """'toyfaces' (rendered at `resolution`, default 64) or a folder / zip of images."""
    if spec == "toyfaces":
        if use_labels:
            raise StyleforgeError("toyfaces has no class labels; drop --cond")
        return ToyFaces(resolution or 64, seed=seed, size=max_size)
    dataset = ImageDataset(spec, use_labels=use_labels, max_size=max_size)
    if resolution is not None and resolution != dataset.resolution:
        raise StyleforgeError(f"{spec} has {dataset.resolution}px images, not {resolution}px; "
                              "resize it with `styleforge dataset`")
    return dataset


__all__ = ["open_dataset", "ImageDataset", "ToyFaces", "FACTOR_NAMES"]
