"""DCI: disentanglement, completeness and informativeness of a code (Eastwood & Williams, ICLR 2018),
under one of three named protocols (what predicts each factor from the code, on which samples):

- `stylespace` (Wu et al., CVPR 2021, Sec. 5; the authors' DCI.py): a factor is kept when more than 5 %
  of the samples lie on each side of its centre (a logit's 0; our predictor's 0.5); per kept factor the
  samples beyond its 2nd and 98th percentiles, labelled by side, half of them (shuffled) train a
  gradient-boosted classifier with scikit-learn's defaults, the other half measure its accuracy.
- `disentanglement_lib` (Locatello et al. 2019; google-research/disentanglement_lib `dci.py`): every
  factor, discretized as that library discretizes continuous values (a 20-bin histogram), is
  classified from the code by a gradient-boosted classifier with the defaults; train on 2/3 of the
  samples, accuracy on the rest (their 10,000 : 5,000).
- `regression`: every factor regressed from the standardized code (gradient-boosted trees, or Lasso
  with `method="lasso"`), 80 / 20 split, informativeness = held-out R² (accuracy for 0/1 factors).

Each importance matrix R [code dims, factors] gives
D = Σ_i ρ_i (1 − H_K(P_i·)), P_ij = R_ij / Σ_k R_ik, ρ_i = Σ_j R_ij / Σ R, entropy in base K (factors);
C = Σ_j ρ_j (1 − H_D(P̃_·j)), P̃_ij = R_ij / Σ_i R_ij, ρ_j = Σ_i R_ij / Σ R, entropy in base D (code dims).
C is normalized by the code's size, so spaces of different sizes (S: 9088 dims at config F, W: 512)
are not directly comparable in C (StyleSpace paper's caveat). The two reference protocols draw their
shuffles and trees from one `numpy.random.RandomState(seed)`, in the order the reference scripts draw
from numpy's global generator, so seeding that generator reproduces them."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.linear_model import Lasso, LogisticRegression

from ..errors import StyleforgeError

PROTOCOLS = ("stylespace", "disentanglement_lib", "regression")
METHODS = ("gbt", "lasso")        # the regression protocol's predictors
STYLESPACE_PERCENT = 2.0          # the extremes each side (their p_threshold)
STYLESPACE_KEEP = 0.05            # a factor needs more than this share of samples on each side
FACTOR_CENTRE = 0.5               # our predictor's outputs are in [0, 1]: 0.5 is a logit's 0
HISTOGRAM_BINS = 20               # disentanglement_lib's discretizer


def _as_array(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _is_binary(values: np.ndarray) -> bool:
    return set(np.unique(values)) <= {0.0, 1.0}


def _checked(codes, factors) -> tuple[np.ndarray, np.ndarray]:
    codes, factors = _as_array(codes).astype(np.float64), _as_array(factors).astype(np.float64)
    if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors) or len(codes) < 10:
        raise StyleforgeError("DCI needs codes [N, D] and factors [N, K] with the same N ≥ 10")
    return codes, factors


def stylespace_importance(codes, factors, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(R [D, kept], held-out accuracy [kept], the kept factors' indices) by the StyleSpace protocol."""
    codes, factors = _checked(codes, factors)
    attributes = factors - FACTOR_CENTRE
    least = int(len(codes) * STYLESPACE_KEEP)
    kept = [k for k in range(factors.shape[1])
            if (attributes[:, k] > 0).sum() > least and (attributes[:, k] < 0).sum() > least]
    rng = np.random.RandomState(seed)
    columns, accuracy, used = [], [], []
    for k in kept:
        a = attributes[:, k]
        extreme = (a > np.percentile(a, 100 - STYLESPACE_PERCENT)) | (a < np.percentile(a, STYLESPACE_PERCENT))
        x, y = codes[extreme], (a[extreme] > 0).astype(np.float64)
        order = np.arange(len(y))
        rng.shuffle(order)
        half = int(len(y) / 2)
        train, test = order[:half], order[half:]
        if len(np.unique(y[train])) < 2:  # too few samples for two classes (the reference script stops here)
            continue
        model = GradientBoostingClassifier(random_state=rng).fit(x[train], y[train])
        columns.append(np.abs(model.feature_importances_))
        accuracy.append(np.mean(model.predict(x[test]) == y[test]))
        used.append(k)
    importance = np.stack(columns, 1) if columns else np.zeros([codes.shape[1], 0])
    return importance, np.asarray(accuracy), used


