"""Option types and parser helpers shared by the command parsers (light: no torch at import time,
so `styleforge --help` and argument errors are instant)."""

import argparse
import os
from pathlib import Path

from ..errors import StyleforgeError
from ..names import GENERATOR_KEYS, MAX_SEED, MODEL_RELEASES, NETWORK_KEYS, NOISE_MODES, PSI_LIMIT
from ..seeds import parse_at_least, parse_int_list, parse_seeds


class ExamplesFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the 'Examples:' block as written and shows meaningful defaults."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def add_command(commands, name: str, help_text: str, examples: str) -> argparse.ArgumentParser:
    """The sub-parser of command `name`; its implementation is `styleforge.commands.<name>.run`."""
    parser = commands.add_parser(name, help=help_text, description=help_text,
                                 epilog=f"Examples:\n{examples}", formatter_class=ExamplesFormatter)
    parser.set_defaults(command_module=f"styleforge.commands.{name}")
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


def path_list_type(text: str) -> list[str]:
    """'a.npz,b/c.npz' → ['a.npz', 'b/c.npz'] (at least one path)."""
    paths = [part.strip() for part in text.split(",") if part.strip()]
    if not paths:
        raise argparse.ArgumentTypeError(f"expected comma-separated file paths, got {text!r}")
    return paths


def at_least(low: int, what: str):
    """An argparse type: an integer ≥ low (`seeds.parse_at_least`; one line otherwise)."""
    def parse(text: str) -> int:
        try:
            return parse_at_least(text, low, what)
        except StyleforgeError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    parse.__name__ = f"{what.strip('-').replace('-', '_')}_type"
    return parse


