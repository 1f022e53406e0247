"""Generation throughput (images/s) and peak memory for the `small` preset on CPU, printed as JSON.

Each configuration runs in a fresh child process so that peak RSS and the allocator settings are its
own. Reported both with glibc's default allocator and with raised mmap/trim thresholds
(MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_), which avoid re-faulting large tensors each call.

Usage: python benchmarks/generate_speed.py [--preset small] [--batch 32] [--iters 10] [--device cpu]
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def measure(preset: str, batch: int, iters: int, device: str, fused: bool) -> dict:
    import torch

    import styleforge as sf

    torch.manual_seed(0)
    G = sf.build(preset, "G").to(device).eval()
    z = torch.randn(batch, G.z_dim, device=device)
    with torch.no_grad():
        for _ in range(2):  # warm-up
            G.synthesis(G.mapping(z), fused_modconv=fused)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(iters):
            G.synthesis(G.mapping(z), fused_modconv=fused)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return {
        "images_per_s": round(batch * iters / seconds, 2),
        "ms_per_batch": round(1000 * seconds / iters, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", choices=["fused", "unfused"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.preset, args.batch, args.iters, args.device, args.child == "fused")))
        return

    import torch

    results = {}
    for allocator, extra_env in (("default_malloc", {}), ("tuned_malloc", MALLOC_ENV)):
        for mode in ("fused", "unfused"):
            env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}
            env.update(extra_env)
            out = subprocess.run([sys.executable, __file__, "--child", mode, "--preset", args.preset,
                                  "--batch", str(args.batch), "--iters", str(args.iters),
                                  "--device", args.device],
                                 env=env, check=True, capture_output=True, text=True).stdout
            results[f"{allocator}.{mode}_modconv"] = json.loads(out)
    print(json.dumps({
        "benchmark": "generate_speed", "preset": args.preset, "batch": args.batch,
        "iters": args.iters, "device": args.device, "torch": torch.__version__,
        "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "machine": platform.machine(), "results": results,
    }, indent=2))


if __name__ == "__main__":
    main()
