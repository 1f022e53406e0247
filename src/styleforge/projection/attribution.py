"""Attribution by reprojection (StyleGAN2 paper, Sec. 5): images a generator made project back into
its W space far more closely than real images do, so "projection distance below a threshold ⇒
generated" separates the two. Here: the ROC AUC of that rule, the threshold with the fewest errors and
its error rates, and a histogram of both distance distributions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..errors import StyleforgeError
from ..files import atomic_path

GENERATED_COLOUR, REAL_COLOUR = (214, 96, 77), (67, 147, 195)


def roc_auc(generated: np.ndarray, real: np.ndarray) -> float:
    """AUC of 'distance below threshold ⇒ generated' = P(d_generated < d_real) + ½ P(tie)
    (the Mann–Whitney statistic over every (generated, real) pair)."""
    generated, real = np.asarray(generated, np.float64), np.asarray(real, np.float64)
    if generated.size == 0 or real.size == 0:
        raise StyleforgeError("the AUC needs at least one generated and one real distance")
    below = (generated[:, None] < real[None, :]).sum()
    ties = (generated[:, None] == real[None, :]).sum()
    return float((below + 0.5 * ties) / (generated.size * real.size))


def best_threshold(generated: np.ndarray, real: np.ndarray) -> dict:
    """The threshold t (an image is called generated when its distance is ≤ t) with the fewest
    misclassified images, and its error rates."""
    generated, real = np.asarray(generated, np.float64), np.asarray(real, np.float64)
    candidates = np.unique(np.concatenate([generated, real]))
    best = None
    for t in candidates:
        missed = float((generated > t).mean())        # generated images called real
        false_alarm = float((real <= t).mean())        # real images called generated
        errors = missed * generated.size + false_alarm * real.size
        if best is None or errors < best[0]:
            best = (errors, t, missed, false_alarm)
    _, t, missed, false_alarm = best
    total = generated.size + real.size
    return {"threshold": float(t), "generated_called_real": missed, "real_called_generated": false_alarm,
            "accuracy": 1 - (missed * generated.size + false_alarm * real.size) / total}


def histogram_png(generated: np.ndarray, real: np.ndarray, path: str | Path, bins: int = 30,
                  threshold: float | None = None, size: tuple[int, int] = (640, 360)) -> Path:
    """Both distance distributions overlaid (as StyleGAN2 Fig. 11): generated in red, real in blue."""
    values = np.concatenate([generated, real])
    lo, hi = float(values.min()), float(values.max())
    hi = hi if hi > lo else lo + 1e-6
    edges = np.linspace(lo, hi, bins + 1)
    counts = [np.histogram(v, edges)[0] for v in (generated, real)]
    peak = max(1, max(int(c.max()) for c in counts))
    width, height = size
    left, bottom, top, right = 50, 40, 20, 20
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image, "RGBA")
    plot_w, plot_h = width - left - right, height - top - bottom
    bar = plot_w / bins
    for colour, count in zip((GENERATED_COLOUR, REAL_COLOUR), counts):
        for i, n in enumerate(count):
            if n:
                x0 = left + i * bar
                draw.rectangle([x0, top + plot_h * (1 - n / peak), x0 + bar - 1, top + plot_h],
                               fill=colour + (150,))
    draw.line([left, top + plot_h, left + plot_w, top + plot_h], fill=(0, 0, 0))
    draw.line([left, top, left, top + plot_h], fill=(0, 0, 0))
    if threshold is not None:
        x = left + (threshold - lo) / (hi - lo) * plot_w
        draw.line([x, top, x, top + plot_h], fill=(0, 0, 0), width=2)
    draw.text((left, top + plot_h + 8), f"{lo:.4g}", fill=(0, 0, 0))
    draw.text((left + plot_w - 60, top + plot_h + 8), f"{hi:.4g}", fill=(0, 0, 0))
    draw.text((left + plot_w / 2 - 60, top + plot_h + 22), "projection distance", fill=(0, 0, 0))
    draw.text((left + 8, top), f"generated (n={len(generated)})", fill=GENERATED_COLOUR)
    draw.text((left + 8, top + 14), f"real (n={len(real)})", fill=REAL_COLOUR)
    draw.text((4, top), str(peak), fill=(0, 0, 0))
    path = Path(path)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
    return path
