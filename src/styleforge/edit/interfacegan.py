"""InterFaceGAN (Shen et al., CVPR 2020, Sec. 2 and 3): a linear SVM separates latents whose images
score high for an attribute from those that score low; its unit normal n is the editing direction
(z' = z + αn), and conditional manipulation projects condition boundaries out of it (Sec. 2.3)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.svm import SVC

from ..errors import StyleforgeError
from .edits import Edit, model_dims, parse_layers
from .registry import EditContext, EditMethod, MethodResult, name_list, register, setting

SPACES = ("z", "w")


def train_boundary(codes: np.ndarray, scores: np.ndarray, fraction: float = 0.02, train_split: float = 0.7,
                   seed: int = 0) -> tuple[np.ndarray, dict]:
    """(unit normal [D], {'val_accuracy', 'train_accuracy', 'positives', 'negatives'}): the top and
    bottom `fraction` of `codes` [N, D] by `scores` [N] are the positives and negatives, each split
    `train_split` / rest into training and validation, and a linear SVM through them gives n.
    (The boundary's offset is not kept: InterFaceGAN's boundaries pass through the origin.)"""
    codes, scores = np.asarray(codes, np.float64), np.asarray(scores, np.float64).reshape(-1)
    if codes.ndim != 2 or len(codes) != len(scores):
        raise StyleforgeError(f"codes [N, D] and scores [N] must have the same N, got {list(codes.shape)} "
                              f"and {len(scores)}")
    if not np.isfinite(scores).all():
        raise StyleforgeError("scores hold NaN or infinite values")
    if not 0 < fraction <= 0.5 or not 0 < train_split < 1:
        raise StyleforgeError("fraction must be in (0, 0.5] and the train split in (0, 1)")
    count = int(len(codes) * fraction)
    if count < 5:
        raise StyleforgeError(f"{len(codes)} samples give {count} positives at fraction {fraction}; "
                              "use more samples (at least 250 at 2 %)")
    order = np.argsort(scores, kind="stable")
    negatives, positives = order[:count], order[-count:]
    if scores[positives].min() <= scores[negatives].max():
        raise StyleforgeError("the top and bottom samples have the same score; this attribute does not vary")
    rng = np.random.RandomState(seed)
    split = int(count * train_split)
    train, val = [], []
    for label, rows in ((1, positives), (0, negatives)):
        rows = rng.permutation(rows)
        train += [(r, label) for r in rows[:split]]
        val += [(r, label) for r in rows[split:]]
    x_train, y_train = codes[[r for r, _ in train]], np.array([y for _, y in train])
    x_val, y_val = codes[[r for r, _ in val]], np.array([y for _, y in val])
    svm = SVC(kernel="linear").fit(x_train, y_train)
    normal = svm.coef_.reshape(-1)
    normal = normal / np.linalg.norm(normal)
    info = {"train_accuracy": float(svm.score(x_train, y_train)),
            "val_accuracy": float(svm.score(x_val, y_val)) if len(x_val) else float("nan"),
            "positives": int(count), "negatives": int(count)}
    return normal.astype(np.float32), info


def condition_boundary(primal: np.ndarray, conditions: list[np.ndarray]) -> np.ndarray:
    """The primal direction with the condition directions projected out, normalized (InterFaceGAN
    Sec. 2.3: n₁ − (n₁ᵀn₂)n₂ for one condition; for several, the least-squares projection onto the
    orthogonal complement of their span)."""
    primal = np.asarray(primal, np.float64)
    if not conditions:
        return primal.astype(np.float32)
    basis = np.stack([np.asarray(c, np.float64) for c in conditions], axis=1)  # [D, m]
    coefficients, *_ = np.linalg.lstsq(basis, primal, rcond=None)
    rest = primal - basis @ coefficients
    norm = np.linalg.norm(rest)
    if norm < 1e-6:
        raise StyleforgeError("the primal boundary lies in the span of the condition boundaries; nothing is left")
    return (rest / norm).astype(np.float32)


def interfacegan_edits(G, codes: np.ndarray, scores: dict[str, np.ndarray], space: str = "w",
                       conditions: list[str] | None = None, fraction: float = 0.02, seed: int = 0,
                       layers: tuple | None = None) -> list[Edit]:
    """One edit per attribute in `scores` ({name: [N]}), from latents `codes` [N, z_dim | w_dim] in
    `space`; with `conditions` (names in `scores`), each boundary has those projected out. The unit of
    strength is the codes' standard deviation along the normal (≈ 1 in Z)."""
    if space not in SPACES:
        raise StyleforgeError(f"InterFaceGAN space must be z or w, got {space!r}")
    expected = G.z_dim if space == "z" else G.w_dim
    codes = np.asarray(codes, np.float32)
    if codes.ndim != 2 or codes.shape[1] != expected:
        raise StyleforgeError(f"{space} codes must be [N, {expected}] for this model, got {list(codes.shape)}")
    conditions = list(conditions or [])
    unknown = [name for name in conditions if name not in scores]
    if unknown:
        raise StyleforgeError(f"unknown condition factor {unknown[0]!r} (known: {', '.join(scores)})")
    boundaries = {name: train_boundary(codes, values, fraction, seed=seed) for name, values in scores.items()}
    edits = []
    for name, (normal, info) in boundaries.items():
        others = [c for c in conditions if c != name]
        if others:
            normal = condition_boundary(normal, [boundaries[c][0] for c in others])
        unit = float(np.std(codes @ normal))
        label = name if not others else f"{name}-without-{'-'.join(others)}"
        edits.append(Edit(label, "interfacegan", space, torch.from_numpy(normal), unit=unit,
                          layers=layers if space == "w" else None, dims=model_dims(G),
                          info={"factor": name, "conditions": others, **info}))
    return edits


