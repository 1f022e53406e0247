"""Quality metrics. A metric sees only a generator (and real data): `evaluate(G, data, name)`.

Names carry their sample count, as in the reference (`swd16k`, `msssim2k`, `swd500`); `--num` in the
CLI overrides it. Implemented so far: SWD and MS-SSIM diversity (no pretrained network needed) and the
feature-space statistics of `statistics.py` (FID, KID, precision/recall, IS) that the Inception / VGG16
feature networks will feed."""

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
NEEDS_FEATURE_NETWORK = ("fid", "kid", "pr", "is", "ppl")


@dataclass(frozen=True)
class MetricSpec:
    base: str
    num: int

    @property
    def name(self) -> str:
        return f"{self.base}{self.num // 1000}k" if self.num % 1000 == 0 else f"{self.base}{self.num}"


def parse_metric(text: str, num: int | None = None) -> MetricSpec:
    """'swd2k' → MetricSpec('swd', 2000); a bare 'swd' takes the default count; num overrides both."""
    match = re.fullmatch(r"([a-z_]+?)(\d+)?(k)?", text.strip())
    if not match or match.group(1) not in METRICS:
        base = match.group(1) if match else text
        if any(base.startswith(prefix) for prefix in NEEDS_FEATURE_NETWORK):
            raise StyleforgeError(f"{text} needs the Inception / VGG16 feature networks, which styleforge "
                                  f"does not have yet; available now: {', '.join(METRICS)}")
        raise StyleforgeError(f"unknown metric {text!r}; available: {', '.join(METRICS)}")
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


def evaluate(G, spec: MetricSpec, dataset=None, progress: Callable | None = None) -> dict:
    """One metric of a generator; returns a JSON-ready result record."""
    start = time.time()
    fake = generated_images(G, spec.num, progress=progress)
    record = {"metric": spec.name, "num_fake": spec.num, "num_real": 0,
              "resolution": G.img_resolution, "noise_mode": "const", "feature_network": None}
    if spec.base == "swd":
        if dataset is None:
            raise StyleforgeError("swd needs real data: give --data")
        if (dataset.resolution, dataset.channels) != (G.img_resolution, G.img_channels):
            raise StyleforgeError(f"the data has {dataset.resolution}px × {dataset.channels} images but the "
                                  f"model makes {G.img_resolution}px × {G.img_channels}")
        per_level = swd(real_images(dataset, spec.num, progress), fake)
        record.update(value=per_level["avg"], per_level=per_level, num_real=spec.num,
                      patches="7x7, 128 per image", scale="x1e3")
    else:
        record.update(value=msssim_diversity(fake), pairs=10_000)
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
