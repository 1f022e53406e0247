"""Helpers shared by the commands: option types, model loading, progress bars, output folders."""

import argparse
import sys
from pathlib import Path

from ..checkpoint import load
from ..errors import StyleforgeError
from ..latents import parse_int_list, parse_seeds
from ..models import Generator
from ..models.synthesis import NOISE_MODES


class ExamplesFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the 'Examples:' block as written and shows meaningful defaults."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def add_command(commands, name: str, help_text: str, examples: str, run) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text,
                                 epilog=f"Examples:\n{examples}", formatter_class=ExamplesFormatter)
    parser.set_defaults(run=run)
    return parser


def seeds_type(text: str) -> list[int]:
    try:
        return parse_seeds(text)
    except StyleforgeError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def int_list_type(text: str) -> list[int]:
    try:
        return parse_int_list(text, "list")
    except StyleforgeError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def psi_type(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"truncation psi must be a number, got {text!r}") from None


def device_type(text: str) -> str:
    """A torch device that exists here: 'cpu', 'cuda', 'cuda:1', 'mps'."""
    import torch

    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a torch device (e.g. cpu, cuda, cuda:1)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("CUDA is not available on this machine (this torch build or driver); "
                                         "use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise argparse.ArgumentTypeError(f"{text}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError("MPS is not available on this machine; use --device cpu")
    return text


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="PATH", help="generator model file")
    parser.add_argument("--trunc", type=psi_type, default=1.0, metavar="PSI",
                        help="truncation psi (1 = none, 0 = the average face)")
    parser.add_argument("--noise-mode", choices=NOISE_MODES, default="const",
                        help="per-pixel noise: the model's fixed noise, fresh noise, or none")
    parser.add_argument("--class", dest="class_index", type=int, default=None, metavar="C",
                        help="class index for conditional models")
    parser.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--network-key", "--network", dest="network_key", choices=["G_ema", "G"], default=None,
                        help="generator to use from a reference pickle or rosinality checkpoint "
                             "(default: G_ema)")


def load_generator(path: str, device: str = "cpu", network_key: str | None = None) -> Generator:
    model = load(path, network_key=network_key, device=device)
    if not isinstance(model, Generator):
        raise StyleforgeError(f"{path} holds a discriminator; this command needs a generator")
    return model


def check_class(G: Generator, class_index: int | None) -> None:
    if G.c_dim == 0 and class_index is not None:
        raise StyleforgeError("--class given, but this model is unconditional")
    if G.c_dim > 0 and class_index is None:
        raise StyleforgeError(f"this model is conditional: give --class (0..{G.c_dim - 1})")
    if G.c_dim > 0 and not 0 <= class_index < G.c_dim:
        raise StyleforgeError(f"--class must be in 0..{G.c_dim - 1}, got {class_index}")


def output_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise StyleforgeError(f"--outdir {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def progress_bar(total: int, description: str):
    """A tqdm bar on a terminal, nothing in logs."""
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="img", disable=not sys.stderr.isatty(),
                leave=False)
