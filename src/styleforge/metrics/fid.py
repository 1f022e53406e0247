"""Fréchet Inception Distance (Heusel et al. 2017) with the reference's computation
(stylegan2-ada-pytorch `metrics/frechet_inception_distance.py`)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from ..errors import StyleforgeError


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean [D], covariance [D, D]) of features [N, D] (covariance with N − 1, like np.cov)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise StyleforgeError("statistics need at least 2 feature vectors of shape [N, D]")
    return features.mean(axis=0), np.cov(features, rowvar=False)


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
