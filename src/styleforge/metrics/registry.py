"""The metric registry: each metric module registers itself (name, sample counts, what it needs, how
its names are written, how it is computed), and the CLI, `evaluate` and training snapshots read it.
Adding a metric = one new module that calls `register` (see docs/architecture.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import StyleforgeError


@dataclass(frozen=True)
class EvalContext:
    """What a metric's computation may use besides G, the spec and the data."""

    weights: dict                       # {'inception' | 'vgg' | 'lpips': path} given by the user
    cache: bool = True                  # reuse cached real-data statistics
    progress: Callable | None = None    # progress(n) after n images


@dataclass(frozen=True)
class Metric:
    """One metric family. `compute(G, spec, dataset, context)` returns the record's fields (at least
    'value'); `parse(text)` reads names with a syntax of their own (None: base[N][k][_full])."""

    name: str
    compute: Callable
    default_num: int
    needs_data: bool
    network: str | None                 # 'inception', 'vgg16', 'lpips' or None
    description: str
    syntax: str                         # how names are written, for help and errors
    max_real_full: int = 0              # real images of the `_full` variant (reference caps), 0 = all
    full_variant: bool = False
    parse: Callable[[str], "MetricSpec | None"] | None = None


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add a metric family to the registry (called once by the module that defines it)."""
    if metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} is registered twice")
    METRICS[metric.name] = metric
    return metric


def available() -> str:
    """The name syntax of every registered metric, for help texts and errors."""
    return ", ".join(m.syntax for m in METRICS.values())


@dataclass(frozen=True)
class MetricSpec:
    """One evaluation: a metric family with its counts and variant."""

    base: str
    num: int
    variant: str = ""      # PPL: '_wend', '_zfull', ...
    full: bool = False     # FID/KID/PR: real statistics over the whole dataset (reference caps apply)
    neighbours: int = 3    # PR: k of the k-NN radii

    @property
    def name(self) -> str:
        count = f"{self.num // 1000}k" if self.num % 1000 == 0 else str(self.num)
        if self.base == "prtv":
            count += str(self.neighbours) if count.endswith("k") else f"_k{self.neighbours}"
        if self.base == "ppl2":
            count = f"_{count}"
        return f"{self.base}{count}{self.variant}{'_full' if self.full else ''}"

    @property
    def info(self) -> Metric:
        return METRICS[self.base]

    def num_real(self, dataset) -> int:
        """Real images used: the fake count, or for `_full` the dataset (capped as the reference)."""
        if not self.info.needs_data:
            return 0
        size = len(dataset)
        if not self.full or size >= 2 ** 31:  # an endless dataset (toyfaces) has no "full"
            return self.num
        return min(size, self.info.max_real_full) if self.info.max_real_full else size


_PLAIN = re.compile(r"([a-z]+?)(\d+)?(k)?(_full)?")


def count(digits: str | None, thousands: str | None, default: int) -> int:
    """'50' 'k' → 50,000; no digits → the default."""
    return int(digits) * (1000 if thousands else 1) if digits else default


def parse_metric(text: str, num: int | None = None) -> MetricSpec:
    """'fid50k_full' → MetricSpec('fid', 50000, full=True); a bare 'swd' takes the default count;
    `num` overrides it. Families with a syntax of their own (PPL, PR) parse their names."""
    text = text.strip()
    spec = next((s for m in METRICS.values() if m.parse is not None and (s := m.parse(text)) is not None), None)
    if spec is None and (match := _PLAIN.fullmatch(text)) and match.group(1) in METRICS \
            and METRICS[match.group(1)].parse is None:
        metric = METRICS[match.group(1)]
        if match.group(4) and not metric.full_variant:
            raise StyleforgeError(f"{text}: only {', '.join(m.name for m in METRICS.values() if m.full_variant)} "
                                  "have a _full variant")
        spec = MetricSpec(metric.name, count(match.group(2), match.group(3), metric.default_num),
                          full=bool(match.group(4)))
    if spec is None:
        raise StyleforgeError(f"unknown metric {text!r}; available: {available()}")
    if num is not None:
        spec = MetricSpec(spec.base, num, spec.variant, spec.full, spec.neighbours)
    if spec.num < 2:
        raise StyleforgeError(f"{text}: needs at least 2 samples")
    return spec
