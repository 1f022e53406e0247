"""Projection inputs and outputs: target images read and fitted to a generator, and the files a
projection writes (`projected_w.npz` as the reference projector writes it, our latent file with the
noise maps, target.png, proj.png, projection.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.images import IMAGE_EXTENSIONS, image_channels, read_image, to_8bit
from ..errors import StyleforgeError
from ..files import atomic_path
from ..latent_files import LatentFile, latent_for, save_latents
from ..pipeline import render
from ..media import save_image, to_uint8
from .projector import Projection

MIN_TARGET_SIZE = 8  # pixels on the short side
PROJECTION_FILES = ("projected_w.npz", "projected.safetensors", "target.png", "proj.png", "projection.json")


def target_paths(path: str | Path) -> list[Path]:
    """One image file, or every image of a folder (sorted)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if not found:
            raise StyleforgeError(f"{path} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        return found
    if not path.exists():
        raise StyleforgeError(f"no such target image or folder: {path}")
    return [path]


def load_target(path: Path, G, note: Callable[[str], None] = lambda text: None) -> torch.Tensor:
    """A target image as [C, R, R] in [-1, 1] for G: center-cropped to a square and resized to G's
    resolution (each with a note), colour ↔ grey converted to G's channels."""
    return target_from_image(read_image(path.read_bytes(), str(path)), path.name, G, note)


def target_from_image(image: Image.Image, name: str, G, note: Callable[[str], None] = lambda text: None) -> torch.Tensor:
    """`load_target` for an image already decoded (e.g. an upload); `name` is used in messages."""
    width, height = image.size
    if min(width, height) < MIN_TARGET_SIZE:
        raise StyleforgeError(f"{name}: {width}×{height} is too small to project (at least "
                              f"{MIN_TARGET_SIZE} px on each side)")
    image = to_8bit(image, name)
    if image_channels(image) != G.img_channels:
        note(f"{name}: {'colour' if image.mode == 'RGB' else 'greyscale'} image converted to the "
             f"model's {G.img_channels} channel(s)")
    image = image.convert("L" if G.img_channels == 1 else "RGB")
    if width != height:
        side = min(width, height)
        note(f"{name}: {width}×{height} is not square; projecting its central {side}×{side} crop")
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if image.size[0] != G.img_resolution:
        image = image.resize((G.img_resolution, G.img_resolution), Image.LANCZOS)
    array = np.asarray(image, dtype=np.float32)
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.from_numpy(array.copy()) / 127.5 - 1


def projection_latent(G, projection: Projection, index: int) -> LatentFile:
    """Target `index` of a projection as a latent file: its W+ codes and optimized noise maps."""
    rows = slice(index, index + 1)
    return latent_for(G, "ws", projection.ws[rows], noise={k: v[rows] for k, v in projection.noise.items()},
                      info={"projection_space": projection.space, "distance_kind": projection.distance_kind})


def save_projection(outdir: Path, G, projection: Projection, index: int, target: torch.Tensor,
                    record: dict) -> list[Path]:
    """The files of target `index` in `outdir`: projected_w.npz (key 'w', [1, num_ws, w_dim], as the
    reference writes it), projected.safetensors (our latent file: W+ and the noise maps), target.png,
    proj.png (rendered from that latent file as every command renders it, so a re-render gives the
    same pixels), projection.json."""
    outdir.mkdir(parents=True, exist_ok=True)
    latent = projection_latent(G, projection, index)
    written = [outdir / name for name in PROJECTION_FILES]
    with atomic_path(written[0]) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, w=latent.latent.numpy())
    save_latents(written[1], latent)
    save_image(to_uint8(target[None])[0], written[2])
    save_image(to_uint8(render(G, latent_file=latent, device="cpu"))[0], written[3])
    with atomic_path(written[4]) as tmp:
        tmp.write_text(json.dumps(record, indent=2))
    return written
