"""Finding feature-network weights: an explicit path, then $STYLEFORGE_WEIGHTS (a folder), then the
cache (~/.cache/styleforge/weights or $XDG_CACHE_HOME), then a download from the published location
with a progress bar and a checksum check where the published file name carries one. Never a silent
fallback: when nothing works, the error says which file to fetch and where to put it."""

from __future__ import annotations

import os
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from ..errors import StyleforgeError, first_line
from ..files import atomic_path, existing_file, file_sha256


@dataclass(frozen=True)
class WeightFile:
    name: str                   # file name in the cache / weights folder
    url: str                    # published location
    sha256_prefix: str | None   # leading hex digits of the SHA-256 when the publisher states them
    network: str                # what the file is for, in messages
    layout: str                 # which publication and key layout
    option: str                 # the command-line option that takes its path


VGG16_TORCHVISION = WeightFile(
    "vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth", "397923af",
    "VGG16 ImageNet weights", "torchvision's layout: features.N / classifier.N", "--vgg-weights")
INCEPTION_NVIDIA = WeightFile(
    "inception-2015-12-05.pt",
    "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt",
    None, "Inception-v3 FID weights", "stylegan2-ada-pytorch's TorchScript file: layers.* / output.*",
    "--inception-weights")
INCEPTION_PYTORCH_FID = WeightFile(
    "pt_inception-2015-12-05-6726825d.pth",
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
    "6726825d", "Inception-v3 FID weights", "pytorch-fid's layout: Mixed_5b.* / fc.*", "--inception-weights")
INCEPTION_TORCH_FIDELITY = WeightFile(
    "weights-inception-2015-12-05-6726825d.pth",
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    "6726825d", "Inception-v3 FID weights", "torch-fidelity's copy, pytorch-fid's layout", "--inception-weights")
# The reference's own file first; the conversions of the same TF graph by pytorch-fid / torch-fidelity next.
INCEPTION_FILES = (INCEPTION_NVIDIA, INCEPTION_PYTORCH_FID, INCEPTION_TORCH_FIDELITY)
LPIPS_VGG_V01 = WeightFile(
    "lpips-v0.1-vgg.pth", "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth",
    None, "LPIPS v0.1 heads", "linear heads for VGG16: lin0..lin4.model.1.weight", "--lpips-weights")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "styleforge" / "weights"


def _fetch_hint(specs: tuple[WeightFile, ...]) -> str:
    """What to do by hand: fetch one of the files into the cache, or give its path."""
    urls = " or ".join(spec.url for spec in specs)
    return (f"fetch {urls} and save it under its own name in {cache_dir()} (or in $STYLEFORGE_WEIGHTS), "
            f"or give its path with {specs[0].option}")


def _download(spec: WeightFile, target: Path) -> None:
    """Fetch a published file with a progress bar; nothing is left behind on failure."""
    try:
        with urllib.request.urlopen(spec.url, timeout=30) as response, atomic_path(target) as tmp:
            total = int(response.headers.get("Content-Length") or 0)
            with open(tmp, "wb") as f, tqdm(total=total or None, unit="B", unit_scale=True,
                                            desc=spec.name) as bar:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
            if spec.sha256_prefix and not file_sha256(tmp).startswith(spec.sha256_prefix):
                raise StyleforgeError(f"downloaded {spec.name} does not match its checksum {spec.sha256_prefix}…")
    except OSError as error:
        raise StyleforgeError(f"{spec.name}: {getattr(error, 'reason', None) or error}") from None


def find_local(spec: WeightFile) -> Path | None:
    """The file in $STYLEFORGE_WEIGHTS or the cache, if there; never downloads."""
    folders = [Path(os.environ["STYLEFORGE_WEIGHTS"])] if os.environ.get("STYLEFORGE_WEIGHTS") else []
    for candidate in [folder / spec.name for folder in folders + [cache_dir()]]:
        if candidate.is_file():
            return candidate
    return None


def resolve(spec: WeightFile, path: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The local file for `spec` (see the module docstring for the search order)."""
    return resolve_any((spec,), path, download)


def resolve_any(specs: tuple[WeightFile, ...], path: str | os.PathLike | None = None,
                download: bool = True) -> Path:
    """The first of several interchangeable files found locally, else the first that downloads."""
    if path is not None:
        return existing_file(path)
    for spec in specs:
        found = find_local(spec)
        if found is not None:
            return found
    what = specs[0].network
    if not download:
        raise StyleforgeError(f"{what} not found: {_fetch_hint(specs)}")
    errors = []
    for spec in specs:
        try:
            _download(spec, cache_dir() / spec.name)
            return cache_dir() / spec.name
        except StyleforgeError as error:
            errors.append(str(error))
    raise StyleforgeError(f"{what} not found and not downloaded ({'; '.join(errors)}): {_fetch_hint(specs)}")


def resolve_all(wanted: list[tuple[WeightFile, str | os.PathLike | None]], download: bool = True) -> list[Path]:
    """The local files for several weight files (each: spec, explicit path or None); every file that is
    missing is named in one error, with where to put it (not one round trip per file)."""
    found, missing, reasons = [], [], []
    for spec, path in wanted:
        try:
            found.append(resolve(spec, path, download))
        except StyleforgeError as error:
            missing.append(spec)
            if download and path is None:
                reasons.append(str(error).split(" not found and not downloaded (", 1)[-1].split("): fetch", 1)[0])
    if missing:
        names = " and ".join(spec.name for spec in missing)
        urls = " and ".join(spec.url for spec in missing)
        options = " / ".join(spec.option for spec in missing)
        why = f" (download failed: {'; '.join(reasons)})" if reasons else ""
        raise StyleforgeError(f"{names} not found{why}: fetch {urls} into {cache_dir()} (or $STYLEFORGE_WEIGHTS) "
                              f"under those names, or give their paths with {options}")
    return found


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives are zips holding a code/ folder beside the data."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name or name.startswith("code/") for name in archive.namelist())


def load_state(path: Path, spec: WeightFile) -> dict[str, torch.Tensor]:
    """A state dict from a weights file, read with weights_only=True; checksum checked when known."""
    if spec.sha256_prefix and path.name == spec.name and not file_sha256(path).startswith(spec.sha256_prefix):
        raise StyleforgeError(f"{path} does not match the published checksum {spec.sha256_prefix}… "
                              "(truncated or a different file)")
    try:
        if _is_torchscript(path):  # we take its parameters; its forward never runs
            with warnings.catch_warnings():  # torch.jit is deprecated, but NVIDIA's files use it
                warnings.simplefilter("ignore", DeprecationWarning)
                state = torch.jit.load(str(path), map_location="cpu").state_dict()
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or foreign files
        raise StyleforgeError(f"{path} is not a readable weights file ({first_line(error)})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StyleforgeError(f"{path} is not a state dict of tensors")
    return state
