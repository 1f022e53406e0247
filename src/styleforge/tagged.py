"""Our tagged safetensors files, read and written in one place: models, training states, edits,
predictors and latents all carry `format` + `format_version` (+ the styleforge version) in the
safetensors metadata. One writer (atomic), one reader (header and size guard, format and version
check, finite check) and one wording for damaged files.

Format detection relies on what safetensors guarantees (an 8-byte little-endian header length,
then a JSON object of that length that fits in the file), never on a first-byte guess: the
header length of a file we wrote can start with any byte (0x80 included, a pickle's first byte).
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from safetensors.torch import save_file

from .errors import StyleforgeError, first_line
from .files import atomic_path, existing_file, write_failure
from .version import __version__

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit on the JSON header


@dataclass
class SafetensorsHeader:
    """A parsed safetensors header: its length, the tensor entries and the string metadata."""

    length: int
    entries: dict       # {name: {"dtype", "shape", "data_offsets"}}
    metadata: dict      # {str: str}

    @property
    def data_end(self) -> int:
        return max((entry["data_offsets"][1] for entry in self.entries.values()), default=0)


def _valid_entry(entry) -> bool:
    if not isinstance(entry, dict):
        return False
    offsets, shape = entry.get("data_offsets"), entry.get("shape")
    return (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1] and isinstance(shape, list)
            and all(type(n) is int and n >= 0 for n in shape) and isinstance(entry.get("dtype"), str))


def read_header(path: str | os.PathLike) -> SafetensorsHeader | None:
    """The header of a safetensors file, or None when the file is not one: its first 8 bytes must be
    a little-endian length of a JSON object that fits in the file. A file that has such a header but
    damaged entries or missing tensor bytes raises a StyleforgeError (it is safetensors, damaged)."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return None
        (length,) = struct.unpack("<Q", head)
        if not 2 <= length <= MAX_HEADER_BYTES:
            return None
        text = f.read(length)
    if text[:1] != b"{":
        return None
    if 8 + length > size:  # a JSON object starts where the header should: safetensors, cut short
        raise StyleforgeError(f"{path} is truncated ({size:,} bytes; its header alone needs {8 + length:,})")
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(header, dict):
        return None
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise StyleforgeError(f"{path} is damaged: its metadata is not a map of strings")
    bad = next((name for name, entry in header.items() if not _valid_entry(entry)), None)
    if bad is not None:
        raise StyleforgeError(f"{path} is damaged: its header entry for tensor {bad!r} is not valid")
    parsed = SafetensorsHeader(length, header, metadata)
    if 8 + length + parsed.data_end > size:
        raise StyleforgeError(f"{path} is truncated ({size:,} bytes, its header describes "
                              f"{8 + length + parsed.data_end:,})")
    return parsed


def _fields(file_format: str, version: int, metadata: dict | None) -> dict:
    """String metadata: JSON for non-strings, plus the format tag, its version and ours."""
    fields = {key: value if isinstance(value, str) else json.dumps(value, sort_keys=True)
              for key, value in (metadata or {}).items()}
    fields.update(format=file_format, format_version=str(version), styleforge_version=__version__)
    return fields


def _cpu(tensors: dict) -> dict:
    return {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}


