"""The native model file: safetensors tensors + metadata (format, version, kind, config JSON).

A file holds one network (G or D); the config in its metadata rebuilds the network with no other
input. No pickle is involved, and writes are atomic.
"""

import os
from pathlib import Path

import torch
from safetensors import safe_open

from ..config import CONFIG_CLASSES
from ..errors import StyleforgeError, first_line
from ..models import build_from_config
from ..tagged import check_finite, json_field, read_tagged_metadata, write_tagged

FORMAT_NAME = "styleforge.model"
FORMAT_VERSION = 1
WHAT = "a styleforge model"
HINT = "to import other formats see `styleforge convert`"


def save(model, path: str | os.PathLike) -> Path:
    """Write a G or D to `path` (safetensors) atomically; returns the path."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "kind", None) not in CONFIG_CLASSES:
        raise StyleforgeError("only styleforge Generator / Discriminator models can be saved")
    return write_tagged(path, FORMAT_NAME, FORMAT_VERSION, model.state_dict(),
                        {"kind": config.kind, "config": config.to_dict()})


def read_metadata(path: str | os.PathLike) -> dict:
    """The metadata of a native model file, with clear errors for anything else."""
    metadata = read_tagged_metadata(path, FORMAT_NAME, FORMAT_VERSION, WHAT, HINT)
    if metadata.get("kind") not in CONFIG_CLASSES:
        raise StyleforgeError(f"{path} is damaged: unknown model kind {metadata.get('kind')!r}")
    return metadata


def load(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Rebuild the G or D stored in a native model file, in eval mode."""
    metadata = read_metadata(path)
    config = CONFIG_CLASSES[metadata["kind"]].from_dict(json_field(path, metadata, "config"))
    model = build_from_config(config)
    own = model.state_dict()
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
            if shapes != {k: tuple(v.shape) for k, v in own.items()}:
                raise StyleforgeError(f"{path}: the stored tensors do not match the config in its metadata "
                                      "(the file is damaged)")
            with torch.no_grad():
                for name in f.keys():  # one tensor at a time: peak memory stays near the model's own
                    tensor = f.get_tensor(name)
                    check_finite({name: tensor}, str(path))
                    own[name].copy_(tensor)
    except StyleforgeError:
        raise
    except Exception as error:  # safetensors raises its own error types for corrupt data
        raise StyleforgeError(f"{path} is damaged: {first_line(error)}") from None
    return model.to(device).eval()
