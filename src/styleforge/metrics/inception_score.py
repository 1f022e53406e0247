"""Inception Score (Salimans et al. 2016) over 10 splits, as the reference computes it
(stylegan2-ada-pytorch `metrics/inception_score.py`)."""

from __future__ import annotations

import numpy as np
import torch

from ..devices import device_of
from ..errors import StyleforgeError
from .features import feature_pair
from .registry import Metric, register


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


def compute(G, spec, dataset, context) -> dict:
    """IS of G's images (Inception logits without the output bias, 10 splits)."""
    record, fake, _, extractor = feature_pair(G, spec, dataset, context)
    device = device_of(G)
    logits = extractor.network.logits(torch.from_numpy(fake).to(device), bias=False)
    mean, std = inception_score(torch.softmax(logits.double(), dim=1).cpu().numpy())
    return {**record, "value": mean, "std": std, "splits": 10, "output_bias": False}


register(Metric("is", compute, 50_000, False, "inception", "Inception score (Salimans et al. 2016)", "is[N]"))
