"""File helpers: atomic writes (temporary file beside the target, fsync, rename) and input checks."""

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import StyleforgeError, first_line

LOW_DISK_BYTES = 1 << 20  # below this much free space, a failed write is reported as a full disk


def existing_file(path: str | os.PathLike) -> Path:
    """`path` as a Path if it is an existing file; a clear error otherwise."""
    path = Path(path)
    if not path.exists():
        raise StyleforgeError(f"no such file: {path}")
    if path.is_dir():
        raise StyleforgeError(f"{path} is a folder, not a model file")
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_os_error(error: OSError) -> str:
    """One line for an OS error: what failed and on which path (no Python repr of the exception)."""
    reason = error.strerror or str(error) or type(error).__name__
    paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
    return f"{reason}: {' → '.join(paths)}" if paths else reason


def write_failure(path, error: BaseException) -> StyleforgeError:
    """One line for a write that a library reported as its own error type (safetensors, torch.save,
    ffmpeg): e.g. 'could not write m.safetensors: No space left on device'."""
    reason = first_line(error).rsplit("I/O error: ", 1)[-1].split(" (os error")[0]
    if "No space left" not in reason:
        try:
            free = shutil.disk_usage(Path(path).parent).free
        except OSError:
            free = None
        if free is not None and free < LOW_DISK_BYTES:  # torch / ffmpeg do not say why; a full disk is the usual cause
            reason = f"No space left on device ({free:,} bytes free)"
    return StyleforgeError(f"could not write {path}: {reason}")


def check_destination(path: str | os.PathLike, force: bool = False, option: str = "--dest") -> Path:
    """`path` as a Path if a file may be written there: not a folder, not under a file, and not an
    existing file unless `force` (nothing is overwritten silently)."""
    path = Path(path)
    if path.is_dir():
        raise StyleforgeError(f"{option} {path} is a folder; give a file name")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise StyleforgeError(f"{option} {path}: {parent} is a file, not a folder")
    if path.exists() and not force:
        raise StyleforgeError(f"{option} {path} already exists; pass --force to overwrite it")
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
