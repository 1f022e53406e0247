"""Generation with torch.compile against eager, per FIR path: img/s of G.synthesis (best of --iters
batches), compile time, and the largest difference to the eager images. On CPU this is inductor's C++
backend; on CUDA, Triton. Prints JSON.

Usage: python benchmarks/compile_speed.py [--preset small] [--resolution 32] [--batch 32]
                                          [--resample conv,shift] [--device cpu]
"""

import argparse
import json
import time

import torch

import styleforge as sf
from styleforge.nn import fastpath
from styleforge.runtime import tune_allocator


def best_rate(fn, ws, batch: int, iters: int, device: str) -> float:
    best = float("inf")
    for _ in range(iters):
        start = time.perf_counter()
        fn(ws)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return batch / best


def measure(G, resample: str, batch: int, iters: int, device: str) -> dict:
    fastpath.configure(resample)
    ws = G.mapping(torch.randn(batch, G.z_dim, device=device), None)
    with torch.no_grad():
        eager = G.synthesis(ws)
        start = time.perf_counter()
        compiled = torch.compile(G.synthesis)
        first = compiled(ws)
        compile_s = time.perf_counter() - start
        result = {"resample": resample, "compile_s": round(compile_s, 1),
                  "max_abs_diff": float((first - eager).abs().max()),
                  "eager_images_per_s": round(best_rate(G.synthesis, ws, batch, iters, device), 1),
                  "compiled_images_per_s": round(best_rate(compiled, ws, batch, iters, device), 1)}
    torch._dynamo.reset()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--resample", default="conv,shift")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    tune_allocator()
    G = sf.build(args.preset, "G", img_resolution=args.resolution).to(args.device).eval()
    results = [measure(G, resample, args.batch, args.iters, args.device) for resample in args.resample.split(",")]
    print(json.dumps({"benchmark": "compile_speed", "preset": args.preset, "resolution": args.resolution,
                      "batch": args.batch, "device": args.device, "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
