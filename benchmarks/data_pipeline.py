"""How much of the step-only training rate survives reading real images: the public TrainingStep over
16-step cycles (all phases) fed (a) from memory — one fixed batch, no reading at all: the step-only rate —,
(b) by RealImages with read-ahead (what `styleforge train` uses), (b') DataLoader worker
processes (--workers) and (c) by RealImages reading synchronously. Prints JSON with images/s and the fractions of the
step-only rate (goal: ≥ 0.90 on CPU, ≥ 0.95 on GPU).

Usage: python benchmarks/data_pipeline.py [--preset small] [--resolution 32] [--batch 16] [--cycles 2]
       [--device cpu] [--workers 4]
"""

import argparse
import json
import time

import torch
from train_speed import build, training_cycle  # the benchmark's own public-piece setup

from styleforge.runtime import tune_allocator
from styleforge.train.reals import RealImages
from styleforge.checkpoint.training_state import Counters


class MemoryReals:
    """Serves one fixed batch for every request: the images cost nothing to read."""

    def __init__(self, reals: RealImages, size: int, device: str):
        self.images, self.labels = reals.batch(0, size, device)

    def batch(self, start: int, count: int, device):
        return self.images[:count], self.labels[:count]


def rate(step, reals, cycles: int, batch: int, device: str) -> float:
    """Images/s of the training step over `cycles` 16-step cycles, after one warm-up cycle."""
    counters = Counters()
    training_cycle(step, counters, reals)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(cycles):
        training_cycle(step, counters, reals)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 16 * batch * cycles / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=4, help="DataLoader worker processes of the read_ahead_workers row")
    args = parser.parse_args()
    tuned = tune_allocator()
    config, step, reals = build(args.preset, args.resolution, args.batch, args.device)
    synchronous = RealImages(reals.dataset, reals.seed, reals.mirror, prefetch=False)
    parallel = RealImages(reals.dataset, reals.seed, reals.mirror, workers=args.workers)
    results = {}
    for name, source in (("step_only", MemoryReals(reals, args.batch, args.device)), ("read_ahead", reals),
                         ("read_ahead_workers", parallel), ("synchronous", synchronous),
                         ("step_only_again", MemoryReals(reals, args.batch, args.device))):
        results[name] = round(rate(step, source, args.cycles, args.batch, args.device), 2)
    step_only = (results["step_only"] + results["step_only_again"]) / 2  # bracket the runs: drift shows
    print(json.dumps({
        "benchmark": "data_pipeline", "preset": args.preset, "resolution": args.resolution, "batch": args.batch,
        "device": args.device, "threads": torch.get_num_threads(), "malloc_tuned": tuned, "images_per_s": results,
        "read_ahead_fraction": round(results["read_ahead"] / step_only, 3),
        "read_ahead_workers_fraction": round(results["read_ahead_workers"] / step_only, 3), "workers": args.workers,
        "synchronous_fraction": round(results["synchronous"] / step_only, 3),
    }, indent=2))


if __name__ == "__main__":
    main()
