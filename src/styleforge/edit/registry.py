"""The editing-method registry: each method module registers itself — its name, a one-line
description, its settings (a dataclass: one field per option, with help) and one `compute` signature —
and the CLI (`styleforge edit METHOD`), the explorer and the tests read it. Adding a method = one new
module that calls `register`, plus its import in `edit/__init__.py` (docs/architecture.md)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import StyleforgeError
from ..seeds import parse_at_least, parse_int_list


def setting(default, help: str, parse: Callable[[str], object] | None = None, choices: tuple | None = None):
    """A settings field: its default, its help line, how a command-line value is read (`parse` raises
    StyleforgeError or ValueError for a bad value; default: the default's type) and the allowed values."""
    return field(default=default, metadata={"help": help, "parse": parse, "choices": choices})


def name_list(text: str) -> tuple:
    """'smile,hat' → ('smile', 'hat'): factor names."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise StyleforgeError(f"expected comma-separated names, got {text!r}")
    return names


def index_list(text: str) -> tuple:
    """'0-4,7' → (0, 1, 2, 3, 4, 7): direction / component indices."""
    return tuple(parse_int_list(text, "indices"))


def at_least(low: int) -> Callable[[str], int]:
    """A parser of integers ≥ low (`seeds.parse_at_least`)."""
    return lambda text: parse_at_least(text, low)


def _no_progress(total: int, description: str):
    return contextlib.nullcontext(_Counter())


class _Counter:
    def update(self, n: int = 1) -> None:
        pass


@dataclass
class EditContext:
    """What a method may use besides G and its settings. Methods that learn from images scored by a
    predictor (`EditMethod.learns`) get `samples()` — the scored latent dataset, built on first use —
    and `scores(data, names)` ({factor: [N]}); `factors` are the chosen factor names (checked against
    the predictor), `fraction` the top / bottom share taken as positives / negatives, `seed` the seed
    of the samples, `psi` their truncation. `progress(total, description)` gives a context manager
    with `update(n)` (a bar on a terminal)."""

    predictor: object | None = None
    samples: Callable[[], object] | None = None
    scores: Callable[[object, list[str]], dict] | None = None
    factors: list[str] = field(default_factory=list)
    fraction: float = 0.02
    seed: int = 0
    psi: float = 1.0
    progress: Callable = _no_progress

    def factor_names(self, names: list[str] | None) -> list[str]:
        """Factor names checked against what the predictor reads (all of them when `names` is empty)."""
        known = list(self.predictor.config.factors) if self.predictor is not None else []
        names = list(names or known)
        unknown = [n for n in names if self.predictor is not None and n not in known]
        if unknown:
            raise StyleforgeError(f"unknown factor {unknown[0]!r}; the predictor reads: {', '.join(known)}")
        return names


@dataclass
class MethodResult:
    """What `compute` returns: the edits, records written as JSON beside the edit file
    ({suffix: data} → OUT.suffix.json) and lines to print."""

    edits: list
    records: dict = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EditMethod:
    """One editing method: `compute(G, settings, context) -> MethodResult`; `settings` is the
    dataclass of its options; `learns`: it needs scored samples (the CLI adds --predictor, --factors,
    --samples, …); `label(edit)` names an edit's method in comparison tables (default: the name)."""

    name: str
    description: str
    settings: type
    compute: Callable
    learns: bool = False
    needs_predictor: bool = False
    label: Callable | None = None
    examples: tuple = ()              # command lines for `styleforge edit --help`

METHODS: dict[str, EditMethod] = {}


def register(method: EditMethod) -> EditMethod:
    """Add an editing method to the registry (called once by the module that defines it)."""
    if method.name in METHODS:
        raise ValueError(f"edit method {method.name!r} is registered twice")
    if not dataclasses.is_dataclass(method.settings):
        raise TypeError(f"edit method {method.name!r}: settings must be a dataclass")
    METHODS[method.name] = method
    return method


def method(name: str) -> EditMethod:
    """A registered method by name (one line listing them otherwise)."""
    if name not in METHODS:
        raise StyleforgeError(f"unknown edit method {name!r} (methods: {', '.join(METHODS)})")
    return METHODS[name]


def method_label(edit) -> str:
    """The comparison table's name for how an edit was found ('sefa-genforce', 'interfacegan-w', …)."""
    found = METHODS.get(edit.method)
    return found.label(edit) if found is not None and found.label is not None else edit.method


__all__ = ["EditMethod", "EditContext", "MethodResult", "METHODS", "register", "method", "method_label", "setting",
           "index_list", "name_list", "at_least"]
