"""Training throughput, memory, model FLOPs and the fraction of the machine's matmul peak reached.

Images/s counts real images per second of full training steps (G main, D main and the lazy
regularizers at their intervals: PL every 4, R1 every 16, amortized by timing whole 16-step cycles).
FLOPs per image come from torch.utils.flop_counter's FLOP formulas over one such cycle (counted in a
dispatch mode: FlopCounterMode's module hooks do not support the double backward of R1 and PL); the matmul peak is measured
in the same process with large float32 matmuls. Runs the `small` preset on CPU (its batch 16, and
32) and, when CUDA is present, `paper256` on the GPU. Prints JSON.

Usage: python benchmarks/train_speed.py [--resolution 32] [--batch 16] [--cycles 1] [--resample auto]
"""

import argparse
import json
import os
import resource
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode  # torch's own (private) dispatch hook
from torch.utils.flop_counter import flop_registry

from styleforge.nn import fastpath
from styleforge.runtime import tune_allocator
from styleforge.data import open_dataset
from styleforge.train import training_config
from styleforge.train.distributed import Context
from styleforge.train.reals import RealImages
from styleforge.checkpoint.training_state import Counters
from styleforge.train.step import TrainingStep, build_networks


class FlopCounter(TorchDispatchMode):
    """Adds up the FLOPs of every op torch.utils.flop_counter has a formula for."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def matmul_peak(device: str, size: int = 2048, seconds: float = 2.0) -> float:
    """Measured float32 matmul throughput in GFLOP/s."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 2 * size ** 3 * count / (time.perf_counter() - start) / 1e9


def build(preset: str, resolution: int, batch: int, device: str, **options):
    """The training step of a new `preset` run on toyfaces, set up exactly as `styleforge.train.train`
    sets it up (same public pieces): (config, step, reals). `options`: further TrainingConfig fields
    (precision, g_overrides, d_overrides, ...)."""
    config = training_config(preset, resolution=resolution, batch=batch, **options)
    dataset = open_dataset(config.data, resolution, seed=config.seed)
    G, D = build_networks(*config.model_configs(resolution, dataset.channels, 0), config.seed)
    step = TrainingStep.create(config, G, D, Context(device=torch.device(device)))
    return config, step, RealImages(dataset, config.seed, config.mirror)


def training_cycle(step: TrainingStep, counters: Counters, reals: RealImages) -> None:
    """16 optimizer steps: every phase the training loop runs, with PL and R1 at their intervals."""
    for _ in range(16):
        step.run(counters, reals)


def measure(preset: str, resolution: int, batch: int, device: str, cycles: int) -> dict:
    config, step, reals = build(preset, resolution, batch, device)
    counters = Counters()
    counter = FlopCounter()
    with counter:
        training_cycle(step, counters, reals)
    flops_per_image = counter.total / (16 * batch)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    start = time.perf_counter()
    for cycle in range(cycles):
        training_cycle(step, counters, reals)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    images_per_s = 16 * batch * cycles / seconds
    peak = matmul_peak(device)
    achieved = images_per_s * flops_per_image / 1e9
    result = {"preset": preset, "resolution": resolution, "batch": batch, "device": device,
              "images_per_s": round(images_per_s, 2), "model_gflop_per_image": round(flops_per_image / 1e9, 3),
              "achieved_gflop_s": round(achieved, 1), "matmul_peak_gflop_s": round(peak, 1),
              "fraction_of_matmul_peak": round(achieved / peak, 3),
              "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if device.startswith("cuda"):
        result["gpu_peak_mem_mib"] = round(torch.cuda.max_memory_allocated() / 2 ** 20, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--cycles", type=int, default=1)
    parser.add_argument("--default-malloc", action="store_true", help="skip the allocator tuning")
    parser.add_argument("--resample", default="auto", help="FIR paths to measure in turn, e.g. conv,shift,fold")
    args = parser.parse_args()
    tuned = False if args.default_malloc else tune_allocator()
    results = []
    for resample in args.resample.split(","):
        fastpath.configure(resample)
        results.append({"resample": resample, **measure("small", args.resolution, args.batch, "cpu", args.cycles)})
        if args.batch != 32:
            results.append({"resample": resample, **measure("small", args.resolution, 32, "cpu", args.cycles)})
        if torch.cuda.is_available():
            results.append({"resample": resample, **measure("paper256", 256, 32, "cuda", args.cycles)})
    print(json.dumps({"benchmark": "train_speed", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "cpu_count": os.cpu_count(), "malloc_tuned": tuned, "results": results}, indent=2))


if __name__ == "__main__":
    main()
