"""Projection speed: optimization steps per second for 1 and 8 targets projected together, with the
pixel distance (no pretrained weights needed) and, when the LPIPS weights are on disk, LPIPS. Runs the
`small` preset on CPU and `paper256` (on the GPU when present, else a few CPU steps). Prints JSON.

Usage: python benchmarks/projection_speed.py [--steps 20] [--skip-paper256]
"""

import argparse
import json
import os
import time

import torch

import styleforge as sf
from styleforge.projection import ProjectionSettings, image_distance, project
from styleforge.runtime import tune_allocator


def steps_per_second(G, batch: int, steps: int, distance) -> float:
    targets = torch.rand([batch, G.img_channels, G.img_resolution, G.img_resolution],
                         device=next(G.parameters()).device) * 2 - 1
    settings = ProjectionSettings(steps=steps, w_avg_samples=1000)
    project(G, targets, distance=distance, settings=ProjectionSettings(steps=1, w_avg_samples=1000))  # warm-up
    if targets.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    project(G, targets, distance=distance, settings=settings)
    if targets.is_cuda:
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def measure(preset: str, device: str, steps: int) -> list[dict]:
    torch.manual_seed(0)
    G = sf.build(preset, "G").to(device).eval()
    results = []
    for kind in ("pixel", "auto"):
        distance = image_distance(kind, device=device)
        if kind == "auto" and distance.kind != "lpips":
            continue  # no LPIPS weights on disk
        rates = {batch: steps_per_second(G, batch, steps, distance) for batch in (1, 8)}
        results.append({"preset": preset, "resolution": G.img_resolution, "device": device,
                        "distance": distance.kind, "steps_per_s_batch1": round(rates[1], 2),
                        "steps_per_s_batch8": round(rates[8], 2),
                        "cost_of_8_together_vs_8_alone": round(rates[1] / rates[8] / 8, 3)})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--skip-paper256", action="store_true")
    args = parser.parse_args()
    tuned = tune_allocator()
    results = measure("small", "cpu", args.steps)
    if torch.cuda.is_available():
        results += measure("small", "cuda", args.steps) + measure("paper256", "cuda", args.steps)
    elif not args.skip_paper256:
        results += measure("paper256", "cpu", max(2, args.steps // 10))
    print(json.dumps({"benchmark": "projection_speed", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "cpu_count": os.cpu_count(), "malloc_tuned": tuned, "results": results}, indent=2))


if __name__ == "__main__":
    main()
