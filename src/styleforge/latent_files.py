"""The one latent file: z, w, W+ or S codes with, optionally, per-pixel noise maps (a projection's
optimized maps), class labels, the sizes of the model they belong to and its fingerprint. Written
by `project`, `edit apply --save-latents`, the explorer's downloads and the Python API; read by every
command that takes latents. The reference projector's `projected_w.npz` (key `w`) is read too.

Tensors: exactly one of `z` [N, z_dim], `w` [N, w_dim], `ws` [N, num_ws, w_dim], `s` [N, s_dim]
(S flattened in synthesis order); `c` [N, c_dim] (labels, for z); `noise.<layer>` [N, 1, r, r].
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .errors import StyleforgeError, first_line
from .files import existing_file
from .latents import space_sizes
from .tagged import (check_finite, json_field, read_header, read_tagged, read_tagged_bytes, tagged_bytes,
                     write_tagged)

FORMAT = "styleforge.latent"
VERSION = 1
SPACES = ("z", "w", "ws", "s")
SPACE_NAMES = {"z": "Z", "w": "W", "ws": "W+", "s": "S"}
WHAT = "a styleforge latent file"


@dataclass
class LatentFile:
    """Codes in one space, with what came with them (see the module docstring)."""

    space: str                          # "z" | "w" | "ws" | "s"
    latent: torch.Tensor                # [N, ...] as the space says
    noise: dict = field(default_factory=dict)   # {synthesis layer name: [N, 1, r, r]}
    labels: torch.Tensor | None = None  # [N, c_dim]
    dims: dict = field(default_factory=dict)    # z_dim, w_dim, num_ws, s_dim, c_dim of the model
    model: str | None = None            # fingerprint of the model they came from
    info: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.latent.shape[0]


def model_dims(G) -> dict:
    sizes = space_sizes(G)
    return {"z_dim": sizes.z_dim, "w_dim": sizes.w_dim, "num_ws": sizes.num_ws, "s_dim": sizes.s_dim,
            "c_dim": int(getattr(G, "c_dim", 0))}


def fingerprint(G) -> str:
    """SHA-256 (first 16 hex digits) of a generator's weights and buffers, in state-dict order."""
    digest = hashlib.sha256()
    for name, value in G.state_dict().items():
        digest.update(name.encode())
        digest.update(value.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def noise_layers(G) -> dict:
    """{name: layer} of every synthesis layer with a noise input, in synthesis order."""
    return {name: module for name, module in G.synthesis.named_modules()
            if hasattr(module, "noise_const") and getattr(module, "use_noise", False)}


@contextlib.contextmanager
def noise_maps(G, maps: dict | None, rows: slice | None = None):
    """Within the block, G's `const` noise is `maps` (rows `rows` of each); G is restored after."""
    if not maps:
        yield
        return
    layers = noise_layers(G)
    if set(maps) != set(layers):
        differing = sorted(set(maps) ^ set(layers))
        raise StyleforgeError(f"the saved noise maps are for other layers than this model's "
                              f"({', '.join(differing)[:200]})")
    saved = {name: layer.noise_const for name, layer in layers.items()}
    try:
        for name, layer in layers.items():
            value = maps[name] if rows is None else maps[name][rows]
            if value.shape[-2:] != saved[name].shape[-2:]:
                raise StyleforgeError(f"noise map {name} is {list(value.shape[-2:])}; this model's layer "
                                      f"takes {list(saved[name].shape[-2:])}")
            layer.noise_const = value.to(saved[name].device, saved[name].dtype)
        yield
    finally:
        for name, layer in layers.items():
            layer.noise_const = saved[name]


def _tensors(latent: LatentFile) -> dict:
    if latent.space not in SPACES:
        raise StyleforgeError(f"latent space must be one of {', '.join(SPACES)}, got {latent.space!r}")
    tensors = {latent.space: latent.latent.detach().float()}
    if latent.labels is not None:
        tensors["c"] = latent.labels.detach().float()
    tensors.update({f"noise.{name}": value.detach().float() for name, value in latent.noise.items()})
    return tensors


def _metadata(latent: LatentFile) -> dict:
    return {"space": latent.space, "dims": latent.dims, "model": latent.model or "", "info": latent.info}


def latent_for(G, space: str, latent: torch.Tensor, noise: dict | None = None,
               labels: torch.Tensor | None = None, info: dict | None = None, model: str | None = None) -> LatentFile:
    """A LatentFile of G's codes, with G's sizes and fingerprint (`model`: G's fingerprint when the caller
    has it already — hashing every weight is not free for a large model)."""
    return LatentFile(space, latent.detach().cpu(), {k: v.detach().cpu() for k, v in (noise or {}).items()},
                      None if labels is None else labels.detach().cpu(), model_dims(G), model or fingerprint(G),
                      dict(info or {}))


def save_latents(path: str | os.PathLike, latent: LatentFile) -> Path:
    """Write a latent file (atomic)."""
    return write_tagged(path, FORMAT, VERSION, _tensors(latent), _metadata(latent))


def latents_bytes(latent: LatentFile) -> bytes:
    """The bytes of a latent file (for downloads)."""
    return tagged_bytes(FORMAT, VERSION, _tensors(latent), _metadata(latent))


def _from_tensors(path, tensors: dict, metadata: dict) -> LatentFile:
    spaces = [s for s in SPACES if s in tensors]
    if len(spaces) != 1:
        raise StyleforgeError(f"{path} holds {'no' if not spaces else 'several'} latent tensors "
                              f"(expected one of {', '.join(SPACES)})")
    space = spaces[0]
    noise = {k[len("noise."):]: v for k, v in tensors.items() if k.startswith("noise.")}
    dims = json_field(path, metadata, "dims") if "dims" in metadata else {}
    info = json_field(path, metadata, "info") if "info" in metadata else {}
    return LatentFile(space, tensors[space].float(), noise, tensors.get("c"), dims,
                      metadata.get("model") or None, info)


def read_latents(path: str | os.PathLike) -> LatentFile:
    """A latent file as written by styleforge (any version), or the reference projector's
    `projected_w.npz` (key `w`, [N, num_ws, w_dim])."""
    path = existing_file(path)
    header = read_header(path)
    if header is None:
        return _read_npz(path)
    # None: also the untagged 'ws' / 'w' / 's' files styleforge wrote before latent files were tagged
    metadata, tensors = read_tagged(path, (FORMAT, None), VERSION, WHAT)
    return _from_tensors(path, tensors, metadata)


def _read_npz(path: Path) -> LatentFile:
    try:
        with np.load(path, allow_pickle=False) as data:
            if "w" not in data:
                raise StyleforgeError(f"{path} has no array 'w' (keys: {', '.join(data.files)})")
            latent = torch.from_numpy(np.asarray(data["w"], dtype=np.float32))
    except StyleforgeError:
        raise
    except Exception as error:  # numpy's errors for damaged or foreign files
        raise StyleforgeError(f"{path} is not {WHAT} or a projected_w.npz ({first_line(error)})") from None
    check_finite({"w": latent}, str(path))
    return LatentFile("ws" if latent.ndim == 3 else "w", latent)


def latents_from_bytes(data: bytes, source: str = "upload") -> LatentFile:
    """A latent file from its bytes (as `latents_bytes` writes them)."""
    metadata, tensors = read_tagged_bytes(data, FORMAT, VERSION, WHAT, source)
    return _from_tensors(source, tensors, metadata)


def check_latents(latent: LatentFile, G, source: str) -> None:
    """Refuse codes of a model with other sizes (one line naming both)."""
    mine = model_dims(G)
    expected = {"z": (G.z_dim,), "w": (G.w_dim,), "ws": (G.num_ws, G.w_dim), "s": (mine["s_dim"],)}[latent.space]
    shape = tuple(latent.latent.shape[1:])
    if latent.latent.ndim != len(expected) + 1 or shape != expected:
        raise StyleforgeError(f"{source} holds {SPACE_NAMES[latent.space]} codes of shape "
                              f"{list(latent.latent.shape)}; this model takes [N, {', '.join(map(str, expected))}]"
                              + (f" (the file was written for a model with {_dims_text(latent.dims)})"
                                 if latent.dims else ""))
    if latent.labels is not None and latent.labels.shape != (latent.count, G.c_dim):
        raise StyleforgeError(f"{source} holds labels of shape {list(latent.labels.shape)}; this model takes "
                              f"[{latent.count}, {G.c_dim}]")
    for name, maps in latent.noise.items():
        if maps.ndim != 4 or maps.shape[0] != latent.count:
            raise StyleforgeError(f"{source}: noise map {name} has shape {list(maps.shape)}, expected "
                                  f"[{latent.count}, 1, r, r]")


def _dims_text(dims: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in dims.items())


__all__ = ["LatentFile", "save_latents", "read_latents", "latent_for", "latents_bytes", "latents_from_bytes",
           "check_latents", "noise_maps", "noise_layers", "fingerprint", "model_dims"]
