"""Linear separability of a latent space (StyleGAN paper, Sec. 4.2): for each factor, the half of the
samples the attribute predictor is most confident about, a linear SVM from the latent codes to the
predicted label, and the conditional entropy H(Y | X) of the predictor's label Y given the SVM's side
X, in bits; the score is 2^(Σ_factors H) (1 = perfectly separable, lower is better)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.svm import LinearSVC

from ..errors import StyleforgeError


def conditional_entropy_bits(labels: np.ndarray, sides: np.ndarray) -> float:
    """H(Y | X) in bits for binary arrays Y (labels) and X (sides)."""
    total = 0.0
    for side in (0, 1):
        chosen = labels[sides == side]
        if len(chosen) == 0:
            continue
        p = chosen.mean()
        h = 0.0 if p in (0.0, 1.0) else -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
        total += len(chosen) / len(labels) * h
    return float(total)


def separability(codes, probabilities, names: list[str] | None = None, seed: int = 0) -> dict:
    """{'score': 2^ΣH, 'per_factor': {name: H in bits}} for codes [N, D] and per-factor probabilities
    (or values) in [0, 1] [N, K]; each factor is split at 0.5 and its most confident half kept."""
    codes = codes.detach().cpu().numpy() if isinstance(codes, torch.Tensor) else np.asarray(codes)
    probabilities = np.asarray(probabilities, np.float64)
    if codes.ndim != 2 or probabilities.ndim != 2 or len(codes) != len(probabilities):
        raise StyleforgeError("separability needs codes [N, D] and probabilities [N, K] with the same N")
    names = names or [f"factor{k}" for k in range(probabilities.shape[1])]
    x = (codes - codes.mean(0)) / (codes.std(0) + 1e-12)
    per_factor = {}
    for k, name in enumerate(names):
        confidence = np.abs(probabilities[:, k] - 0.5)
        keep = np.argsort(-confidence, kind="stable")[: len(codes) // 2]
        labels = (probabilities[keep, k] > 0.5).astype(np.int64)
        if len(np.unique(labels)) < 2:
            per_factor[name] = 0.0  # one class only: nothing to separate
            continue
        svm = LinearSVC(C=1.0, max_iter=20_000, random_state=seed).fit(x[keep], labels)
        per_factor[name] = conditional_entropy_bits(labels, svm.predict(x[keep]))
    return {"score": float(2 ** sum(per_factor.values())), "per_factor": per_factor}
