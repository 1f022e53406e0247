"""Seed and index lists in the reference tools' syntax ('0-7,12'), bounded before they are built."""

from .errors import StyleforgeError

MAX_LIST_LENGTH = 1_000_000  # seeds / indices in one list; larger lists are refused before being built


def parse_int_list(text: str, what: str = "seeds", limit: int = MAX_LIST_LENGTH) -> list[int]:
    """'0-7,12' → [0, 1, ..., 7, 12] (the reference tools' syntax; ranges are inclusive). At most
    `limit` values: the size is checked before any range is expanded."""
    values: list[int] = []
    if not isinstance(text, str) or not text.strip():
        raise StyleforgeError(f"{what}: expected a list like '0-7,12', got {text!r}")
    for part in text.split(","):
        part = part.strip()
        bounds = (part[:part.index("-", 1)], part[part.index("-", 1) + 1:]) if "-" in part[1:] else (part,)
        try:
            numbers = [int(b) for b in bounds]
        except ValueError:
            raise StyleforgeError(f"{what}: cannot read {part!r} in {text!r}; "
                                  "use numbers and ranges like '0-7,12'") from None
        lo, hi = numbers[0], numbers[-1]
        if hi < lo:
            raise StyleforgeError(f"{what}: range {part!r} runs backwards (write {hi}-{lo})")
        if len(values) + hi - lo + 1 > limit:
            raise StyleforgeError(f"{what}: {text!r} has more than {limit:,} values; split the work into "
                                  "smaller ranges")
        values.extend(range(lo, hi + 1))
    return values


def parse_at_least(text: str, low: int, what: str = "") -> int:
    """An integer ≥ low read from `text` (one line, naming `what` when given, otherwise)."""
    prefix = f"{what} " if what else ""
    try:
        value = int(text)
    except ValueError:
        raise StyleforgeError(f"{prefix}must be an integer, got {text!r}") from None
    if value < low:
        raise StyleforgeError(f"{prefix}must be at least {low}, got {value}")
    return value


def parse_seeds(text: str) -> list[int]:
    """Seeds in the reference's syntax; each must be in [0, 2**32) like numpy's RandomState."""
    seeds = parse_int_list(text, "seeds")
    bad = [s for s in seeds if not 0 <= s < 2 ** 32]
    if bad:
        raise StyleforgeError(f"seeds must be in 0..{2 ** 32 - 1}, got {bad[0]}")
    return seeds
