"""`styleforge edit`: semantic edits — SeFa, GANSpace, InterFaceGAN, StyleSpace — computed into edit
files with a figure, then applied to seeds or projected latents."""

import argparse

from ..names import STRENGTH_LIMIT
from .options import (ExamplesFormatter, add_command, add_model_options, device_type, int_list_type, path_list_type,
                      psi_type, seeds_type)

EXAMPLES = """  styleforge edit sefa --model toyfaces32.safetensors --out sefa.safetensors               # weights only, instant
  styleforge edit sefa --model m.safetensors --variant rosinality --layers coarse --directions 0-9 --out sefa.safetensors
  styleforge edit ganspace --model m.safetensors --samples 100000 --components 0-4 --layers 0-3 --out pca.safetensors
  styleforge edit interfacegan --model m.safetensors --predictor predictor.safetensors --factors smile,hat --out ifg.safetensors
  styleforge edit interfacegan --model m.safetensors --predictor p.safetensors --factors smile --conditions hat --out s.safetensors
  styleforge edit stylespace --model m.safetensors --predictor p.safetensors --top 3 --local-seeds 16 --out ss.safetensors
  styleforge edit apply --model m.safetensors --edit ifg.safetensors:smile --seeds 0-3 --strengths -3,0,3 --out smile.png
  styleforge edit apply --model m.safetensors --edit sefa.safetensors:0 --edit ifg.safetensors:hat=2 --projected-w out/projected_w.npz --out e.png --video e.mp4
  styleforge edit compare --model m.safetensors --predictor p.safetensors --edit sefa.safetensors --edit ifg.safetensors
Every compute action writes the edit file (--out) and a figure beside it (rows = edits, columns =
strengths, one block per seed). Strengths are in units of each edit's σ: the spread of the model's own
latents along the direction (σ_c of the channel for StyleSpace). --edit FILE[:WHICH][=STRENGTH] picks
edits by name or index ('0-2'); a fixed =STRENGTH composes that edit with the swept ones.
Layers: all, coarse (4-8 px), middle (16-32 px), fine (64+ px), or W+ rows like 0-3."""

ACTIONS = {
    "sefa": "closed-form directions from the generator's weights (SeFa)",
    "ganspace": "principal components of W (GANSpace)",
    "interfacegan": "SVM boundaries of attributes scored by the predictor (InterFaceGAN)",
    "stylespace": "attribute-specific and locally-active StyleSpace channels",
    "apply": "render seeds or projected latents with edits applied (figure, video, latents)",
    "compare": "measure every edit's effect on each factor and compare methods",
}


def strength_list_type(text: str) -> list[float]:
    """'-3,-1.5,0,3' → floats; 'A:B:N' → N evenly spaced values from A to B; each within ±STRENGTH_LIMIT."""
    try:
        if text.count(":") == 2:
            lo, hi, n = text.split(":")
            lo, hi, n = float(lo), float(hi), int(n)
            if not 1 <= n <= 64:
                raise ValueError
            values = [lo + (hi - lo) * i / max(n - 1, 1) for i in range(n)] if abs(lo) <= STRENGTH_LIMIT >= abs(hi) \
                else [lo, hi]
        else:
            values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"strengths: expected numbers like '-3,0,3' or a range "
                                         f"'-3:3:7' (at most 64 values), got {text!r}") from None
    if not values or len(values) > 64:
        raise argparse.ArgumentTypeError(f"strengths: expected 1 to 64 numbers, got {text!r}")
    if not all(abs(v) <= STRENGTH_LIMIT for v in values):  # NaN fails this too
        raise argparse.ArgumentTypeError(f"strengths must be in -{STRENGTH_LIMIT:g}..{STRENGTH_LIMIT:g} (units of "
                                         f"each edit's σ), got {text!r}")
    return values


