"""Evaluating registered metrics: `evaluate(G, spec, data)` → a JSON-ready record, the work it does
(for progress bars), the training default 'auto', and appending results next to a model."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ..files import atomic_path
from ..perception import weights as weight_files
from .registry import EvalContext, MetricSpec

AUTO = "auto"


def resolve_auto(names: tuple, device: torch.device) -> tuple:
    """'auto' → fid50k_full on a CUDA device when the Inception weights are already on disk (the
    reference's choice), else swd1k, which needs no pretrained network and is cheap on a CPU."""
    if AUTO not in names:
        return names
    have_inception = any(weight_files.find_local(spec) for spec in weight_files.INCEPTION_FILES)
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
    context = EvalContext(weights=weights or {}, cache=cache, progress=progress)
    record.update(spec.info.compute(G, spec, dataset, context))
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
