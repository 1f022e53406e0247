"""Latent interpolation videos as animated GIFs (PIL only, no ffmpeg)."""

from __future__ import annotations

import os

import numpy as np
import torch
from PIL import Image

from ..files import atomic_path
from ..latents import lerp
from ..pipeline import render, to_ws
from .grid import make_grid, to_uint8


@torch.no_grad()
def interpolation_frames(G, seeds: list[int], steps: int = 24, psi: float = 1.0, columns: int = 1,
                         noise_mode: str = "const") -> list[np.ndarray]:
    """Frames looping through the seeds (lerp in W, which stays on the learned manifold; StyleGAN
    Sec. 4.2). With columns > 1, each frame is a grid of `columns` loops with shifted seed orders."""
    loops = [to_ws(G, seeds=seeds[k:] + seeds[:k], psi=psi) for k in range(columns)]
    frames = []
    for i in range(len(seeds)):
        for t in np.linspace(0, 1, steps, endpoint=False):
            ws = torch.stack([lerp(w[i], w[(i + 1) % len(seeds)], float(t)) for w in loops])
            images = to_uint8(render(G, ws=ws, noise_mode=noise_mode, batch_size=len(ws)))
            frames.append(make_grid(images, cols=columns))
    return frames


def save_gif(frames: list[np.ndarray], path: str | os.PathLike, fps: int = 12, scale: int = 1) -> None:
    pictures = [Image.fromarray(f[:, :, 0] if f.shape[2] == 1 else f) for f in frames]
    if scale > 1:
        pictures = [p.resize((p.width * scale, p.height * scale), Image.NEAREST) for p in pictures]
    with atomic_path(path) as tmp:
        pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:],
                         duration=int(1000 / fps), loop=0)