def bounded(kind, low, high, what: str):
    """An argparse type: a number of `kind` in [low, high] (one line naming the range otherwise)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if not low <= value <= high:  # NaN fails this too
            shown = (low, high) if kind is int else (f"{low:g}", f"{high:g}")
            raise argparse.ArgumentTypeError(f"{what} must be in {shown[0]}..{shown[1]}, got {text}")
        return value
    parse.__name__ = f"{what.replace(' ', '_')}_type"
    return parse


MAX_GRID_SIDE = 16  # rows or columns of loops side by side in one video


def grid_type(text: str) -> tuple[int, int]:
    """'2x3' → (2, 3): rows x columns, each 1..MAX_GRID_SIDE."""
    rows, _, cols = text.lower().partition("x")
    if not (rows.isdigit() and cols.isdigit() and 1 <= int(rows) <= MAX_GRID_SIDE and 1 <= int(cols) <= MAX_GRID_SIDE):
        raise argparse.ArgumentTypeError(f"--grid must look like 2x3 (rows x columns, each 1..{MAX_GRID_SIDE}), "
                                         f"got {text!r}")
    return int(rows), int(cols)


def translate_type(text: str) -> tuple[float, float]:
    """'0.1,-0.2' → (0.1, -0.2): a shift in units of the image width, each within ±10."""
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 2 or not all(abs(v) <= 10 for v in values):
        raise argparse.ArgumentTypeError(f"--translate takes X,Y (image widths, each within ±10), got {text!r}")
    return values


psi_type = bounded(float, -PSI_LIMIT, PSI_LIMIT, "truncation psi")
seed_type = bounded(int, 0, MAX_SEED, "seed")


def device_type(text: str) -> str:
    """A torch device that exists here: 'cpu', 'cuda', 'cuda:1', 'mps'."""
    from ..devices import check_device  # on use: cli/ stays free of torch at import time (instant --help)

    try:
        check_device(text)
    except StyleforgeError as error:
        raise argparse.ArgumentTypeError(str(error).replace("; use cpu", "; use --device cpu")) from None
    return text


MODEL_SUFFIXES = (".pkl", ".pt", ".pth", ".safetensors", ".ckpt")


def looks_like_model(value: str) -> bool:
    """A value that names a model file or URL rather than a network key."""
    return ("://" in value or "/" in value or os.sep in value or os.path.exists(value) or value in MODEL_RELEASES
            or Path(value).suffix.lower() in MODEL_SUFFIXES)


class NetworkOption(argparse.Action):
    """`--network`: a network key of a multi-network file, or (as in NVIDIA's tools, where --network
    is the model) a model file or URL, which then stands for the model option."""

    def __init__(self, option_strings, dest, keys=NETWORK_KEYS, model_dest="model", model_option="--model",
                 **kwargs):
        self.keys, self.model_dest, self.model_option = tuple(keys), model_dest, model_option
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, value, option_string=None):
        if value in self.keys:
            setattr(namespace, self.dest, value)
            return
        if not looks_like_model(value):
            parser.error(f"argument {option_string}: {value!r} is neither a network ({', '.join(self.keys)}) "
                         f"nor a model file; the model file goes to {self.model_option}")
        given = getattr(namespace, self.model_dest, None)
        if given is not None and given != value:
            parser.error(f"{option_string} {value} and {self.model_option} {given}: give the model once")
        setattr(namespace, self.model_dest, value)


def add_model_options(parser: argparse.ArgumentParser, keys=GENERATOR_KEYS, option: str = "--model",
                      help_text: str = "generator model file") -> None:
    """The model option (a file; required) and `--network-key` / `--network` (which network of a
    multi-network file; a model path given there is taken as the model, as NVIDIA's tools use it).
    The model is required after parsing (`missing_required_model`), so either option may carry it."""
    dest = option.lstrip("-").replace("-", "_")
    parser.add_argument(option, dest=dest, default=None, metavar="PATH",
                        help=f"{help_text}: a file, an http(s) URL or a release name (`styleforge models`); "
                             "required")
    parser.add_argument("--network-key", "--network", dest="network_key", action=NetworkOption, keys=keys,
                        model_dest=dest, model_option=option, default=None, metavar="|".join(keys),
                        help=f"network of a multi-network file: {', '.join(keys)} (default: {keys[0]}); "
                             f"a model path here is taken as {option}, as NVIDIA's tools use --network")
    parser.set_defaults(required_model=(option, dest))


def missing_required_model(args) -> str | None:
    """The model option's name when a command needs a model and neither option gave one."""
    option, dest = getattr(args, "required_model", None) or (None, None)
    return option if option is not None and getattr(args, dest, None) is None else None


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser)
    parser.add_argument("--trunc", type=psi_type, default=None, metavar="PSI",
                        help="truncation psi (1 = none, 0 = the average face; default: the model's own, 1 for "
                             "most, 0.7 on the first 8 rows for the StyleGAN v1 releases)")
    parser.add_argument("--noise-mode", choices=NOISE_MODES, default=None,
                        help="per-pixel noise: the model's fixed noise, fresh noise, or none (default: const, "
                             "or the noise maps a projection saved with its latents)")
    parser.add_argument("--class", dest="class_index", type=int, default=None, metavar="C",
                        help="class index for conditional models")
    parser.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")


def add_projection_options(parser: argparse.ArgumentParser) -> None:
    """The distance and w statistics of a projection (project, attribute)."""
    parser.add_argument("--distance", choices=["lpips", "pixel", "auto"], default="lpips",
                        help="lpips: LPIPS-VGG16 as the reference projector (weights fetched into the cache on "
                             "first use); pixel: MSE + (1 − SSIM), no weights; auto: same as lpips")
    parser.add_argument("--vgg-weights", default=None, metavar="PATH", help="VGG16 weights (vgg16-397923af.pth)")
    parser.add_argument("--lpips-weights", default=None, metavar="PATH", help="LPIPS v0.1 heads (vgg.pth)")
    parser.add_argument("--w-avg-samples", type=at_least(2, "--w-avg-samples"), default=10_000,
                        help="z samples for w_avg and its spread")
