"""DCI: disentanglement, completeness and informativeness of a code (Eastwood & Williams, ICLR 2018),
computed as disentanglement_lib and the StyleSpace paper (Wu et al. 2021, Sec. 5) do: per factor a
regressor (or classifier for binary factors) predicts the factor from the code; its feature
importances form the matrix R [code dims, factors].

D = Σ_i ρ_i (1 − H_K(P_i·)), P_ij = R_ij / Σ_k R_ik, ρ_i = Σ_j R_ij / Σ R, entropy in base K (factors);
C = Σ_j ρ_j (1 − H_D(P̃_·j)), P̃_ij = R_ij / Σ_i R_ij, ρ_j = Σ_i R_ij / Σ R, entropy in base D (code dims);
I = the mean held-out score of the predictors (R² for continuous factors, accuracy for binary ones).
C is normalized by the code's size, so spaces of different sizes (S: 9088 dims at config F, W: 512)
are not directly comparable in C (StyleSpace paper's caveat)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.linear_model import Lasso, LogisticRegression

from ..errors import StyleforgeError

METHODS = ("gbt", "lasso")


def _as_array(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _is_binary(values: np.ndarray) -> bool:
    return set(np.unique(values)) <= {0.0, 1.0}


def importance_matrix(codes, factors, method: str = "gbt", test_fraction: float = 0.2, seed: int = 0,
                      n_estimators: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(R [D, K] of non-negative importances, held-out score [K]) from codes [N, D], factors [N, K]."""
    if method not in METHODS:
        raise StyleforgeError(f"DCI method must be one of {', '.join(METHODS)}, got {method!r}")
    codes, factors = _as_array(codes).astype(np.float64), _as_array(factors).astype(np.float64)
    if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors) or len(codes) < 10:
        raise StyleforgeError("DCI needs codes [N, D] and factors [N, K] with the same N ≥ 10")
    order = np.random.default_rng(seed).permutation(len(codes))
    cut = int(len(codes) * (1 - test_fraction))
    train, test = order[:cut], order[cut:]
    mean, std = codes[train].mean(0), codes[train].std(0) + 1e-12
    x = (codes - mean) / std
    importance = np.zeros([codes.shape[1], factors.shape[1]])
    scores = np.zeros(factors.shape[1])
    for k in range(factors.shape[1]):
        y = factors[:, k]
        binary = _is_binary(y)
        if binary and len(np.unique(y[train])) < 2:
            continue  # a factor that never varies carries no information
        if method == "gbt":
            model = (GradientBoostingClassifier if binary else GradientBoostingRegressor)(
                n_estimators=n_estimators, random_state=seed)
            model.fit(x[train], y[train])
            importance[:, k] = model.feature_importances_
        else:
            model = (LogisticRegression(penalty="l1", solver="liblinear", C=1.0) if binary
                     else Lasso(alpha=0.01, max_iter=5000))
            model.fit(x[train], y[train])
            importance[:, k] = np.abs(model.coef_).ravel()
        scores[k] = model.score(x[test], y[test])  # accuracy or R²
    return importance, scores


def _entropy(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy of each row of p in base `base` (0·log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return -terms.sum(axis=1) / np.log(base)


def dci_from_importance(importance: np.ndarray) -> dict:
    """D and C (and their per-code / per-factor terms) from an importance matrix R [D, K]."""
    R = np.abs(np.asarray(importance, np.float64))
    total = R.sum()
    if total <= 0:
        raise StyleforgeError("the importance matrix is all zeros: nothing predicts any factor")
    dims, factors = R.shape
    code_weight = R.sum(1) / total
    with np.errstate(invalid="ignore", divide="ignore"):
        per_code = 1 - _entropy(R / R.sum(1, keepdims=True), max(factors, 2))
    per_code = np.nan_to_num(per_code)  # unused code dims (zero rows) weigh nothing
    factor_weight = R.sum(0) / total
    with np.errstate(invalid="ignore", divide="ignore"):
        per_factor = 1 - _entropy((R / R.sum(0, keepdims=True)).T, max(dims, 2))
    per_factor = np.nan_to_num(per_factor)
    return {"disentanglement": float((code_weight * per_code).sum()),
            "completeness": float((factor_weight * per_factor).sum()),
            "per_code_disentanglement": per_code, "per_factor_completeness": per_factor}


def dci(codes, factors, method: str = "gbt", test_fraction: float = 0.2, seed: int = 0,
        n_estimators: int = 50) -> dict:
    """{'disentanglement', 'completeness', 'informativeness' (floats), 'importance' [D, K],
    'per_factor_informativeness' [K], ...} for codes [N, D] and factors [N, K] (arrays or tensors)."""
    importance, scores = importance_matrix(codes, factors, method, test_fraction, seed, n_estimators)
    result = dci_from_importance(importance)
    result.update(informativeness=float(scores.mean()), per_factor_informativeness=scores,
                  importance=importance, method=method)
    return result
