"""Improved precision and recall (Kynkäänniemi et al. 2019) on VGG16 fc2 features, as
stylegan2-ada-pytorch's `metrics/precision_recall.py` defines them — named `prtv`: the features come
from torchvision's VGG16 weights, not the reference's `vgg16.pt` (a TorchScript archive whose input
handling is in code we cannot run or read here), so the reference's name `pr50k3` is not used for
these numbers."""

from __future__ import annotations

import re

import numpy as np
import torch

from ..devices import device_of
from ..errors import StyleforgeError
from .features import feature_pair
from .registry import Metric, MetricSpec, count, register

_BLOCK_ELEMENTS = 1 << 25  # distances held at once (256 MiB in float64)


def _distance_blocks(rows: torch.Tensor, cols: torch.Tensor):
    """Euclidean distances rows × cols, yielded in row blocks that fit `_BLOCK_ELEMENTS`."""
    step = max(1, _BLOCK_ELEMENTS // len(cols))
    for start in range(0, len(rows), step):
        yield torch.cdist(rows[start:start + step], cols)


def _kth_neighbour_radii(features: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each sample to its k-th nearest other sample (index k counts itself as 0)."""
    return torch.cat([block.kthvalue(k + 1, dim=1).values for block in _distance_blocks(features, features)])


def _covered(manifold: torch.Tensor, probes: torch.Tensor, k: int) -> float:
    """Share of probes inside the union of balls around manifold samples reaching their k-th neighbour."""
    radii = _kth_neighbour_radii(manifold, k)
    inside = [(block <= radii[None, :]).any(dim=1) for block in _distance_blocks(probes, manifold)]
    return torch.cat(inside).double().mean().item()


def precision_recall(real, fake, k: int = 3, device=None) -> tuple[float, float]:
    """(precision, recall): precision = share of fakes inside the real manifold, recall the share of
    reals inside the fake one. Exact distances in float64 on the CPU (float32 on a GPU; the
    reference uses float16), memory bounded by computing them in blocks."""
    device = torch.device(device or "cpu")
    dtype = torch.float64 if device.type == "cpu" else torch.float32
    real = torch.as_tensor(np.asarray(real), dtype=dtype, device=device)
    fake = torch.as_tensor(np.asarray(fake), dtype=dtype, device=device)
    if min(len(real), len(fake)) <= k:
        raise StyleforgeError(f"precision/recall with k={k} needs more than {k} samples per set")
    return _covered(real, fake, k), _covered(fake, real, k)


def compute(G, spec, dataset, context) -> dict:
    """Precision and recall of G's images against the dataset's (VGG16 fc2 features)."""
    record, fake, real, _ = feature_pair(G, spec, dataset, context)
    device = device_of(G)
    precision, recall = precision_recall(real["features"], fake, k=spec.neighbours, device=device)
    return {**record, "value": precision, "precision": precision, "recall": recall, "k": spec.neighbours}


_NAME = re.compile(r"prtv(\d+)?(?:(k)(\d+)?|_k(\d+))?(_full)?")
_REFERENCE_NAME = re.compile(r"pr(\d+)?(?:(k)(\d+)?|_k(\d+))?(_full)?")


def parse(text: str) -> MetricSpec | None:
    """'prtv50k3_full' (k = 3), 'prtv500_k5', bare 'prtv' (50k, k = 3). The reference's names ('pr50k3')
    are refused with a pointer to these."""
    if _REFERENCE_NAME.fullmatch(text):
        raise StyleforgeError(f"{text} is the reference's precision/recall on NVIDIA's vgg16.pt, which styleforge "
                              f"cannot compute yet; {'prtv' + text[2:]} is the same definition on torchvision's "
                              "VGG16 weights (its numbers are not the reference's)")
    match = _NAME.fullmatch(text)
    if match is None:
        return None
    neighbours = int(match.group(3) or match.group(4) or 3)
    if neighbours < 1:
        raise StyleforgeError(f"{text}: k must be at least 1")
    return MetricSpec("prtv", count(match.group(1), match.group(2), 50_000), full=bool(match.group(5)),
                      neighbours=neighbours)


register(Metric("prtv", compute, 50_000, True, "vgg16",
                "precision and recall (Kynkäänniemi et al. 2019) on torchvision's VGG16 weights",
                "prtv[N]k[K][_full]", max_real_full=200_000, full_variant=True, parse=parse))
