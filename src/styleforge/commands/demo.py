"""`styleforge demo`: The demo: train `small` on toyfaces, then write the example figures (options: cli/demo.py)."""

from pathlib import Path

import numpy as np

from ..checkpoint import load
from ..data import ToyFaces
from ..figures import generate, style_mixing, truncation_strip
from ..latents import layer_groups
from ..metrics import append_result, evaluate, parse_metric
from ..media import interpolation_frames, labeled_grid, make_grid, save_gif, save_image, to_uint8
from ..train import train, training_config
from .common import load_generator, output_dir
from .train import progress_printer


def write_figures(G, outdir: Path) -> list[Path]:
    """samples.png, truncation.png, style-mixing.png, interpolation.gif for a generator."""
    written = []
    samples = to_uint8(generate(G, list(range(32))))
    save_image(make_grid(samples, cols=8, pad=2, fill=255), outdir / "samples.png")
    psis = [float(p) for p in np.linspace(1, 0, 8)]
    strip = to_uint8(truncation_strip(G, [0, 1, 2, 3], psis))
    save_image(make_grid(strip, cols=len(psis), pad=2, fill=255), outdir / "truncation.png")
    coarse = layer_groups(G)["coarse"]  # pose, face shape: from the column seeds
    rows, cols, cells = style_mixing(G, [10, 11, 12, 13], [20, 21, 22, 23, 24], coarse)
    cell_images = to_uint8(cells.flatten(0, 1))
    grid = labeled_grid(to_uint8(rows), to_uint8(cols), cell_images.reshape(*cells.shape[:2], *cell_images.shape[1:]),
                        fill=255)
    save_image(grid, outdir / "style-mixing.png")
    save_gif(interpolation_frames(G, [0, 1, 2, 3, 4, 5], steps=12, columns=4), outdir / "interpolation.gif",
             scale=max(1, 128 // G.img_resolution))
    written += [outdir / n for n in ("samples.png", "truncation.png", "style-mixing.png", "interpolation.gif")]
    return written


EXPECTED_MINUTES = 12   # the default demo's length (small, 32 px, 30 kimg) on the 2-core machine (docs/training.md)
DEFAULT_RUN = ("small", 32, 30.0)


def expected_minutes(preset: str, resolution: int, kimg: float) -> float | None:
    """The demo's measured length scaled to `kimg`; None for another preset or resolution (not measured)."""
    if (preset, resolution) != DEFAULT_RUN[:2]:
        return None
    return EXPECTED_MINUTES * kimg / DEFAULT_RUN[2]
CHECK_AFTER_S = 20      # when to compare this machine's speed with that


def _speed_check(report, kimg: float, expected: float | None):
    """Wraps a progress printer: once the first seconds show this machine's speed, says plainly when
    the demo will take much longer than `expected` minutes."""
    said = False

    def check(entry: dict) -> None:
        nonlocal said
        report(entry)
        if not said and entry.get("event") == "step" and entry["wall_s"] >= CHECK_AFTER_S and entry["kimg"] > 0:
            said = True
            minutes = kimg / entry["kimg"] * entry["wall_s"] / 60
            if expected is not None and minutes > 1.5 * max(expected, 1):
                print(f"note: this machine is slower than the one the demo was sized for: {kimg:g} kimg will "
                      f"take about {minutes:.0f} min here instead of ~{expected:.0f}; Ctrl-C stops it "
                      "(the run stays resumable), --kimg trains less", flush=True)
    return check


def run(args) -> int:
    outdir = output_dir(args.outdir)
    if args.model:
        G = load_generator(args.model)
    else:
        config = training_config(args.preset, resolution=args.resolution, kimg=args.kimg,
                                 max_minutes=args.minutes, seed=args.seed)
        limit = f", at most {args.minutes:g} minutes" if args.minutes else ""
        expected = expected_minutes(args.preset, args.resolution, args.kimg)
        estimate = f" (~{max(expected, 1):.0f} min on 2 CPU cores)" if expected is not None else ""
        print(f"demo: training {args.preset} on toyfaces {args.resolution}px for {args.kimg:g} kimg{limit}"
              f"{estimate}, then writing figures to {outdir}", flush=True)
        result = train(config, outdir / "run", progress=_speed_check(progress_printer(), args.kimg, expected))
        if result.status == "interrupted":
            print(f"interrupted at {result.cur_nimg / 1000:.1f} kimg; no figures written. The run is in "
                  f"{result.run_dir}; continue it with: styleforge train --resume {result.run_dir} "
                  f"--kimg {args.kimg:g}", flush=True)
            return 130
        print(f"{result.status} at {result.cur_nimg / 1000:.1f} kimg: {result.run_dir}")
        G = load(result.snapshot)
        record = evaluate(G, parse_metric("swd1k"), ToyFaces(G.img_resolution))
        append_result(record, result.snapshot)
        print(f"swd1k (×1e3, lower is better): {record['value']:.2f}")
    for path in write_figures(G.eval(), Path(outdir)):
        print(f"wrote {path}")
    return 0
