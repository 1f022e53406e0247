"""Run directories `<outdir>/<NNNNN-desc>/`: creating them, locking them against a second writer, and
finding checkpoints to resume from."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from ..errors import StyleforgeError

try:
    import fcntl  # optional: POSIX file locks
except ImportError:
    fcntl = None

CHECKPOINT_GLOB = "checkpoint-*.safetensors"
LOCK_NAME = ".lock"


def create_run_dir(outdir: str | Path, desc: str) -> Path:
    """A new numbered run directory: one more than the highest number already in `outdir` (a number
    taken by a concurrent run in between is skipped)."""
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise StyleforgeError(f"--outdir {outdir} exists and is not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in outdir.iterdir() if (m := re.match(r"(\d{5})-", p.name))]
    number = max(numbers, default=-1) + 1
    while True:
        run_dir = outdir / f"{number:05d}-{desc}"
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            number += 1


class RunLock:
    """An exclusive lock on a run directory (`.lock`, flock'ed while the run writes); a second
    process on the same run is refused. The kernel drops the lock when the process ends, so a crash
    leaves no stale lock behind."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_NAME
        self._file = None

    def __enter__(self) -> "RunLock":
        self._file = open(self.path, "a+")
        try:
            if fcntl is not None:  # elsewhere (Windows) the lock file only records the holder
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            raise StyleforgeError(f"{self.path.parent} is in use by {holder}; two runs cannot write one "
                                  "run directory (wait for it, or stop it first)") from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"process {os.getpid()} on {socket.gethostname()}\n")
        self._file.flush()
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the flock
            self.path.unlink(missing_ok=True)


def checkpoints_in(run_dir: Path) -> list[Path]:
    """Checkpoints of a run, oldest first (names carry the image count)."""
    return sorted((run_dir / "checkpoints").glob(CHECKPOINT_GLOB))


def resume_candidates(resume: str, outdir: str | Path) -> list[Path]:
    """Checkpoints to try, newest first: 'auto' → those of the newest run in `outdir` that has any
    (empty if none); a run directory → its checkpoints; a file → just that file."""
    if resume == "auto":
        outdir = Path(outdir)
        runs = sorted((p for p in outdir.iterdir() if re.match(r"\d{5}-", p.name) and p.is_dir()),
                      reverse=True) if outdir.is_dir() else []
        for run in runs:
            found = checkpoints_in(run)
            if found:
                return found[::-1]
        return []
    path = Path(resume)
    if path.is_dir():
        found = checkpoints_in(path)
        if not found:
            raise StyleforgeError(f"--resume {path}: no checkpoints in that run directory")
        return found[::-1]
    if not path.exists():
        raise StyleforgeError(f"--resume {path}: no such file or run directory")
    return [path]


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Remove all but the newest `keep` checkpoints (only ever called after a good one was written)."""
    for old in checkpoints_in(run_dir)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
