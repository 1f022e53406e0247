"""Helpers shared by the command implementations: loading a generator, class checks, output
folders, progress bars."""

import sys
import time
from pathlib import Path

from tqdm import tqdm

from ..checkpoint import load
from ..errors import StyleforgeError
from ..latents import one_hot
from ..models import Generator
from ..models.precision import apply_precision

LOG_EVERY_S = 30  # seconds between progress lines when stderr is not a terminal


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


def apply_input_transform(G: Generator, translate: tuple[float, float], rotate: float) -> None:
    """--translate / --rotate: only the alias-free (StyleGAN3) generator has an input to transform."""
    if not hasattr(G.synthesis, "set_transform"):
        raise StyleforgeError(f"--translate / --rotate move StyleGAN3 (alias-free) images; this model is "
                              f"{G.config.family}, whose input is a learned constant")
    G.synthesis.set_transform(translate, rotate)


def model_truncation(G: Generator, psi: float | None, cutoff: int | None = None) -> tuple[float, int | None]:
    """(ψ, cutoff) of --trunc / --trunc-cutoff, or the truncation the model was released with (its
    config's default_psi / default_cutoff: StyleGAN v1 pickles record 0.7 and 8) when --trunc is not given."""
    if psi is not None:
        return psi, cutoff
    return G.config.default_psi, cutoff if cutoff is not None else G.config.default_cutoff


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


class LogProgress:
    """Progress for logs and CI (no terminal): a line on stderr at least every `every` seconds with
    the count, the rate and the time left, and one when done. The parts of tqdm's API commands use."""

    def __init__(self, total: int, description: str, unit: str = "img", every: float = LOG_EVERY_S,
                 stream=None):
        self.total, self.description, self.unit, self.every = total, description, unit, every
        self.stream = stream or sys.stderr
        self.n, self.postfix = 0, ""
        self.started = self.said = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += n
        if time.monotonic() - self.said >= self.every:
            self._say()

    def set_postfix(self, **values) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def _say(self, done: bool = False) -> None:
        self.said = time.monotonic()
        elapsed = self.said - self.started
        rate = self.n / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.n) / rate if rate > 0 and self.total else None
        parts = [f"{self.description}: {self.n}/{self.total} {self.unit}" if self.total else
                 f"{self.description}: {self.n} {self.unit}", f"{_clock(elapsed)} elapsed"]
        if not done and left is not None:
            parts.append(f"~{_clock(left)} left")
        if done:
            parts.append("done")
        if self.postfix:
            parts.append(self.postfix)
        print(", ".join(parts), file=self.stream, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, *rest) -> None:
        if kind is None and self.n:
            self._say(done=True)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress_bar(total: int, description: str, unit: str = "img"):
    """A tqdm bar with time left on a terminal; elsewhere (logs, CI) a line at least every 30 s."""
    if sys.stderr.isatty():
        return tqdm(total=total, desc=description, unit=unit, leave=True)
    return LogProgress(total, description, unit)
