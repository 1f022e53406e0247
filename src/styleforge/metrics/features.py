"""Feature extraction for the feature-space metrics: the extractors (Inception-v3 pool_3 for FID,
KID and IS; VGG16 fc2 for precision/recall), streamed over generated images or a dataset in
batches, with real-data results cached on disk.

Both sides are fed the same way as in the reference: uint8 pixels, generated images quantized with
(x · 127.5 + 128).clamp(0, 255) before the network sees them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..devices import device_of
from ..errors import StyleforgeError
from ..files import atomic_path, file_sha256
from ..perception import weights as weight_files
from ..perception import load_inception, load_vgg16
from ..perception.inception import FEATURES
from .samples import check_data, seed_batches
from .statistics import feature_statistics

_IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@dataclass
class FeatureExtractor:
    """A feature network with everything that decides its numbers, for records and cache keys."""

    name: str                  # e.g. 'inception-v3-fid/pool_3'
    network: torch.nn.Module
    weights: Path
    resize: str
    dims: int
    embed: Callable = field(repr=False)  # (network, uint8 pixels [N, C, H, W]) → [N, dims]
    _sha256: str | None = field(default=None, repr=False)

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = file_sha256(self.weights)
        return self._sha256

    def describe(self) -> dict:
        return {"feature_network": self.name, "weights": str(self.weights),
                "weights_sha256": self.sha256[:16], "resize": self.resize}

    @torch.no_grad()
    def __call__(self, pixels: torch.Tensor) -> np.ndarray:
        device = device_of(self.network)
        return self.embed(self.network, pixels.to(device)).float().cpu().numpy()


def inception_extractor(path=None, download: bool = True) -> FeatureExtractor:
    found = weight_files.resolve_any(weight_files.INCEPTION_FILES, path, download)
    return FeatureExtractor("inception-v3-fid/pool_3", load_inception(found), found,
                            "TF-1 bilinear to 299 (as inception-2015-12-05.pt)", FEATURES,
                            lambda net, pixels: net.features(pixels))


def vgg_fc2(network, pixels: torch.Tensor) -> torch.Tensor:
    x = pixels.float() / 255
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    if x.shape[-2:] != (224, 224):
        x = F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False, antialias=True)
    return network.fc2((x - _IMAGENET_MEAN.to(x)) / _IMAGENET_STD.to(x))


def vgg16_extractor(path=None, download: bool = True) -> FeatureExtractor:
    found = weight_files.resolve(weight_files.VGG16_TORCHVISION, path, download)
    return FeatureExtractor("vgg16-torchvision/fc2", load_vgg16(found), found,
                            "antialiased bilinear to 224, ImageNet mean/std", 4096, vgg_fc2)


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats → uint8 with the reference's rounding."""
    return (images * 127.5 + 128).clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def generator_features(G, extractor: FeatureExtractor, num: int, batch: int = 32,
                       progress: Callable | None = None, seed: int = 0) -> np.ndarray:
    """Features [num, D] of images from z seeds 0..num−1, with per-layer noise drawn afresh (the
    reference's default) from a generator seeded by `seed`."""
    device = device_of(G)
    out = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for images in seed_batches(G, num, batch, noise_mode="random"):
            out.append(extractor(to_pixels(images)))
            if progress is not None:
                progress(len(images))
    return np.concatenate(out)


def stats_dir() -> Path:
    return weight_files.cache_dir().parent / "stats"


def _cache_path(dataset, extractor: FeatureExtractor, num: int, kind: str) -> Path:
    key = {"dataset": dataset.fingerprint(), "resolution": dataset.resolution, "channels": dataset.channels,
           "num": num, "network": extractor.name, "weights_sha256": extractor.sha256,
           "resize": extractor.resize, "kind": kind, "version": 1}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return stats_dir() / f"{getattr(dataset, 'name', 'data')}-{kind}-{digest}.npz"


def dataset_features(dataset, extractor: FeatureExtractor, num: int, kind: str = "features",
                     batch: int = 32, progress: Callable | None = None,
                     cache: bool = True) -> dict[str, np.ndarray]:
    """Real-data features of the first `num` images: {'features'} or, for kind='mean_cov', the
    float64 {'mean', 'cov'} alone. Cached under ~/.cache/styleforge/stats by dataset content hash,
    resolution, count, network, weights and resize; recomputed only when one of those changes."""
    if len(dataset) < num:
        raise StyleforgeError(f"the dataset has {len(dataset)} images; the metric needs {num} (use --num)")
    path = _cache_path(dataset, extractor, num, kind) if cache else None
    if path is not None and path.is_file():
        try:
            with np.load(path) as stored:
                result = {k: stored[k] for k in stored.files}
            if progress is not None:
                progress(num)
            return result
        except (OSError, ValueError):
            pass  # a damaged cache entry is recomputed below
    features = []
    for start in range(0, num, batch):
        indices = range(start, min(start + batch, num))
        pixels = torch.from_numpy(np.stack([dataset.image(i) for i in indices]))
        features.append(extractor(pixels))
        if progress is not None:
            progress(len(indices))
    features = np.concatenate(features)
    result = {"features": features}
    if kind == "mean_cov":
        mean, cov = feature_statistics(features)
        result = {"mean": mean, "cov": cov}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **result)
    return result


def extractor_for(spec, weights: dict | None = None) -> FeatureExtractor | None:
    """The feature network a metric needs, from `weights` ({'inception': path, 'vgg': path}) or
    found / downloaded; None for metrics without one."""
    weights = weights or {}
    if spec.info.network == "inception":
        return inception_extractor(weights.get("inception"))
    if spec.info.network == "vgg16":
        return vgg16_extractor(weights.get("vgg"))
    return None


def require_weights(spec, weights: dict | None = None) -> None:
    """Find (or download) the weight files a metric needs now, so a long run fails at its start
    rather than at its first evaluation."""
    weights = weights or {}
    network = spec.info.network
    if network == "inception":
        weight_files.resolve_any(weight_files.INCEPTION_FILES, weights.get("inception"))
    if network in ("vgg16", "lpips"):
        weight_files.resolve(weight_files.VGG16_TORCHVISION, weights.get("vgg"))
    if network == "lpips":
        weight_files.resolve(weight_files.LPIPS_VGG_V01, weights.get("lpips"))


def feature_pair(G, spec, dataset, context, kind: str = "features"):
    """(record fields, fake features [N, D], real {'features'} or {'mean', 'cov'} or None, extractor):
    what FID, KID, precision/recall and IS share."""
    if spec.info.needs_data:
        check_data(G, dataset, spec)
    device = device_of(G)
    extractor = extractor_for(spec, context.weights)
    extractor.network.to(device)
    record = {**extractor.describe(), "noise_mode": "random (seeded)", "quantized": "uint8"}
    fake = generator_features(G, extractor, spec.num, progress=context.progress)
    real = None
    if spec.info.needs_data:
        record["num_real"] = spec.num_real(dataset)
        real = dataset_features(dataset, extractor, record["num_real"], kind, progress=context.progress,
                                cache=context.cache)
    return record, fake, real, extractor
