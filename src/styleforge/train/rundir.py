"""Run directories `<outdir>/<NNNNN-desc>/` and finding checkpoints to resume from."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import StyleforgeError

CHECKPOINT_GLOB = "checkpoint-*.safetensors"


def create_run_dir(outdir: str | Path, desc: str) -> Path:
    """A new numbered run directory: one more than the highest number already in `outdir`."""
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise StyleforgeError(f"--outdir {outdir} exists and is not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in outdir.iterdir() if (m := re.match(r"(\d{5})-", p.name))]
    run_dir = outdir / f"{max(numbers, default=-1) + 1:05d}-{desc}"
    run_dir.mkdir()
    return run_dir


def checkpoints_in(run_dir: Path) -> list[Path]:
    """Checkpoints of a run, oldest first (names carry the image count)."""
    return sorted((run_dir / "checkpoints").glob(CHECKPOINT_GLOB))


def find_resume_checkpoint(resume: str, outdir: str | Path) -> Path | None:
    """'auto' → the newest checkpoint of the newest run in outdir (None if there is none);
    a run directory → its newest checkpoint; a file → itself."""
    if resume == "auto":
        outdir = Path(outdir)
        runs = sorted((p for p in outdir.iterdir() if re.match(r"\d{5}-", p.name) and p.is_dir()),
                      reverse=True) if outdir.is_dir() else []
        for run in runs:
            found = checkpoints_in(run)
            if found:
                return found[-1]
        return None
    path = Path(resume)
    if path.is_dir():
        found = checkpoints_in(path)
        if not found:
            raise StyleforgeError(f"--resume {path}: no checkpoints in that run directory")
        return found[-1]
    if not path.exists():
        raise StyleforgeError(f"--resume {path}: no such file or run directory")
    return path


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    for old in checkpoints_in(run_dir)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