def histogram_discretize(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> np.ndarray:
    """Each column's values → the index of their bin among `bins` equal-width bins over its range."""
    out = np.zeros_like(values)
    for k in range(values.shape[1]):
        out[:, k] = np.digitize(values[:, k], np.histogram(values[:, k], bins)[1][:-1])
    return out


def disentanglement_lib_importance(codes, factors, seed: int = 0,
                                   train_fraction: float = 2 / 3) -> tuple[np.ndarray, np.ndarray]:
    """(R [D, K], held-out accuracy [K]) by disentanglement_lib's protocol."""
    codes, factors = _checked(codes, factors)
    labels = histogram_discretize(factors)
    order = np.random.RandomState(seed).permutation(len(codes))
    cut = int(len(codes) * train_fraction)
    train, test = order[:cut], order[cut:]
    rng = np.random.RandomState(seed)
    importance, accuracy = np.zeros([codes.shape[1], factors.shape[1]]), np.zeros(factors.shape[1])
    for k in range(factors.shape[1]):
        model = GradientBoostingClassifier(random_state=rng).fit(codes[train], labels[train, k])
        importance[:, k] = np.abs(model.feature_importances_)
        accuracy[k] = np.mean(model.predict(codes[test]) == labels[test, k])
    return importance, accuracy


def importance_matrix(codes, factors, method: str = "gbt", test_fraction: float = 0.2, seed: int = 0,
                      n_estimators: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(R [D, K] of non-negative importances, held-out score [K]) by the regression protocol."""
    if method not in METHODS:
        raise StyleforgeError(f"DCI method must be one of {', '.join(METHODS)}, got {method!r}")
    codes, factors = _checked(codes, factors)
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


def dci(codes, factors, protocol: str = "stylespace", method: str = "gbt", test_fraction: float = 0.2,
        seed: int = 0, n_estimators: int = 50) -> dict:
    """{'disentanglement', 'completeness', 'informativeness' (floats), 'importance' [D, K'],
    'per_factor_informativeness' [K] (NaN for a factor the protocol leaves out), 'factors_used',
    'protocol', ...} for codes [N, D] and factors [N, K] (arrays or tensors). `method`, `test_fraction`
    and `n_estimators` belong to the regression protocol."""
    if protocol not in PROTOCOLS:
        raise StyleforgeError(f"DCI protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    count = _as_array(factors).shape[-1]
    if protocol == "stylespace":
        importance, scores, used = stylespace_importance(codes, factors, seed)
        if not used:
            raise StyleforgeError("the stylespace protocol has nothing to classify: no factor has more than 5 % of "
                                  "the samples on each side of its centre and both classes among its 2 % extremes "
                                  "(use more samples, or protocol disentanglement_lib / regression)")
    elif protocol == "disentanglement_lib":
        (importance, scores), used = disentanglement_lib_importance(codes, factors, seed), list(range(count))
    else:
        (importance, scores), used = importance_matrix(codes, factors, method, test_fraction, seed,
                                                       n_estimators), list(range(count))
    result = dci_from_importance(importance)
    per_factor = np.full(count, np.nan)
    per_factor[used] = scores
    result.update(informativeness=float(scores.mean()), per_factor_informativeness=per_factor,
                  importance=importance, factors_used=used, protocol=protocol,
                  method=method if protocol == "regression" else "gbt-classifier")
    return result
