"""Quality metrics. A metric sees only a generator (and real data): `evaluate(G, spec, data)`.

Names carry their sample count, as in the reference (`fid50k_full`, `swd16k`, `prtv50k3`, `is10k`);
`--num` in the CLI overrides it. Each metric module registers itself in `registry.METRICS` (default
count, whether it needs real data, which feature network, how its names are written, how it is
computed): SWD and MS-SSIM need no network, PPL uses LPIPS-VGG16, FID / KID / IS the FID
Inception-v3, precision/recall VGG16 fc2. Importing this package registers them all."""

from . import fid, inception_score, kid, msssim, ppl, precision_recall, swd  # noqa: F401 (registration)
from .evaluate import AUTO, append_result, evaluate, resolve_auto, work
from .features import extractor_for as feature_extractor
from .features import require_weights
from .msssim import msssim_diversity
from .registry import METRICS, EvalContext, Metric, MetricSpec, available, parse_metric, register
from .samples import generated_images, real_images
from .swd import swd as sliced_wasserstein

__all__ = ["METRICS", "Metric", "MetricSpec", "EvalContext", "register", "available", "parse_metric",
           "evaluate", "work", "feature_extractor", "require_weights", "resolve_auto", "AUTO",
           "append_result", "generated_images", "real_images", "sliced_wasserstein", "msssim_diversity"]
