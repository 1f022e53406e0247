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


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yields a temporary path; on success it replaces `path` (with the mode a plain new file would
    get under the umask, not mkstemp's 0600), on failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
