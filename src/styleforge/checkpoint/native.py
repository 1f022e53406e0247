"""The native model file: safetensors tensors + metadata (format, version, kind, config JSON).

A file holds one network (G or D); the config in its metadata rebuilds the network with no other
input. No pickle is involved, and writes are atomic.
"""

import json
import os
import struct
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..config import CONFIG_CLASSES
from ..errors import StyleforgeError
from ..files import atomic_path, existing_file
from ..models import build_from_config
from ..state_dict import load_state_strict
from ..version import __version__

FORMAT_NAME = "styleforge.model"
FORMAT_VERSION = 1


def save(model, path: str | os.PathLike) -> Path:
    """Write a G or D to `path` (safetensors) atomically; returns the path."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "kind", None) not in CONFIG_CLASSES:
        raise StyleforgeError("only styleforge Generator / Discriminator models can be saved")
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "styleforge_version": __version__,
        "kind": config.kind,
        "config": json.dumps(config.to_dict(), sort_keys=True),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def _check_header(path, header) -> int:
    """The end of the tensor data a safetensors header describes; a clear error for a damaged header."""
    if not isinstance(header, dict):
        raise StyleforgeError(f"{path} has a damaged header (not a JSON object)")
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise StyleforgeError(f"{path} has damaged metadata (not a map of strings)")
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] and isinstance(shape, list)
                and all(isinstance(n, int) and n >= 0 for n in shape) and isinstance(entry.get("dtype"), str)):
            raise StyleforgeError(f"{path} has a damaged header entry for tensor {name!r}")
        end = max(end, offsets[1])
    return end


def read_metadata(path: str | os.PathLike) -> dict:
    """The metadata of a native model file, with clear errors for anything else."""
    path = existing_file(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise StyleforgeError(f"{path} is not a styleforge model file (too short)")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > 100_000_000:
            raise StyleforgeError(f"{path} is not a styleforge model file (not safetensors)")
        if 8 + header_len > size:
            raise StyleforgeError(f"{path} is truncated or not a styleforge model file")
        try:
            header = json.loads(f.read(header_len))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise StyleforgeError(f"{path} is not a styleforge model file (not safetensors)") from None
    data_end = _check_header(path, header)
    if 8 + header_len + data_end > size:
        raise StyleforgeError(f"{path} is truncated ({size} bytes, expected {8 + header_len + data_end})")
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != FORMAT_NAME:
        raise StyleforgeError(f"{path} is a safetensors file but not a styleforge model "
                              "(no styleforge metadata); to import other formats see `styleforge convert`")
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise StyleforgeError(f"{path}: bad format_version {metadata.get('format_version')!r}") from None
    if version > FORMAT_VERSION:
        raise StyleforgeError(
            f"{path} was written by a newer styleforge ({metadata.get('styleforge_version', '?')}, "
            f"format {version}); this is styleforge {__version__} (format {FORMAT_VERSION}): upgrade it")
    if metadata.get("kind") not in CONFIG_CLASSES:
        raise StyleforgeError(f"{path}: unknown model kind {metadata.get('kind')!r}")
    return metadata


def load(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Rebuild the G or D stored in a native model file, in eval mode."""
    metadata = read_metadata(path)
    try:
        config_dict = json.loads(metadata["config"])
    except (KeyError, json.JSONDecodeError):
        raise StyleforgeError(f"{path}: model config missing or unreadable") from None
    config = CONFIG_CLASSES[metadata["kind"]].from_dict(config_dict)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
            with torch.device("meta"):  # the config's shapes, before any memory is allocated
                expected = {k: tuple(v.shape) for k, v in build_from_config(config).state_dict().items()}
            if shapes != expected:
                raise StyleforgeError(f"{path}: the stored tensors do not match the config in its metadata "
                                      "(the file is damaged)")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except StyleforgeError:
        raise
    except Exception as error:  # safetensors raises its own error types for corrupt data
        raise StyleforgeError(f"{path} is corrupt: {str(error).splitlines()[0]}") from None
    model = build_from_config(config)
    load_state_strict(model, tensors, str(path))
    return model.to(device).eval()