def write_tagged(path: str | os.PathLike, file_format: str, version: int, tensors: dict,
                 metadata: dict | None = None) -> Path:
    """Write `tensors` with `metadata` (values: strings, or anything JSON-serializable) tagged with
    `file_format` / `version` / the styleforge version; atomic (nothing is left half-written)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        try:
            save_file(_cpu(tensors), str(tmp), metadata=_fields(file_format, version, metadata))
        except SafetensorError as error:  # e.g. a full disk, reported as safetensors' own error type
            raise write_failure(path, error) from None
    return path


def tagged_bytes(file_format: str, version: int, tensors: dict, metadata: dict | None = None) -> bytes:
    """The bytes `write_tagged` would write (for downloads)."""
    return save_bytes(_cpu(tensors), metadata=_fields(file_format, version, metadata))


def read_tagged_bytes(data: bytes, file_format: str, version: int, what: str, source: str) -> tuple[dict, dict]:
    """(metadata, tensors) of one of our tagged files given as bytes (an upload)."""
    try:
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + length]) if 2 <= length <= min(MAX_HEADER_BYTES, len(data) - 8) else None
        tensors = load_bytes(data) if isinstance(header, dict) else None
    except Exception as error:  # struct / JSON / safetensors errors of foreign or damaged bytes
        raise StyleforgeError(f"{source} is not {what} ({first_line(error)})") from None
    if tensors is None:
        raise StyleforgeError(f"{source} is not {what} (not a safetensors file)")
    metadata = header.get("__metadata__") or {}
    check_tag(source, metadata, file_format, version, what)
    check_finite(tensors, source)
    return metadata, tensors


def check_tag(path, metadata: dict, file_format: str | tuple, version: int, what: str, hint: str = "") -> int:
    """The file's format version; one clear error for another format or a newer version. A format of
    None also accepts untagged safetensors (files written before that kind of file was tagged)."""
    formats = (file_format,) if isinstance(file_format, str) or file_format is None else tuple(file_format)
    if None in formats and "format" not in metadata:
        return 0
    found = metadata.get("format")
    if found not in formats:
        other = f" (it is a {found} file)" if found else ""
        raise StyleforgeError(f"{path} is not {what}{other}{'; ' + hint if hint else ''}")
    text = metadata.get("format_version", "1")
    try:
        found_version = int(text)
    except ValueError:
        raise StyleforgeError(f"{path} is damaged: bad format_version {text!r}") from None
    if found_version > version:
        raise StyleforgeError(f"{path} was written by a newer styleforge ({metadata.get('styleforge_version', '?')}, "
                              f"{found} version {found_version}); this is styleforge {__version__} "
                              f"(reads version {version} and older): upgrade it")
    return found_version


def read_tagged_metadata(path: str | os.PathLike, file_format: str | tuple, version: int, what: str,
                         hint: str = "") -> dict:
    """The metadata of one of our tagged files (only the header is read)."""
    path = existing_file(path)
    header = read_header(path)
    if header is None:
        raise StyleforgeError(f"{path} is not {what} (not a safetensors file){'; ' + hint if hint else ''}")
    check_tag(path, header.metadata, file_format, version, what, hint)
    return header.metadata


def read_tagged(path: str | os.PathLike, file_format: str | tuple, version: int, what: str, hint: str = "",
                keys=None, finite: bool = True) -> tuple[dict, dict]:
    """(metadata, tensors) of one of our tagged files; `keys` (a predicate on names) reads a subset.
    Damaged files, other formats and non-finite values each give one line."""
    metadata = read_tagged_metadata(path, file_format, version, what, hint)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys() if keys is None or keys(k)}
    except Exception as error:  # safetensors raises its own error types for corrupt data
        raise StyleforgeError(f"{path} is damaged: {first_line(error)}") from None
    if finite:
        check_finite(tensors, str(path))
    return metadata, tensors


def json_field(path, metadata: dict, key: str):
    """A JSON value stored in the metadata; one line when it is missing or unreadable."""
    try:
        return json.loads(metadata[key])
    except (KeyError, TypeError, json.JSONDecodeError):
        raise StyleforgeError(f"{path} is damaged: its metadata field {key!r} is missing or unreadable") from None



def all_finite(tensor: torch.Tensor) -> bool:
    """True when every value is finite: one reduction (a finite sum implies finite elements); only a
    sum that overflowed or met NaN / Inf is checked element by element."""
    if not tensor.is_floating_point() or tensor.numel() == 0:
        return True
    if bool(torch.isfinite(tensor.sum(dtype=torch.float64 if tensor.dtype == torch.float64 else torch.float32))):
        return True
    return bool(torch.isfinite(tensor).all())


def check_finite(tensors: dict, source: str) -> None:
    """Refuse NaN / Inf weights (damaged bytes would otherwise give black images or a NaN run)."""
    bad = [k for k, v in tensors.items() if not all_finite(v)]
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise StyleforgeError(f"{source} holds NaN or infinite values in {', '.join(bad[:3])}{more} "
                              "(the file is damaged, or was saved from a diverged run)")
