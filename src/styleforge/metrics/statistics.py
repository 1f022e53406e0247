"""Feature statistics shared by FID and the real-data cache."""

from __future__ import annotations

import numpy as np

from ..errors import StyleforgeError


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean [D], covariance [D, D]) of features [N, D] (covariance with N − 1, like np.cov)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise StyleforgeError("statistics need at least 2 feature vectors of shape [N, D]")
    return features.mean(axis=0), np.cov(features, rowvar=False)
