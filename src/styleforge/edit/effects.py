"""How much an edit moves each attribute, read by the attribute predictor from the edited images:
the measure behind the method comparison (target factor vs the largest change of any other)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..latents import z_from_seeds
from ..devices import device_of
from ..pipeline import render
from .edits import Edit, apply_edits


def edit_effects(G, predictor, edit: Edit, seeds: list[int], strength: float = 2.0, psi: float = 1.0,
                 batch_size: int = 64) -> np.ndarray:
    """[K] mean predicted change of every factor per `strength` units: (f(+strength) − f(−strength)) / 2
    averaged over the seeds' images (factors as the predictor reads them, in [0, 1])."""
    device = device_of(G)
    predictor = predictor.to(device)
    z = z_from_seeds(seeds, G.z_dim, device)
    readings = []
    for sign in (1.0, -1.0):
        latents = apply_edits(G, [(edit, sign * strength)], z=z, psi=psi)
        images = render(G, batch_size=batch_size, **latents).clamp(-1, 1)
        readings.append(predictor.predict(images).cpu().numpy().mean(0))
    return (readings[0] - readings[1]) / 2


def best_for_factor(effects: list[tuple[Edit, np.ndarray]], factor: int) -> tuple[Edit, float, float, str]:
    """(edit, effect on the factor, largest |effect| on another factor, that factor's index) for the
    edit of `effects` that moves `factor` most — the edit a user of an unsupervised method would pick."""
    edit, values = max(effects, key=lambda item: abs(item[1][factor]))
    others = np.abs(np.delete(values, factor))
    other_index = int(np.argmax(others))
    other_index += other_index >= factor
    return edit, float(values[factor]), float(np.abs(values[other_index])), other_index


def verified_edits(G, predictor, candidates: list[Edit], seeds: list[int], strength: float = 2.0,
                   keep: int = 1, psi: float = 1.0, progress: Callable[[int], None] | None = None) -> list[Edit]:
    """For each factor, the `keep` candidates (edits whose info names that factor) with the best ratio of
    target effect to the largest other effect on `seeds` — the automatic stand-in for the visual check
    of the top-ranked channels in StyleSpace Sec. 5. The ratio is stored in info['verified_ratio']."""
    names = list(predictor.config.factors)
    by_factor: dict[str, list[tuple[Edit, float]]] = {}
    for edit in candidates:
        factor = edit.info["factor"]
        effects = np.abs(edit_effects(G, predictor, edit, seeds, strength, psi))
        k = names.index(factor)
        ratio = float(effects[k] / max(np.delete(effects, k).max(), 1e-9))
        by_factor.setdefault(factor, []).append((edit, ratio))
        if progress is not None:
            progress(1)
    chosen = []
    for factor, scored in by_factor.items():
        for rank, (edit, ratio) in enumerate(sorted(scored, key=lambda item: -item[1])[:keep]):
            edit.info.update(verified_ratio=ratio, rank=rank)
            edit.name = factor if keep == 1 else f"{factor}-{rank}"
            chosen.append(edit)
    return chosen


def comparison_table(results: dict[str, list[tuple[Edit, np.ndarray]]], factor_names: list[str]) -> list[dict]:
    """One row per (factor, method): the method's edit for the factor (by name for supervised methods,
    the strongest on the factor otherwise), |target effect|, largest other effect and their ratio."""
    rows = []
    for k, factor in enumerate(factor_names):
        for method, effects in results.items():
            named = [(e, v) for e, v in effects if e.info.get("factor") == factor]
            candidates = named or [(e, v) for e, v in effects if "factor" not in e.info]
            if not candidates:
                continue
            edit, target, other, other_index = best_for_factor(candidates, k)
            rows.append({"factor": factor, "method": method, "edit": edit.name, "target": abs(target),
                         "other": other, "other_factor": factor_names[other_index],
                         "ratio": abs(target) / max(other, 1e-9)})
    return rows


def format_table(rows: list[dict]) -> str:
    """The comparison as a Markdown table."""
    lines = ["| factor | method | edit | Δ target | largest Δ other (factor) | ratio |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['factor']} | {r['method']} | {r['edit']} | {r['target']:.3f} | "
                     f"{r['other']:.3f} ({r['other_factor']}) | {r['ratio']:.2f} |")
    return "\n".join(lines)


@torch.no_grad()
def edit_strip_images(G, edits: list[Edit], strengths: list[float], *, z: torch.Tensor | None = None,
                      ws: torch.Tensor | None = None, psi: float = 1.0, fixed: tuple = (),
                      batch_size: int = 16, noise: dict | None = None) -> torch.Tensor:
    """Images [L, E, S, C, H, W] for L latents (z or W+), E edits, S strengths: the figure's cells, each
    with the `fixed` (edit, strength) pairs composed in. Without edits: one cell of the fixed ones alone.
    `noise`: the latents' own noise maps (a projection's), {layer: [L, 1, r, r]}."""
    count = (z if z is not None else ws).shape[0]
    rows, strengths = (edits, strengths) if edits else ([None], [0.0])
    cells = []
    for edit in rows:
        row = []
        for strength in strengths:
            chosen = list(fixed) + ([(edit, strength)] if edit is not None else [])
            latents = apply_edits(G, chosen, z=z, ws=ws, psi=psi)
            row.append(render(G, batch_size=batch_size, device="cpu", noise=noise, **latents))
        cells.append(torch.stack(row, 1))          # [L, S, C, H, W]
    return torch.stack(cells, 1).reshape(count, len(rows), len(strengths), *cells[0].shape[2:])
