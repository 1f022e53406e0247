"""Latency of the web explorer's image endpoint over real HTTP (loopback), printed as JSON.

Starts `styleforge serve`'s app (styleforge.web.create_app over an Explorer) with uvicorn in this
process and requests images the way the page does: new seeds (mapping + synthesis), ψ changes of a
cached seed (synthesis only), and 8 concurrent clients. Default: the `small` preset at 64 px, CPU.
`--allocator tuned` (default) raises glibc's mmap/trim thresholds as `styleforge serve` does at
start-up (styleforge.runtime.tune_allocator); `--allocator default` leaves glibc's defaults.

Usage: python benchmarks/serve_latency.py [--preset small] [--resolution 64] [--requests 100]
       [--device cpu] [--allocator tuned|default]
"""

import argparse
import json
import os
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def _percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50_ms": round(1000 * statistics.median(ordered), 2),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 2),
            "max_ms": round(1000 * ordered[-1], 2), "requests": len(ordered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--allocator", choices=["tuned", "default"], default="tuned")
    args = parser.parse_args()

    from styleforge.runtime import tune_allocator
    tuned = tune_allocator() if args.allocator == "tuned" else False

    import httpx
    import torch
    import uvicorn

    import styleforge as sf
    from styleforge.web import Explorer
    from styleforge.web.app import create_app

    torch.manual_seed(0)
    G = sf.build(args.preset, "G", resolution=args.resolution).to(args.device)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(Explorer(G)), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"

    def timed(http, query: str) -> float:
        start = time.perf_counter()
        response = http.get(f"/api/image?{query}")
        response.raise_for_status()
        return time.perf_counter() - start

    with httpx.Client(base_url=base, timeout=60) as http:
        for seed in range(5):  # warm-up
            timed(http, f"seed={seed}")
        new_seeds = [timed(http, f"seed={100 + k}") for k in range(args.requests)]
        psi_moves = [timed(http, f"seed=100&psi={0.3 + 0.7 * k / args.requests:.4f}") for k in range(args.requests)]

    concurrent: list[float] = []

    def client(index: int):
        with httpx.Client(base_url=base, timeout=60) as http:
            for k in range(max(1, args.requests // 8)):
                concurrent.append(timed(http, f"seed={10_000 * (index + 1) + k}"))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(client, range(8)))
    server.should_exit = True
    print(json.dumps({
        "benchmark": "serve_latency", "preset": args.preset, "resolution": args.resolution, "device": args.device,
        "threads": torch.get_num_threads(), "allocator": args.allocator, "allocator_tuned": tuned,
        "malloc_env": {k: os.environ.get(k) for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")},
        "new_seed": _percentiles(new_seeds), "psi_change": _percentiles(psi_moves),
        "eight_clients": _percentiles(concurrent),
    }, indent=2))


if __name__ == "__main__":
    main()
