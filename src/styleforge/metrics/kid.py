"""Kernel Inception Distance (Bińkowski et al. 2018) with the reference's subsets
(stylegan2-ada-pytorch `metrics/kernel_inception_distance.py`)."""

from __future__ import annotations

import numpy as np

from ..errors import StyleforgeError
from .features import feature_pair
from .registry import Metric, register


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, num_subsets: int = 100,
                              max_subset_size: int = 1000, seed: int = 0) -> float:
    """KID (Bińkowski et al. 2018): unbiased MMD² with the cubic polynomial kernel
    k(x, y) = (xᵀy / d + 1)³, averaged over random subsets (reference: 100 subsets of ≤ 1000)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    n = real.shape[1]
    m = min(real.shape[0], fake.shape[0], max_subset_size)
    if m < 2:
        raise StyleforgeError("KID needs at least 2 samples in each set")
    rng = np.random.RandomState(seed)
    t = 0.0
    for _ in range(num_subsets):
        x = fake[rng.choice(fake.shape[0], m, replace=False)]
        y = real[rng.choice(real.shape[0], m, replace=False)]
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        t += (a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m
    return float(t / num_subsets / m)


def compute(G, spec, dataset, context) -> dict:
    """KID of G's images against the dataset's (Inception pool_3 features)."""
    record, fake, real, _ = feature_pair(G, spec, dataset, context)
    return {**record, "value": kernel_inception_distance(real["features"], fake), "subsets": 100,
            "subset_size": min(1000, record["num_real"], spec.num)}


register(Metric("kid", compute, 50_000, True, "inception", "kernel Inception distance (Bińkowski et al. 2018)",
                "kid[N][_full]", max_real_full=1_000_000, full_variant=True))
