"""Finding feature-network weights: an explicit path, then $STYLEFORGE_WEIGHTS (a folder), then the
cache (~/.cache/styleforge/weights or $XDG_CACHE_HOME), then a download from the published location
with a progress bar and a checksum check where the published file name carries one. Never a silent
fallback: when nothing works, the error says which file to fetch and where to put it."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch

from ...errors import StyleforgeError
from ...files import atomic_path, existing_file


@dataclass(frozen=True)
class WeightFile:
    name: str                   # file name in the cache / weights folder
    url: str                    # published location
    sha256_prefix: str | None   # leading hex digits of the SHA-256 when the publisher states them
    description: str


VGG16_TORCHVISION = WeightFile(
    "vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth", "397923af",
    "VGG16 ImageNet weights in torchvision's layout (features.N / classifier.N)")
LPIPS_VGG_V01 = WeightFile(
    "lpips-v0.1-vgg.pth", "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth",
    None, "LPIPS v0.1 linear heads for VGG16 (lin0..lin4.model.1.weight)")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "styleforge" / "weights"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(spec: WeightFile, target: Path) -> None:
    from tqdm import tqdm

    try:
        with urllib.request.urlopen(spec.url, timeout=30) as response, atomic_path(target) as tmp:
            total = int(response.headers.get("Content-Length") or 0)
            with open(tmp, "wb") as f, tqdm(total=total or None, unit="B", unit_scale=True,
                                            desc=spec.name) as bar:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
            if spec.sha256_prefix and not sha256(tmp).startswith(spec.sha256_prefix):
                raise StyleforgeError(f"downloaded {spec.name} does not match its checksum {spec.sha256_prefix}…")
    except OSError as error:
        raise StyleforgeError(
            f"{spec.description} not found and could not be downloaded ({error}); fetch {spec.url} and "
            f"save it as {cache_dir() / spec.name}, or pass its path with --weights") from None


def resolve(spec: WeightFile, path: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The local file for `spec` (see the module docstring for the search order)."""
    if path is not None:
        return existing_file(path)
    candidates = []
    if os.environ.get("STYLEFORGE_WEIGHTS"):
        candidates.append(Path(os.environ["STYLEFORGE_WEIGHTS"]) / spec.name)
    candidates.append(cache_dir() / spec.name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if not download:
        raise StyleforgeError(f"{spec.description} not found: fetch {spec.url} and save it as "
                              f"{cache_dir() / spec.name} (or in $STYLEFORGE_WEIGHTS), or pass --weights")
    _download(spec, cache_dir() / spec.name)
    return cache_dir() / spec.name


def load_state(path: Path, spec: WeightFile) -> dict[str, torch.Tensor]:
    """A state dict from a weights file, read with weights_only=True; checksum checked when known."""
    if spec.sha256_prefix and path.name == spec.name and not sha256(path).startswith(spec.sha256_prefix):
        raise StyleforgeError(f"{path} does not match the published checksum {spec.sha256_prefix}… "
                              "(truncated or a different file)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or foreign files
        raise StyleforgeError(f"{path} is not a readable weights file ({str(error).splitlines()[0]})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StyleforgeError(f"{path} is not a state dict of tensors")
    return state
