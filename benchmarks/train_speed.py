"""Training throughput, memory, model FLOPs and the fraction of the machine's matmul peak reached.

Images/s counts real images per second of full training steps (G main, D main and the lazy
regularizers at their intervals: PL every 4, R1 every 16, amortized by timing whole 16-step cycles).
FLOPs per image come from torch.utils.flop_counter's FLOP formulas over one such cycle (counted in a
dispatch mode: FlopCounterMode's module hooks do not support the double backward of R1 and PL); the matmul peak is measured
in the same process with large float32 matmuls. Runs the `small` preset on CPU (its batch 16, and
32) and, when CUDA is present, `paper256` on the GPU. Prints JSON.

Usage: python benchmarks/train_speed.py [--resolution 32] [--batch 16] [--cycles 1]
"""

import argparse
import json
import os
import resource
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from styleforge.runtime import tune_allocator
from styleforge.train import training_config
from styleforge.train.loop import (RealImages, _adam, _sub_batch, _update_ema)
from styleforge.train.loss import (discriminator_main_loss, generator_main_loss, path_length_penalty,
                                   r1_penalty)


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


def build(preset: str, resolution: int, batch: int, device: str):
    import styleforge as sf
    from styleforge.data import ToyFaces

    config = training_config(preset, resolution=resolution, batch=batch)
    g_config, d_config = config.model_configs(resolution, 3, 0)
    torch.manual_seed(0)
    G, D = sf.models.build_from_config(g_config).to(device).train(), sf.models.build_from_config(d_config).to(device).train()
    G_ema = sf.models.build_from_config(g_config).to(device).eval().requires_grad_(False)
    reals = RealImages(ToyFaces(resolution), 0, False)
    return config, G, D, G_ema, reals


def training_cycle(config, G, D, G_ema, reals, opt_G, opt_D, pl_mean, device, start_step: int) -> None:
    """16 optimizer steps with every phase the training loop runs."""
    batch = config.batch
    for step in range(start_step, start_step + 16):
        phases = [("G", "main")] + ([("G", "reg")] if step % 4 == 0 else []) + [("D", "main")] + \
                 ([("D", "reg")] if step % 16 == 0 else [])
        for index, (net, kind) in enumerate(phases):
            module, opt = (G, opt_G) if net == "G" else (D, opt_D)
            G.requires_grad_(net == "G")
            D.requires_grad_(net == "D")
            opt.zero_grad(set_to_none=True)
            sub = _sub_batch(config, G, reals if net == "D" else None, step, index, 0, batch,
                             step * batch, None, device)
            if (net, kind) == ("G", "main"):
                (generator_main_loss(G, D, sub)[0].sum() / batch).backward()
            elif (net, kind) == ("G", "reg"):
                penalty, _ = path_length_penalty(G, sub, pl_mean, 2, 0.01)
                (penalty.sum() * 8 / batch).backward()
            elif kind == "main":
                (discriminator_main_loss(G, D, sub).sum() / batch).backward()
            else:
                (r1_penalty(D, sub).sum() * config.gamma * 8 / batch).backward()
            opt.step()
        _update_ema(G_ema, G, config, step * batch, batch)


def measure(preset: str, resolution: int, batch: int, device: str, cycles: int) -> dict:
    config, G, D, G_ema, reals = build(preset, resolution, batch, device)
    opt_G, opt_D = _adam(G.parameters(), config.glr, 4), _adam(D.parameters(), config.dlr, 16)
    pl_mean = torch.zeros([], device=device)
    counter = FlopCounter()
    with counter:
        training_cycle(config, G, D, G_ema, reals, opt_G, opt_D, pl_mean, device, 0)
    flops_per_image = counter.total / (16 * batch)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    start = time.perf_counter()
    for cycle in range(cycles):
        training_cycle(config, G, D, G_ema, reals, opt_G, opt_D, pl_mean, device, 16 * (cycle + 1))
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
    args = parser.parse_args()
    tuned = False if args.default_malloc else tune_allocator()
    results = [measure("small", args.resolution, args.batch, "cpu", args.cycles)]
    if args.batch != 32:
        results.append(measure("small", args.resolution, 32, "cpu", args.cycles))
    if torch.cuda.is_available():
        results.append(measure("paper256", 256, 32, "cuda", args.cycles))
    print(json.dumps({"benchmark": "train_speed", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "cpu_count": os.cpu_count(), "malloc_tuned": tuned, "results": results}, indent=2))


if __name__ == "__main__":
    main()