@dataclass(frozen=True)
class InterfaceganSettings:
    """Options of `styleforge edit interfacegan` (besides the scored samples' options)."""

    space: str = setting("w", "latent space of the boundaries", choices=SPACES)
    conditions: tuple = setting((), "factors to hold fixed: their boundaries are projected out", parse=name_list)
    layers: str = setting("all", "W+ rows a W edit acts on")
    to_distance: bool = setting(False, "strength = signed distance to the boundary (the released code's 2-D edit)")
    scores: str | None = setting(None, "your own scores [N] (.npy) for the samples in --latents, instead of the "
                                       "predictor's (with one --factors name)", parse=str)


def _own_scores(path: str, names: list[str], samples: int) -> dict[str, np.ndarray]:
    """--scores: one score per sample of the latent dataset, for exactly one factor name."""
    if len(names) != 1:
        raise StyleforgeError("--scores gives one score per sample: name it with exactly one --factors name")
    try:
        scores = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise StyleforgeError(f"--scores {path}: not a readable .npy file ({error})") from None
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(scores) != samples:
        raise StyleforgeError(f"--scores has {len(scores)} values for {samples} samples in --latents")
    return {names[0]: scores}


def _compute(G, settings: InterfaceganSettings, context: EditContext) -> MethodResult:
    if context.predictor is None and not settings.scores:
        raise StyleforgeError("give --predictor (or --scores with --latents)")
    if settings.scores and settings.conditions:
        raise StyleforgeError("--conditions needs the predictor's scores of the condition factors, not --scores")
    names = context.factor_names(context.factors)
    conditions = context.factor_names(list(settings.conditions)) if settings.conditions else []
    layers = parse_layers(G, settings.layers)
    if settings.space == "z" and layers is not None:
        raise StyleforgeError("--layers applies to W boundaries; Z edits move the whole code")
    data = context.samples()
    wanted = names + [c for c in conditions if c not in names]
    scores = (_own_scores(settings.scores, wanted, data.meta["samples"]) if settings.scores
              else context.scores(data, wanted))
    edits = interfacegan_edits(G, np.asarray(data.codes(settings.space)), scores, space=settings.space,
                               conditions=conditions, fraction=context.fraction, seed=context.seed, layers=layers)
    edits = [e for e in edits if e.info["factor"] in names]
    for edit in edits:
        edit.to_distance = settings.to_distance
    return MethodResult(edits)


register(EditMethod(
    "interfacegan", "SVM boundaries of attributes scored by the predictor (InterFaceGAN)", InterfaceganSettings,
    _compute, learns=True, label=lambda edit: f"interfacegan-{edit.space}",
    examples=("styleforge edit interfacegan --model m.safetensors --predictor predictor.safetensors --factors smile,hat --out ifg.safetensors",
              "styleforge edit interfacegan --model m.safetensors --predictor p.safetensors --factors smile --conditions hat --out s.safetensors")))
