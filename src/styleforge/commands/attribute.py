"""`styleforge attribute`: projecting real and generated images, then AUC, threshold and histogram
(options: cli/attribute.py)."""

import json
import time
from pathlib import Path

import numpy as np
import torch

from ..data import open_dataset
from ..errors import StyleforgeError
from ..files import atomic_path
from ..metrics import real_images
from ..pipeline import render
from ..projection import ProjectionSettings, image_distance, project
from ..projection.attribution import best_threshold, histogram_png, roc_auc
from .common import check_outputs, load_generator, output_dir, progress_bar


def _distances(G, targets: torch.Tensor, distance, settings, batch: int, bar) -> np.ndarray:
    """The distance between each target and its W projection."""
    out = []
    for start in range(0, len(targets), batch):
        chunk = targets[start:start + batch]
        result = project(G, chunk, space="w", distance=distance, settings=settings,
                         progress=lambda step, d: bar.update(len(chunk)))
        with torch.no_grad():
            out.append(distance(result.images.to(chunk.device), chunk).cpu().numpy())
    return np.concatenate(out)


def run(args) -> int:
    check_outputs([Path(args.outdir) / name for name in ("attribution.json", "histogram.png")], args.force)
    G = load_generator(args.model, args.device, args.network_key)
    if G.c_dim:
        raise StyleforgeError("attribution is for unconditional generators")
    dataset = open_dataset(args.real, G.img_resolution if args.real == "toyfaces" else None)
    if (dataset.resolution, dataset.channels) != (G.img_resolution, G.img_channels):
        raise StyleforgeError(f"the real images are {dataset.resolution}px × {dataset.channels} but the model "
                              f"makes {G.img_resolution}px × {G.img_channels}")
    if len(dataset) < args.num:
        raise StyleforgeError(f"{args.real} has {len(dataset)} images; --num is {args.num}")
    outdir = output_dir(args.outdir)
    real = real_images(dataset, args.num)
    fake = render(G, seeds=list(range(args.num)), device="cpu").clamp(-1, 1)
    distance = image_distance(args.distance, args.vgg_weights, args.lpips_weights, args.device)
    settings = ProjectionSettings(steps=args.steps, w_avg_samples=args.w_avg_samples)
    began = time.time()
    with progress_bar(2 * args.num * args.steps, "attribute", unit="step") as bar:
        generated = _distances(G, fake.to(args.device), distance, settings, args.batch, bar)
        real_d = _distances(G, real.to(args.device), distance, settings, args.batch, bar)
    auc = roc_auc(generated, real_d)
    threshold = best_threshold(generated, real_d)
    histogram = histogram_png(generated, real_d, outdir / "histogram.png", threshold=threshold["threshold"])
    record = {"model": str(args.model), "real": str(args.real), "num": args.num, "steps": args.steps,
              "space": "w", "distance_kind": distance.kind, "distance_description": distance.description,
              "roc_auc": auc, **threshold, "seconds": round(time.time() - began, 2),
              "generated_distances": generated.tolist(), "real_distances": real_d.tolist()}
    with atomic_path(outdir / "attribution.json") as tmp:
        tmp.write_text(json.dumps(record, indent=2))
    print(f"ROC AUC {auc:.3f} ({distance.kind} distance, {args.num} + {args.num} images, {args.steps} steps); "
          f"threshold {threshold['threshold']:.4g}: {threshold['generated_called_real']:.1%} of generated "
          f"called real, {threshold['real_called_generated']:.1%} of real called generated → "
          f"{outdir / 'attribution.json'}, {histogram}")
    return 0
