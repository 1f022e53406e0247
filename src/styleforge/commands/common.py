"""Helpers shared by the command implementations: loading a generator, class checks, output
folders, progress bars."""

import sys
from pathlib import Path

from tqdm import tqdm

from ..checkpoint import load
from ..errors import StyleforgeError
from ..latents import one_hot
from ..models import Generator
from ..models.precision import apply_precision


def load_generator(path: str, device: str = "cpu", network_key: str | None = None,
                   precision: str = "auto") -> Generator:
    """The generator of a model file on `device`; on CUDA its num_fp16_res highest blocks run in fp16
    as the reference runs them (precision "auto"), unless precision says otherwise."""
    model = load(path, network_key=network_key, device=device)
    if not isinstance(model, Generator):
        raise StyleforgeError(f"{path} holds a discriminator; this command needs a generator")
    if not apply_precision(model, precision) and precision.startswith("mixed"):
        print(f"note: {path} has num_fp16_res 0, so --precision {precision} runs everything in fp32",
              file=sys.stderr)
    return model


def check_class(G: Generator, class_index: int | None) -> None:
    """--class fits G (the rule of `latents.one_hot`, in the command line's words)."""
    one_hot(class_index, G.c_dim, 1, option="--class")


def output_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise StyleforgeError(f"--outdir {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def check_outputs(paths, force: bool, option: str = "--outdir") -> None:
    """Refuse to replace earlier results without --force (checked before any long work starts)."""
    existing = [str(p) for p in paths if Path(p).exists()]
    if existing and not force:
        more = f" (and {len(existing) - 1} more of its files)" if len(existing) > 1 else ""
        raise StyleforgeError(f"{option}: {existing[0]} already exists from an earlier run{more}; pass --force to "
                              "replace it, or choose another folder")


def progress_bar(total: int, description: str):
    """A tqdm bar on a terminal, nothing in logs."""

    return tqdm(total=total, desc=description, unit="img", disable=not sys.stderr.isatty(),
                leave=False)
