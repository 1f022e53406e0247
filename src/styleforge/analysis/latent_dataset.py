"""Latent datasets: N samples with their codes in Z, W, W+ and S and the factors the attribute
predictor reads from their images, written batch by batch to .npy files (memory stays flat whatever
N), so that every analysis reads the same samples."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.lib.format import open_memmap

from ..errors import StyleforgeError
from ..latents import space_sizes, styles_to_vector
from ..devices import device_of
from .predictor import AttributePredictor

SPACES = ("z", "w", "wplus", "s")


@dataclass
class LatentDataset:
    """The arrays of a latent dataset folder (memory-mapped, read on demand)."""

    folder: Path
    meta: dict

    def codes(self, space: str) -> np.ndarray:
        if space not in SPACES:
            raise StyleforgeError(f"space must be one of {', '.join(SPACES)}, got {space!r}")
        return np.load(self.folder / f"{space}.npy", mmap_mode="r")

    @property
    def factors(self) -> np.ndarray:
        return np.load(self.folder / "factors.npy", mmap_mode="r")

    @property
    def factor_names(self) -> list[str]:
        return list(self.meta["factors"])


@torch.no_grad()
def build_latent_dataset(G, predictor: AttributePredictor, folder: str | Path, samples: int, seed: int = 0,
                         batch: int = 64, psi: float = 1.0,
                         progress: Callable[[int], None] | None = None) -> LatentDataset:
    """Sample `samples` z from `seed`, map them (truncation ψ), compute S and render; the predictor's
    factors of each image are stored beside the codes. Arrays: z [N, z_dim], w [N, w_dim],
    wplus [N, num_ws·w_dim], s [N, s_dim], factors [N, K] — written batch by batch."""
    if samples < 2:
        raise StyleforgeError("a latent dataset needs at least 2 samples")
    if G.c_dim:
        raise StyleforgeError("latent datasets are for unconditional generators")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = space_sizes(G)
    shapes = {"z": G.z_dim, "w": G.w_dim, "wplus": G.num_ws * G.w_dim, "s": sizes.s_dim,
              "factors": len(predictor.config.factors)}
    arrays = {name: open_memmap(folder / f"{name}.npy", mode="w+", dtype=np.float32, shape=(samples, width))
              for name, width in shapes.items()}
    rng = torch.Generator().manual_seed(seed)
    device = device_of(G)
    predictor = predictor.to(device)
    for start in range(0, samples, batch):
        n = min(batch, samples - start)
        z = torch.randn([n, G.z_dim], generator=rng).to(device)
        ws = G.mapping(z, psi=psi)
        styles = G.styles(ws)
        images = G.synthesis_from_styles(styles).clamp(-1, 1)
        rows = slice(start, start + n)
        arrays["z"][rows] = z.cpu().numpy()
        arrays["w"][rows] = ws[:, 0].cpu().numpy()
        arrays["wplus"][rows] = ws.reshape(n, -1).cpu().numpy()
        arrays["s"][rows] = styles_to_vector(styles).cpu().numpy()
        arrays["factors"][rows] = predictor.predict(images).cpu().numpy()
        if progress is not None:
            progress(n)
    for array in arrays.values():
        array.flush()
    meta = {"samples": samples, "seed": seed, "psi": psi, "factors": list(predictor.config.factors),
            "dims": {k: v for k, v in shapes.items() if k != "factors"}}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    del arrays
    return LatentDataset(folder, meta)


def open_latent_dataset(folder: str | Path) -> LatentDataset:
    folder = Path(folder)
    if not (folder / "meta.json").is_file():
        raise StyleforgeError(f"{folder} is not a latent dataset (no meta.json)")
    return LatentDataset(folder, json.loads((folder / "meta.json").read_text()))
