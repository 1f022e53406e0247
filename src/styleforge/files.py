"""File helpers: atomic writes (temporary file beside the target, fsync, rename) and input checks."""

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import StyleforgeError


def existing_file(path: str | os.PathLike) -> Path:
    """`path` as a Path if it is an existing file; a clear error otherwise."""
    path = Path(path)
    if not path.exists():
        raise StyleforgeError(f"no such file: {path}")
    if path.is_dir():
        raise StyleforgeError(f"{path} is a folder, not a model file")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yields a temporary path; on success it replaces `path`, on failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
