"""Quality metrics. A metric sees only a generator (and real data): `evaluate(G, data, name)`.

Names carry their sample count, as in the reference (`swd16k`, `msssim2k`, `swd500`); `--num` in the
CLI overrides it. Implemented so far: SWD and MS-SSIM diversity (no pretrained network needed), PPL (LPIPS-VGG16), and
the feature-space statistics of `statistics.py` (FID, KID, precision/recall, IS) that the Inception /
VGG16-fc2 feature extractors will feed."""

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
from ..latents import z_from_seeds
from .msssim import msssim_diversity
from .swd import swd

# name → (default sample count, needs real images)
METRICS = {"swd": (16_384, True), "msssim": (10_000, False)}
AVAILABLE = "swd, msssim, ppl_{z,w}{full,end}[_crop]"
NEEDS_FEATURE_NETWORK = ("fid", "kid", "pr", "is")


@dataclass(frozen=True)
class MetricSpec:
    base: str
    num: int
    variant: str = ""   # PPL: '_wend', '_zfull', ... plus '_crop'

    @property
    def name(self) -> str:
        count = f"{self.num // 1000}k" if self.num % 1000 == 0 else str(self.num)
        return f"{self.base}{count}{self.variant}"


_PPL = re.compile(r"ppl(\d+)?(k)?_(z|w)(full|end)(_crop)?")


def parse_metric(text: str, num: int | None = None) -> MetricSpec:
    """'swd2k' → MetricSpec('swd', 2000); a bare 'swd' takes the default count; num overrides both.
    PPL: 'ppl_wend', 'ppl10k_zfull', 'ppl_wend_crop' (default 50,000 samples)."""
    ppl = _PPL.fullmatch(text.strip())
    if ppl:
        count = int(ppl.group(1)) * (1000 if ppl.group(2) else 1) if ppl.group(1) else 50_000
        return MetricSpec("ppl", num if num is not None else count,
                          f"_{ppl.group(3)}{ppl.group(4)}{ppl.group(5) or ''}")
    match = re.fullmatch(r"([a-z_]+?)(\d+)?(k)?", text.strip())
    if not match or match.group(1) not in METRICS:
        base = match.group(1) if match else text
        if any(base.startswith(prefix) for prefix in NEEDS_FEATURE_NETWORK):
            raise StyleforgeError(f"{text} needs the Inception-v3 / VGG16-fc2 feature extractors, which "
                                  f"styleforge does not have yet; available now: {AVAILABLE}")
        raise StyleforgeError(f"unknown metric {text!r}; available: {AVAILABLE}")
    base = match.group(1)
    count = METRICS[base][0]
    if match.group(2):
        count = int(match.group(2)) * (1000 if match.group(3) else 1)
    if num is not None:
        count = num
    if count < 2:
        raise StyleforgeError(f"{text}: needs at least 2 samples")
    return MetricSpec(base, count)


@torch.no_grad()
def generated_images(G, count: int, batch: int = 32, progress: Callable | None = None) -> torch.Tensor:
    """count images [N, C, H, W] in [-1, 1] from seeds 0..count-1 (constant noise), on the CPU."""
    device = next(G.parameters()).device
    out = []
    for start in range(0, count, batch):
        seeds = list(range(start, min(start + batch, count)))
        c = None
        if G.c_dim:  # classes in turn, for conditional models
            c = torch.eye(G.c_dim, device=device)[[s % G.c_dim for s in seeds]]
        out.append(G(z_from_seeds(seeds, G.z_dim, device), c).clamp(-1, 1).cpu())
        if progress is not None:
            progress(len(seeds))
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

    weights = weights or {}
    # Resolve first, so the record names the files actually used (given, cached or downloaded).
    files = {"vgg": resolve(VGG16_TORCHVISION, weights.get("vgg")),
             "lpips": resolve(LPIPS_VGG_V01, weights.get("lpips"))}
    lpips = load_lpips(files["vgg"], files["lpips"])
    space, sampling = spec.variant[1], spec.variant[2:].removesuffix("_crop")
    value = path_length(G, lpips, num=spec.num, space=space, sampling=sampling,
                        crop=spec.variant.endswith("_crop"), progress=progress)
    return {"value": value, "feature_network": "LPIPS v0.1 VGG16", "epsilon": 1e-4,
            "noise_mode": "random per batch", "weights": {k: str(v) for k, v in files.items()},
            "weights_sha256": {k: sha256(v)[:16] for k, v in files.items()}}


def evaluate(G, spec: MetricSpec, dataset=None, progress: Callable | None = None,
             weights: dict | None = None) -> dict:
    """One metric of a generator; returns a JSON-ready result record. `weights` may give the
    feature-network files ({'vgg': path, 'lpips': path}); otherwise they are found or downloaded."""
    start = time.time()
    record = {"metric": spec.name, "num_fake": spec.num, "num_real": 0,
              "resolution": G.img_resolution, "noise_mode": "const", "feature_network": None}
    if spec.base == "ppl":
        record.update(_path_length(G, spec, weights, progress))
    elif spec.base == "swd":
        if dataset is None:
            raise StyleforgeError("swd needs real data: give --data")
        if (dataset.resolution, dataset.channels) != (G.img_resolution, G.img_channels):
            raise StyleforgeError(f"the data has {dataset.resolution}px × {dataset.channels} images but the "
                                  f"model makes {G.img_resolution}px × {G.img_channels}")
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


__all__ = ["METRICS", "MetricSpec", "parse_metric", "evaluate", "append_result", "generated_images",
           "real_images", "swd", "msssim_diversity"]
