"""Quality metrics. A metric sees only a generator (and real data): `evaluate(G, spec, data)`.

Names carry their sample count, as in the reference (`fid50k_full`, `swd16k`, `pr50k3`, `is10k`);
`--num` in the CLI overrides it. The registry `METRICS` lists each metric, its default count, whether
it needs real data and which feature network it uses: SWD and MS-SSIM need none, PPL uses LPIPS-VGG16,
FID / KID / IS the FID Inception-v3, precision/recall VGG16 fc2."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import StyleforgeError
from ..files import atomic_path
from .features import seed_batches
from .msssim import msssim_diversity
from .swd import swd


@dataclass(frozen=True)
class MetricInfo:
    default_num: int
    needs_data: bool
    network: str | None       # 'inception', 'vgg16', 'lpips' or None
    max_real_full: int = 0    # real images for the `_full` variant (reference caps), 0 = all
    description: str = ""


METRICS = {
    "fid": MetricInfo(50_000, True, "inception", description="Fréchet Inception distance (Heusel et al. 2017)"),
    "kid": MetricInfo(50_000, True, "inception", max_real_full=1_000_000,
                      description="kernel Inception distance (Bińkowski et al. 2018)"),
    "pr": MetricInfo(50_000, True, "vgg16", max_real_full=200_000,
                     description="precision and recall (Kynkäänniemi et al. 2019)"),
    "is": MetricInfo(50_000, False, "inception", description="Inception score (Salimans et al. 2016)"),
    "ppl": MetricInfo(50_000, False, "lpips",
                      description="perceptual path length, face crop (StyleGAN §4.1; the reference's ppl_*)"),
    "ppl2": MetricInfo(50_000, False, "lpips",
                       description="perceptual path length, whole image (StyleGAN2 Table 1; ppl2_*)"),
    "swd": MetricInfo(16_384, True, None, description="sliced Wasserstein distance ×1e3 (ProGAN §5)"),
    "msssim": MetricInfo(10_000, False, None, description="MS-SSIM of random pairs (diversity; lower = more diverse)"),
}
AVAILABLE = ("fid[N][_full], kid[N][_full], pr[N]k[K][_full], is[N], ppl[N]_{z,w}{full,end} (face crop), "
             "ppl2[_N]_{z,w}{full,end} (whole image), swd[N], msssim[N]")


@dataclass(frozen=True)
class MetricSpec:
    base: str
    num: int
    variant: str = ""      # PPL: '_wend', '_zfull', ...
    full: bool = False     # FID/KID/PR: real statistics over the whole dataset (reference caps apply)
    neighbours: int = 3    # PR: k of the k-NN radii

    @property
    def name(self) -> str:
        count = f"{self.num // 1000}k" if self.num % 1000 == 0 else str(self.num)
        if self.base == "pr":
            count += str(self.neighbours) if count.endswith("k") else f"_k{self.neighbours}"
        if self.base == "ppl2":
            count = f"_{count}"
        return f"{self.base}{count}{self.variant}{'_full' if self.full else ''}"

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.base]

    def num_real(self, dataset) -> int:
        """Real images used: the fake count, or for `_full` the dataset (capped as the reference)."""
        if not self.info.needs_data:
            return 0
        size = len(dataset)
        if not self.full or size >= 2 ** 31:  # an endless dataset (toyfaces) has no "full"
            return self.num
        return min(size, self.info.max_real_full) if self.info.max_real_full else size


_PPL = re.compile(r"ppl(?:(2)(?:_(\d+)(k)?)?|(\d+)(k)?)?_(z|w)(full|end)")
_PR = re.compile(r"pr(\d+)?(?:(k)(\d+)?|_k(\d+))?(_full)?")
_PLAIN = re.compile(r"([a-z]+?)(\d+)?(k)?(_full)?")


def _count(digits: str | None, thousands: str | None, default: int) -> int:
    return int(digits) * (1000 if thousands else 1) if digits else default


def parse_metric(text: str, num: int | None = None) -> MetricSpec:
    """'fid50k_full' → MetricSpec('fid', 50000, full=True); a bare 'swd' takes the default count;
    num overrides it. PPL as the reference names it: 'ppl_wend' / 'ppl10k_zfull' crop to the face,
    'ppl2_wend' / 'ppl2_10k_wend' see the whole image. PR: 'pr50k3_full' (k = 3),
    'pr500_k5'."""
    text = text.strip()
    if match := _PPL.fullmatch(text):
        digits, thousands = (match.group(2), match.group(3)) if match.group(1) else (match.group(4), match.group(5))
        spec = MetricSpec("ppl2" if match.group(1) else "ppl", _count(digits, thousands, 50_000),
                          f"_{match.group(6)}{match.group(7)}")
    elif match := _PR.fullmatch(text):
        neighbours = int(match.group(3) or match.group(4) or 3)
        if neighbours < 1:
            raise StyleforgeError(f"{text}: k must be at least 1")
        spec = MetricSpec("pr", _count(match.group(1), match.group(2), 50_000),
                          full=bool(match.group(5)), neighbours=neighbours)
    elif (match := _PLAIN.fullmatch(text)) and match.group(1) in METRICS and match.group(1) not in ("ppl", "pr"):
        base = match.group(1)
        if match.group(4) and base not in ("fid", "kid"):
            raise StyleforgeError(f"{text}: only fid, kid and pr have a _full variant")
        spec = MetricSpec(base, _count(match.group(2), match.group(3), METRICS[base].default_num),
                          full=bool(match.group(4)))
    else:
        raise StyleforgeError(f"unknown metric {text!r}; available: {AVAILABLE}")
    if num is not None:
        spec = MetricSpec(spec.base, num, spec.variant, spec.full, spec.neighbours)
    if spec.num < 2:
        raise StyleforgeError(f"{text}: needs at least 2 samples")
    return spec


def generated_images(G, count: int, batch: int = 32, progress: Callable | None = None) -> torch.Tensor:
    """count images [N, C, H, W] in [-1, 1] from seeds 0..count-1 (constant noise), on the CPU."""
    out = []
    for images in seed_batches(G, count, batch):
        out.append(images.clamp(-1, 1).cpu())
        if progress is not None:
            progress(len(images))
    return torch.cat(out)


def real_images(dataset, count: int, progress: Callable | None = None) -> torch.Tensor:
    """The first `count` images of a dataset in [-1, 1] (an image folder's sorted order)."""
    if len(dataset) < count:
        raise StyleforgeError(f"the dataset has {len(dataset)} images; the metric needs {count} "
                              "(use --num)")
    images = []
    for i in range(count):
        images.append(torch.from_numpy(dataset.image(i)).float() / 127.5 - 1)
        if progress is not None:
            progress(1)
    return torch.stack(images)


def _path_length(G, spec: MetricSpec, weights: dict | None, progress) -> dict:
    from .networks import load_lpips
    from .networks.weights import LPIPS_VGG_V01, VGG16_TORCHVISION, resolve, sha256
    from .ppl import path_length

    crop = spec.base == "ppl"
    seen = G.img_resolution // 2 if crop else G.img_resolution  # the face crop keeps half of each side
    if seen < 16 and crop:
        raise StyleforgeError(f"{spec.name}: LPIPS-VGG16 needs at least 16 px; the face crop of {G.img_resolution} px "
                              f"images is {seen} px ({MetricSpec('ppl2', spec.num, spec.variant).name} uses the "
                              "whole image)")
    if seen < 16:
        raise StyleforgeError(f"{spec.name}: LPIPS-VGG16 needs images of at least 16 px; these are {seen} px")
    weights = weights or {}
    # Resolve first, so the record names the files actually used (given, cached or downloaded).
    files = {"vgg": resolve(VGG16_TORCHVISION, weights.get("vgg")),
             "lpips": resolve(LPIPS_VGG_V01, weights.get("lpips"))}
    lpips = load_lpips(files["vgg"], files["lpips"])
    space, sampling = spec.variant[1], spec.variant[2:]
    value = path_length(G, lpips, num=spec.num, space=space, sampling=sampling,
                        crop=crop, progress=progress)
    return {"value": value, "feature_network": "LPIPS v0.1 VGG16", "epsilon": 1e-4, "crop": crop,
            "noise_mode": "random per batch", "weights": {k: str(v) for k, v in files.items()},
            "weights_sha256": {k: sha256(v)[:16] for k, v in files.items()}}


def _check_data(G, dataset, spec: MetricSpec) -> None:
    if dataset is None:
        raise StyleforgeError(f"{spec.name} needs real data: give --data")
    if (dataset.resolution, dataset.channels) != (G.img_resolution, G.img_channels):
        raise StyleforgeError(f"the data has {dataset.resolution}px × {dataset.channels} images but the "
                              f"model makes {G.img_resolution}px × {G.img_channels}")


def feature_extractor(spec: MetricSpec, weights: dict | None = None):
    """The feature network a metric needs, from `weights` ({'inception': path, 'vgg': path}) or
    found / downloaded; None for metrics without one."""
    from .features import inception_extractor, vgg16_extractor

    weights = weights or {}
    if spec.info.network == "inception":
        return inception_extractor(weights.get("inception"))
    if spec.info.network == "vgg16":
        return vgg16_extractor(weights.get("vgg"))
    return None


def _feature_metric(G, spec: MetricSpec, dataset, progress, weights, cache: bool) -> dict:
    """FID, KID, precision/recall or IS from network features of generated (and real) images."""
    from .features import dataset_features, generator_features
    from .fid import feature_statistics, frechet_distance
    from .inception_score import inception_score
    from .kid import kernel_inception_distance
    from .precision_recall import precision_recall

    if spec.info.needs_data:
        _check_data(G, dataset, spec)
    device = next(G.parameters()).device
    extractor = feature_extractor(spec, weights)
    extractor.network.to(device)
    record = {**extractor.describe(), "noise_mode": "random (seeded)", "quantized": "uint8"}
    fake = generator_features(G, extractor, spec.num, progress=progress)
    if spec.base == "is":
        logits = extractor.network.logits(torch.from_numpy(fake).to(device), bias=False)
        mean, std = inception_score(torch.softmax(logits.double(), dim=1).cpu().numpy())
        return {**record, "value": mean, "std": std, "splits": 10, "output_bias": False}
    num_real = spec.num_real(dataset)
    real = dataset_features(dataset, extractor, num_real, "mean_cov" if spec.base == "fid" else "features",
                            progress=progress, cache=cache)
    record["num_real"] = num_real
    if spec.base == "fid":
        fewest = min(num_real, spec.num)
        if fewest <= extractor.dims:
            record["warning"] = (f"{fewest} samples for {extractor.dims}-d features: the covariances are singular "
                                 "and FID is biased upwards; use 10k or more")
        return {**record, "value": frechet_distance(real["mean"], real["cov"], *feature_statistics(fake))}
    if spec.base == "kid":
        return {**record, "value": kernel_inception_distance(real["features"], fake), "subsets": 100,
                "subset_size": min(1000, num_real, spec.num)}
    precision, recall = precision_recall(real["features"], fake, k=spec.neighbours, device=device)
    return {**record, "value": precision, "precision": precision, "recall": recall, "k": spec.neighbours}


def require_weights(spec: MetricSpec, weights: dict | None = None) -> None:
    """Find (or download) the weight files a metric needs now, so a long run fails at its start
    rather than at its first evaluation."""
    from .networks import weights as files

    weights = weights or {}
    network = spec.info.network
    if network == "inception":
        files.resolve_any(files.INCEPTION_FILES, weights.get("inception"))
    if network in ("vgg16", "lpips"):
        files.resolve(files.VGG16_TORCHVISION, weights.get("vgg"))
    if network == "lpips":
        files.resolve(files.LPIPS_VGG_V01, weights.get("lpips"))


AUTO = "auto"


def resolve_auto(names: tuple, device: torch.device) -> tuple:
    """'auto' → fid50k_full on a CUDA device when the Inception weights are already on disk (the
    reference's choice), else swd1k, which needs no pretrained network and is cheap on a CPU."""
    if AUTO not in names:
        return names
    from .networks import weights as files

    have_inception = any(files.find_local(spec) for spec in files.INCEPTION_FILES)
    chosen = "fid50k_full" if have_inception and device.type == "cuda" else "swd1k"
    return tuple(dict.fromkeys(chosen if name == AUTO else name for name in names))


def work(spec: MetricSpec, dataset=None) -> int:
    """Images a metric processes (generated plus real), for progress bars."""
    return spec.num + (spec.num_real(dataset) if dataset is not None else 0)


def evaluate(G, spec: MetricSpec, dataset=None, progress: Callable | None = None,
             weights: dict | None = None, cache: bool = True) -> dict:
    """One metric of a generator; returns a JSON-ready result record. `weights` may give the
    feature-network files ({'inception', 'vgg', 'lpips': path}); otherwise they are found in
    $STYLEFORGE_WEIGHTS or the cache, or downloaded. `cache=False` recomputes real statistics."""
    start = time.time()
    record = {"metric": spec.name, "num_fake": spec.num, "num_real": 0,
              "resolution": G.img_resolution, "noise_mode": "const", "feature_network": None}
    if spec.base in ("ppl", "ppl2"):
        record.update(_path_length(G, spec, weights, progress))
    elif spec.info.network is not None:
        record.update(_feature_metric(G, spec, dataset, progress, weights, cache))
    elif spec.base == "swd":
        _check_data(G, dataset, spec)
        per_level = swd(real_images(dataset, spec.num, progress), generated_images(G, spec.num, progress=progress))
        record.update(value=per_level["avg"], per_level=per_level, num_real=spec.num,
                      patches="7x7, 128 per image", scale="x1e3")
    else:
        record.update(value=msssim_diversity(generated_images(G, spec.num, progress=progress)), pairs=10_000)
    record["seconds"] = round(time.time() - start, 2)
    return record


def append_result(record: dict, model_path: str | Path) -> Path:
    """Append to metric-<name>.jsonl next to the model (rewritten atomically)."""
    path = Path(model_path).parent / f"metric-{record['metric']}.jsonl"
    previous = path.read_text() if path.exists() else ""
    line = json.dumps({**record, "model": Path(model_path).name, "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
    with atomic_path(path) as tmp:
        tmp.write_text(previous + line + "\n")
    return path


__all__ = ["METRICS", "MetricInfo", "MetricSpec", "parse_metric", "evaluate", "work", "feature_extractor",
           "require_weights", "resolve_auto", "AUTO",
           "append_result", "generated_images", "real_images", "swd", "msssim_diversity"]