def factor_list_type(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated factor names, got {text!r}")
    return names


def _model_options(sub) -> None:
    add_model_options(sub)
    sub.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")
    sub.add_argument("--trunc", type=psi_type, default=1.0, metavar="PSI", help="truncation psi of the samples")


def _figure_options(sub) -> None:
    sub.add_argument("--out", required=True, metavar="PATH", help="edit file to write (.safetensors)")
    sub.add_argument("--force", action="store_true", help="overwrite existing output files")
    sub.add_argument("--figure", default=None, metavar="PNG", help="figure path (default: --out with .png)")
    sub.add_argument("--no-figure", action="store_true", help="write the edit file only")
    sub.add_argument("--seeds", type=seeds_type, default=[0, 1, 2], help="seeds shown in the figure")
    sub.add_argument("--strengths", type=strength_list_type, default=[-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0],
                     help="figure columns, in units of σ: '-3,0,3' or '-3:3:7'")


def _sample_options(sub, samples: int) -> None:
    sub.add_argument("--predictor", required=sub.prog.endswith("stylespace"), metavar="PATH", help="toyfaces attribute predictor file")
    sub.add_argument("--factors", type=factor_list_type, default=None,
                     help="comma-separated factor names (default: all the predictor reads)")
    sub.add_argument("--samples", type=int, default=samples,
                     help="latent samples scored by the predictor (50k: about 2 CPU minutes at 32 px)")
    sub.add_argument("--sample-seed", type=int, default=0, help="seed of the latent samples")
    sub.add_argument("--fraction", type=float, default=0.02, help="top / bottom share taken as positives / negatives")
    sub.add_argument("--latents", default=None, metavar="DIR",
                     help="keep the scored samples in DIR and reuse them when DIR already holds them")


def register(commands) -> None:
    parser = add_command(commands, "edit", "Find and apply semantic edits (SeFa, GANSpace, InterFaceGAN, StyleSpace).",
                         EXAMPLES)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
    subs = {name: actions.add_parser(name, help=text, description=text, formatter_class=ExamplesFormatter,
                                     epilog=f"Examples:\n{EXAMPLES}") for name, text in ACTIONS.items()}
    for sub in subs.values():
        _model_options(sub)

    sefa = subs["sefa"]
    _figure_options(sefa)
    sefa.add_argument("--variant", choices=["genforce", "rosinality"], default="genforce",
                      help="genforce: normalized style weights of the layers (+ last ToRGB); rosinality: raw conv "
                           "modulation weights")
    sefa.add_argument("--layers", default="all", help="all, coarse, middle, fine or W+ rows like 0-3")
    sefa.add_argument("--directions", type=int_list_type, default=[0, 1, 2, 3, 4], help="direction indices to keep")

    ganspace = subs["ganspace"]
    _figure_options(ganspace)
    ganspace.add_argument("--samples", type=int, default=100_000, help="w samples for the PCA")
    ganspace.add_argument("--sample-seed", type=int, default=0, help="seed of the w samples")
    ganspace.add_argument("--components", type=int_list_type, default=[0, 1, 2, 3, 4], help="component indices")
    ganspace.add_argument("--layers", default="all", help="W+ rows each edit acts on: all, coarse, middle, fine, 0-3")

    interfacegan = subs["interfacegan"]
    _figure_options(interfacegan)
    _sample_options(interfacegan, 50_000)
    interfacegan.add_argument("--space", choices=["z", "w"], default="w", help="latent space of the boundaries")
    interfacegan.add_argument("--conditions", type=factor_list_type, default=None,
                              help="factors to hold fixed: their boundaries are projected out")
    interfacegan.add_argument("--layers", default="all", help="W+ rows a W edit acts on")
    interfacegan.add_argument("--to-distance", action="store_true",
                              help="strength = signed distance to the boundary (the released code's 2-D edit)")
    interfacegan.add_argument("--scores", default=None, metavar="NPY",
                              help="your own scores [N] for the samples in --latents, instead of the predictor's "
                                   "(with one --factors name)")

    stylespace = subs["stylespace"]
    _figure_options(stylespace)
    _sample_options(stylespace, 50_000)
    stylespace.add_argument("--top", type=int, default=1, help="channels kept per factor")
    stylespace.add_argument("--candidates", type=int, default=40,
                            help="channels ranked by θ that are checked with the predictor on held-out seeds; "
                                 "the --top with the most specific effect are kept (1 = θ alone)")
    stylespace.add_argument("--local-seeds", type=int, default=0, metavar="N",
                            help="also find locally-active channels per region over N images (gradient maps)")

    apply = subs["apply"]
    apply.add_argument("--edit", action="append", required=True, metavar="FILE[:WHICH][=STRENGTH]",
                       help="edit file, optionally :name or :indices and =fixed strength (repeatable)")
    source = apply.add_mutually_exclusive_group(required=True)
    source.add_argument("--seeds", type=seeds_type, help="seeds to edit")
    source.add_argument("--projected-w", type=path_list_type, metavar="FILES", help="latent files to edit")
    apply.add_argument("--strengths", type=strength_list_type, default=[-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0],
                       help="swept strengths, in units of σ")
    apply.add_argument("--out", required=True, metavar="PNG", help="figure to write")
    apply.add_argument("--video", default=None, metavar="PATH", help="also write a video sweeping the strength (.mp4/.gif)")
    apply.add_argument("--save-latents", default=None, metavar="PATH",
                       help="write the edited latents (W+ or S) at the last strength to a safetensors file")
    apply.add_argument("--force", action="store_true", help="overwrite existing output files")

    compare = subs["compare"]
    compare.add_argument("--predictor", required=True, metavar="PATH", help="toyfaces attribute predictor file")
    compare.add_argument("--edit", action="append", required=True, metavar="FILE[:WHICH]", help="edit files (repeatable)")
    compare.add_argument("--seeds", type=seeds_type, default=list(range(64)), help="seeds the effects are averaged over")
    compare.add_argument("--strength", type=float, default=2.0, help="± strength of the measurement, in units of σ")
    compare.add_argument("--json", default=None, metavar="PATH", help="also write the table as JSON")
