"""Closed-form factorization (SeFa; Shen & Zhou, CVPR 2021, Sec. 3.2): the directions n that the
style affine maps A stretch most, max ‖A n‖² with ‖n‖ = 1 — the eigenvectors of AᵀA — computed from
the generator's weights alone, in the two published variants:

- "genforce" (the authors' release): A = the style-affine weights of the chosen layers stacked, each
  style channel's weight row scaled to unit length; `layers="all"` = every conv layer plus the last
  ToRGB (their layer index = W+ row; the last row feeds only the last ToRGB).
- "rosinality" (rosinality/stylegan2-pytorch `closed_form_factorization.py`): A = the stored
  modulation weights stacked as they are (no normalization), with `layers="all"` every conv layer and
  the 4×4 ToRGB (`to_rgb1`: their key filter excludes only `to_rgbs.*`), as the script reads them; an
  explicit layer choice reads those conv layers only. The directions are A's right singular vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import StyleforgeError
from .edits import Edit, model_dims, parse_layers, w_sigma
from .registry import EditContext, EditMethod, MethodResult, index_list, register, setting

VARIANTS = ("genforce", "rosinality")


def _affine_by_row(G) -> dict[int, torch.nn.Module]:
    """W+ row → the style affine SeFa reads for it: the conv layer of that row, and for the last row
    (which feeds only the last ToRGB) that ToRGB's."""
    synthesis = G.synthesis
    modules = [m for block in synthesis.blocks() for _, m in block.modulated_layers()]
    rows = {}
    for layer, module in zip(synthesis.style_layers, modules):
        if layer.kind == "input":  # StyleGAN3's Fourier input: its affine gives a transform, not styles
            continue
        if layer.kind == "conv" or layer.w_index not in rows:
            rows[layer.w_index] = module.affine
    return rows


def _conv_rows(G) -> list[int]:
    return sorted({layer.w_index for layer in G.style_layers if layer.kind == "conv"})


def sefa_layers(G, layers="all", variant: str = "genforce") -> list[int]:
    """The W+ rows whose affine weights a variant factorizes for `layers` ('all', 'coarse',
    'middle', 'fine', a list like '0-3' or a sequence of ints)."""
    if variant not in VARIANTS:
        raise StyleforgeError(f"SeFa variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    conv_rows = _conv_rows(G)
    if variant == "rosinality" and layers in ("all", None):
        return conv_rows
    rows = parse_layers(G, layers)
    styled = _affine_by_row(G)
    rows = sorted(styled) if rows is None else list(rows)
    unstyled = [r for r in rows if r not in styled]
    if unstyled:
        raise StyleforgeError(f"W+ row {unstyled[0]} drives no style affine (StyleGAN3's row 0 turns and shifts "
                              "the Fourier input); choose other rows")
    outside = [r for r in rows if r not in conv_rows]
    if variant == "rosinality" and outside:
        raise StyleforgeError(f"the rosinality variant reads conv layers only (W+ rows 0..{conv_rows[-1]}); "
                              f"row {outside[0]} feeds only the last ToRGB")
    return rows


def _first_to_rgb_affine(G) -> torch.nn.Module:
    """The 4×4 block's ToRGB affine: rosinality's `to_rgb1`, whose key passes their script's filter
    (`"modulation" in k and "to_rgbs" not in k`)."""
    modules = [m for block in G.synthesis.blocks() for _, m in block.modulated_layers()]
    return next(m.affine for m, layer in zip(modules, G.synthesis.style_layers) if layer.kind == "to_rgb")


def sefa(G, layers="all", variant: str = "genforce") -> tuple[torch.Tensor, torch.Tensor]:
    """(directions [w_dim, w_dim] — unit rows sorted by decreasing importance, values [w_dim] — the
    eigenvalues of AᵀA) for the chosen layers (SeFa Eq. 6; see the module docstring for A)."""
    rows = sefa_layers(G, layers, variant)
    affines = _affine_by_row(G)
    chosen = [affines[r] for r in rows]
    if variant == "rosinality" and layers in ("all", None):
        chosen.append(_first_to_rgb_affine(G))  # as their script reads it: every conv and to_rgb1
    weight = torch.cat([affine.weight.detach().double().cpu() for affine in chosen])  # [channels, w_dim]
    if variant == "genforce":
        weight = weight / weight.norm(dim=1, keepdim=True)
    _, singular, vh = torch.linalg.svd(weight, full_matrices=True)
    values = torch.zeros(weight.shape[1], dtype=torch.float64)
    values[:singular.numel()] = singular.square()
    order = torch.argsort(values, descending=True, stable=True)
    return vh[order].float(), values[order].float()


def sefa_edits(G, layers="all", variant: str = "genforce", indices: list[int] | None = None,
               samples: int = 10_000, seed: int = 0) -> list[Edit]:
    """SeFa directions as W edits on the rows they were computed from; the unit of strength is the
    standard deviation of mapped samples w along each direction."""
    directions, values = sefa(G, layers, variant)
    indices = list(range(min(10, len(directions)))) if indices is None else list(indices)
    bad = [i for i in indices if not 0 <= i < len(directions)]
    if bad:
        raise StyleforgeError(f"SeFa gives {len(directions)} directions for this model (0..{len(directions) - 1}); "
                              f"there is no direction {bad[0]}")
    rows = tuple(sefa_layers(G, layers, variant))
    edit_rows = None if len(rows) >= G.num_ws or (variant == "rosinality" and layers in ("all", None)) else rows
    chosen = directions[indices]
    units = w_sigma(G, chosen, samples, seed)
    return [Edit(f"sefa-{i}", "sefa", "w", chosen[k], unit=float(units[k]), layers=edit_rows,
                 dims=model_dims(G), info={"variant": variant, "index": i, "eigenvalue": float(values[i]),
                                           "layers": str(layers)})
            for k, i in enumerate(indices)]


@dataclass(frozen=True)
class SefaSettings:
    """Options of `styleforge edit sefa`."""

    variant: str = setting("genforce", "genforce: normalized style weights of the layers (+ last ToRGB); "
                                       "rosinality: raw conv modulation weights", choices=VARIANTS)
    layers: str = setting("all", "all, coarse, middle, fine or W+ rows like 0-3")
    directions: tuple = setting((0, 1, 2, 3, 4), "direction indices to keep, e.g. 0-9", parse=index_list)


def _compute(G, settings: SefaSettings, context: EditContext) -> MethodResult:
    return MethodResult(sefa_edits(G, layers=settings.layers, variant=settings.variant,
                                   indices=list(settings.directions)))


register(EditMethod(
    "sefa", "closed-form directions from the generator's weights (SeFa)", SefaSettings, _compute,
    label=lambda edit: f"sefa-{edit.info.get('variant', 'genforce')}",
    examples=("styleforge edit sefa --model toyfaces32.safetensors --out sefa.safetensors               # weights only, instant",
              "styleforge edit sefa --model m.safetensors --variant rosinality --layers coarse --directions 0-9 --out sefa.safetensors")))
