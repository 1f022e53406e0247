"""Fréchet Inception Distance (Heusel et al. 2017) with the reference's computation
(stylegan2-ada-pytorch `metrics/frechet_inception_distance.py`)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from .features import feature_pair
from .registry import Metric, register
from .statistics import feature_statistics


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """FID (Heusel et al. 2017, Eq. 6): |μ1 − μ2|² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½), with scipy's sqrtm
    and its imaginary rounding residue dropped, as the reference computes it."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    m = np.square(mu1 - mu2).sum()
    with warnings.catch_warnings():  # singular products (N ≤ D) are expected; the reference uses disp=False
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        s = scipy.linalg.sqrtm(np.dot(sigma1, sigma2))
    return float(np.real(m + np.trace(sigma1 + sigma2 - s * 2)))


def compute(G, spec, dataset, context) -> dict:
    """FID of G's images against the dataset's (Inception pool_3 statistics)."""
    record, fake, real, extractor = feature_pair(G, spec, dataset, context, kind="mean_cov")
    fewest = min(record["num_real"], spec.num)
    if fewest <= extractor.dims:
        record["warning"] = (f"{fewest} samples for {extractor.dims}-d features: the covariances are singular "
                             "and FID is biased upwards; use 10k or more")
    return {**record, "value": frechet_distance(real["mean"], real["cov"], *feature_statistics(fake))}


register(Metric("fid", compute, 50_000, True, "inception", "Fréchet Inception distance (Heusel et al. 2017)",
                "fid[N][_full]", full_variant=True))
