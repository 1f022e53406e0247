"""`styleforge edit`: semantic edits — one action per registered editing method (`edit.registry`:
SeFa, GANSpace, InterFaceGAN, StyleSpace, …) computed into edit files with a figure, then `apply` to
seeds or projected latents and `compare`. The methods' options come from their settings dataclasses,
so the method actions are built only when `edit` is the command being parsed (reading the registry
imports torch, which `styleforge --help` must not wait for)."""

import argparse
import dataclasses

from ..names import STRENGTH_LIMIT
from .options import (ExamplesFormatter, add_command, add_model_options, bounded, device_type, path_list_type,
                      psi_type, seeds_type)

USE_EXAMPLES = """  styleforge edit apply --model m.safetensors --edit ifg.safetensors:smile --seeds 0-3 --strengths -3,0,3 --out smile.png
  styleforge edit apply --model m.safetensors --edit sefa.safetensors:0 --edit ifg.safetensors:hat=2 --projected-w out/projected_w.npz --out e.png --video e.mp4
  styleforge edit compare --model m.safetensors --predictor p.safetensors --edit sefa.safetensors --edit ifg.safetensors
Every method action writes the edit file (--out) and a figure beside it (rows = edits, columns =
strengths, one block per seed). Strengths are in units of each edit's σ: the spread of the model's own
latents along the direction (σ_c of the channel for StyleSpace). --edit FILE[:WHICH][=STRENGTH] picks
edits by name or index ('0-2'); a fixed =STRENGTH composes that edit with the swept ones.
Layers: all, coarse (4-8 px), middle (16-32 px), fine (64+ px), or W+ rows like 0-3."""

USE_ACTIONS = {
    "apply": "render seeds or projected latents with edits applied (figure, video, latents)",
    "compare": "measure every edit's effect on each factor and compare methods",
}
SUMMARY = "Find and apply semantic edits (SeFa, GANSpace, InterFaceGAN, StyleSpace)."


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


def _setting_type(spec: dataclasses.Field):
    """The argparse type of one settings field: its `parse` (or the default's type), errors as one line."""
    parse = spec.metadata.get("parse") or type(spec.default)

    def read(text: str):
        try:
            return parse(text)
        except ValueError as error:  # StyleforgeError included
            raise argparse.ArgumentTypeError(str(error) or f"cannot read {text!r}") from None
    read.__name__ = spec.name
    return read


def _shown(value) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def _settings_options(sub, method) -> None:
    """One option per field of the method's settings dataclass (bool fields are switches)."""
    for spec in dataclasses.fields(method.settings):
        flag, text = "--" + spec.name.replace("_", "-"), spec.metadata.get("help", "")
        if isinstance(spec.default, bool):
            sub.add_argument(flag, action="store_true", help=text)
            continue
        if spec.default not in (None, ()):
            text += f" (default: {_shown(spec.default)})"
        sub.add_argument(flag, type=_setting_type(spec), default=spec.default, choices=spec.metadata.get("choices"),
                         help=text.replace("%", "%%"))


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


def _sample_options(sub, method) -> None:
    """The scored samples a learning method reads (--predictor, --factors, --samples, …)."""
    sub.add_argument("--predictor", required=method.needs_predictor, metavar="PATH", help="toyfaces attribute predictor file")
    sub.add_argument("--factors", type=_factor_list, default=None,
                     help="comma-separated factor names (default: all the predictor reads)")
    sub.add_argument("--samples", type=bounded(int, 50, 10_000_000, "--samples"), default=50_000,
                     help="latent samples scored by the predictor (50k: about 2 CPU minutes at 32 px)")
    sub.add_argument("--sample-seed", type=bounded(int, 0, 2 ** 32 - 1, "--sample-seed"), default=0,
                     help="seed of the latent samples")
    sub.add_argument("--fraction", type=bounded(float, 1e-4, 0.5, "--fraction"), default=0.02,
                     help="top / bottom share taken as positives / negatives")
    sub.add_argument("--latents", default=None, metavar="DIR",
                     help="keep the scored samples in DIR and reuse them when DIR already holds them")


def _factor_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated factor names, got {text!r}")
    return names


def register(commands, methods: bool = True) -> None:
    """The `edit` command; with `methods`, one action per registered editing method (imports them)."""
    registered = {}
    if methods:
        from ..edit import METHODS as registered  # on use: the methods' modules import torch
    examples = "\n".join(f"  {line}" for method in registered.values() for line in method.examples)
    parser = add_command(commands, "edit", SUMMARY, (examples + "\n" if examples else "") + USE_EXAMPLES)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
    texts = {**{name: method.description for name, method in registered.items()}, **USE_ACTIONS}
    subs = {name: actions.add_parser(name, help=text, description=text, formatter_class=ExamplesFormatter,
                                     epilog=parser.epilog) for name, text in texts.items()}
    for sub in subs.values():
        _model_options(sub)
    for name, method in registered.items():
        sub = subs[name]
        _figure_options(sub)
        if method.learns:
            _sample_options(sub, method)
        _settings_options(sub, method)

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
    compare.add_argument("--strength", type=bounded(float, 1e-3, STRENGTH_LIMIT, "--strength"), default=2.0,
                         help="± strength of the measurement, in units of σ")
    compare.add_argument("--json", default=None, metavar="PATH", help="also write the table as JSON")
