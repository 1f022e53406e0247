"""Throughput of the metric pipelines on CPU, printed as JSON.

Images/s through each feature network exactly as the metrics feed it (uint8 pixels in, resizing
inside): Inception-v3 pool_3 (FID / KID / IS) from 64 px and 256 px images, VGG16 fc2 (precision /
recall), the LPIPS-VGG16 distance (PPL) on 256 px pairs, SWD and MS-SSIM; and the seconds taken by
the statistics that follow the features (the 2048×2048 matrix square root of FID, one KID subset
pass, the k-NN radii of precision/recall). Speed does not depend on the weight values, so the
networks run with random weights; no metric value is reported.

Each allocator setting runs in a fresh child process: glibc's default, and raised
MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ (what `styleforge` sets at start-up).

Usage: python benchmarks/metrics_speed.py [--batch 8] [--device cpu]
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


def rate(fn, items: int, repeats: int = 3) -> float:
    """Items per second over `repeats` calls after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return round(items * repeats / (time.perf_counter() - start), 2)


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return round(time.perf_counter() - start, 3)


def measure(batch: int, device: str) -> dict:
    import numpy as np
    import torch

    from styleforge.metrics.features import vgg_fc2
    from styleforge.metrics.fid import frechet_distance
    from styleforge.metrics.kid import kernel_inception_distance
    from styleforge.metrics.msssim import ms_ssim
    from styleforge.perception import LPIPS, VGG16, InceptionV3
    from styleforge.metrics.precision_recall import precision_recall
    from styleforge.metrics.swd import swd

    torch.manual_seed(0)
    with torch.no_grad():
        inception = InceptionV3().eval().to(device)
        vgg = VGG16().eval().to(device)
        lpips = LPIPS(vgg, [torch.rand(1, c, 1, 1) for c in (64, 128, 256, 512, 512)]).to(device)
        u64 = torch.randint(0, 256, (batch, 3, 64, 64), dtype=torch.uint8, device=device)
        u256 = torch.randint(0, 256, (batch, 3, 256, 256), dtype=torch.uint8, device=device)
        x256, y256 = (torch.rand(2, batch, 3, 256, 256, device=device) * 2 - 1).unbind(0)
        x32 = torch.rand(1000, 3, 32, 32, device=device) * 2 - 1
        results = {
            "inception_pool3_from_64px_images_per_s": rate(lambda: inception.features(u64), batch),
            "inception_pool3_from_256px_images_per_s": rate(lambda: inception.features(u256), batch),
            "vgg16_fc2_from_64px_images_per_s": rate(lambda: vgg_fc2(vgg, u64), batch),
            "lpips_vgg16_256px_pairs_per_s": rate(lambda: lpips(x256, y256), batch),
            "swd_32px_1000_images_per_s": rate(lambda: swd(x32, x32.flip(0)), 1000, repeats=1),
            "msssim_32px_pairs_per_s": rate(lambda: ms_ssim((x32 + 1) * 127.5, (x32.flip(0) + 1) * 127.5), 1000),
        }
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4096, 2048)), rng.standard_normal((4096, 2048)) + 0.1
    mu_a, mu_b, cov_a, cov_b = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    fa, fb = rng.standard_normal((5000, 4096)).astype(np.float32), rng.standard_normal((5000, 4096)).astype(np.float32)
    results.update({
        "fid_sqrtm_2048_seconds": seconds(lambda: frechet_distance(mu_a, cov_a, mu_b, cov_b)),
        "kid_10_subsets_of_1000_seconds": seconds(lambda: kernel_inception_distance(
            a, b, num_subsets=10, max_subset_size=1000)),
        "pr_5000_vs_5000_k3_4096d_seconds": seconds(lambda: precision_recall(
            fa, fb, k=3, device=device)),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    })
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.batch, args.device)))
        return

    import torch

    results = {}
    for allocator, extra_env in (("default_malloc", {}), ("tuned_malloc", MALLOC_ENV)):
        env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}
        env.update(extra_env)
        out = subprocess.run([sys.executable, __file__, "--child", "--batch", str(args.batch),
                              "--device", args.device], env=env, check=True, capture_output=True, text=True)
        results[allocator] = json.loads(out.stdout)
    print(json.dumps({"benchmark": "metrics_speed", "batch": args.batch, "device": args.device,
                      "torch": torch.__version__, "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
                      "machine": platform.machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
