"""Throughput of the metric pipelines on CPU, printed as JSON: images/s through VGG16 (LPIPS trunk at
256 px, fc2 at 224 px), SWD and MS-SSIM. Speed does not depend on the weight values, so the feature
networks run with random weights here; no metric value is reported.

Usage: python benchmarks/metrics_speed.py [--batch 8]
"""

import argparse
import json
import os
import resource
import time

import torch

from styleforge.metrics.msssim import ms_ssim
from styleforge.metrics.networks import LPIPS, VGG16
from styleforge.metrics.swd import swd
from styleforge.runtime import tune_allocator


def rate(fn, images: int, repeats: int = 3) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return round(images * repeats / (time.perf_counter() - start), 2)


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    tuned = tune_allocator()
    torch.manual_seed(0)
    vgg = VGG16().eval()
    lpips = LPIPS(vgg, [torch.rand(1, c, 1, 1) for c in (64, 128, 256, 512, 512)])
    b = args.batch
    x256, y256 = torch.rand(b, 3, 256, 256) * 2 - 1, torch.rand(b, 3, 256, 256) * 2 - 1
    x224 = torch.rand(b, 3, 224, 224)
    x32 = torch.rand(1000, 3, 32, 32) * 2 - 1
    results = {
        "lpips_vgg16_256px_pairs_per_s": rate(lambda: lpips(x256, y256), b),
        "vgg16_fc2_224px_images_per_s": rate(lambda: vgg.fc2(x224), b),
        "swd_32px_1000_images_per_s": rate(lambda: swd(x32, x32.flip(0)), 1000, repeats=1),
        "msssim_32px_pairs_per_s": rate(lambda: ms_ssim((x32 + 1) * 127.5, (x32.flip(0) + 1) * 127.5), 1000),
    }
    print(json.dumps({"benchmark": "metrics_speed", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "cpu_count": os.cpu_count(), "malloc_tuned": tuned, "batch": b, "results": results,
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)},
                     indent=2))


if __name__ == "__main__":
    main()
