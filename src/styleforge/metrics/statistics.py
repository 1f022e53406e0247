"""Distances between feature sets with the reference definitions (stylegan2-ada-pytorch
`metrics/`): FID, KID, precision/recall, Inception Score. They take features or class
probabilities; the feature networks that produce them live beside this module."""

from __future__ import annotations

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
    s = scipy.linalg.sqrtm(np.dot(sigma1, sigma2))
    return float(np.real(m + np.trace(sigma1 + sigma2 - s * 2)))


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


def _kth_neighbour_radii(features: np.ndarray, k: int) -> np.ndarray:
    distances = np.sqrt(np.maximum(_squared_distances(features, features), 0))
    return np.sort(distances, axis=1)[:, k]  # column 0 is the point itself


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None, :]


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3, batch: int = 10_000) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019): precision = share of fake samples
    inside the real manifold (union of balls reaching each real sample's k-th neighbour), recall the
    converse."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if min(len(real), len(fake)) <= k:
        raise StyleforgeError(f"precision/recall with k={k} needs more than {k} samples per set")

    def covered(manifold: np.ndarray, probes: np.ndarray) -> float:
        radii = _kth_neighbour_radii(manifold, k)
        inside = []
        for start in range(0, len(probes), batch):
            d = np.sqrt(np.maximum(_squared_distances(probes[start:start + batch], manifold), 0))
            inside.append((d <= radii[None, :]).any(axis=1))
        return float(np.concatenate(inside).mean())

    return covered(real, fake), covered(fake, real)


def inception_score(probabilities: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """IS (Salimans et al. 2016): exp(E_x KL(p(y|x) ‖ p(y))) per split; (mean, std) over splits."""
    p = np.asarray(probabilities, np.float64)
    if len(p) < splits:
        raise StyleforgeError(f"inception score needs at least {splits} samples")
    scores = []
    for i in range(splits):  # the reference's split boundaries i·N // splits
        part = p[i * len(p) // splits:(i + 1) * len(p) // splits]
        kl = part * (np.log(part + 1e-30) - np.log(part.mean(axis=0, keepdims=True) + 1e-30))
        scores.append(np.exp(kl.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
