"""`styleforge demo`: the main job on the built-in default. Trains the `small` preset on toyfaces for
a bounded wall time, reports SWD, then writes a sample grid, a truncation strip (ψ 1 → 0), a
style-mixing grid and an interpolation GIF. With --model it only renders the figures."""

from pathlib import Path

import numpy as np

from ..checkpoint import load
from ..data import ToyFaces
from ..metrics import append_result, evaluate, parse_metric
from ..generate import generate, style_mixing, truncation_strip
from ..latents import rows_for_resolutions
from ..render import interpolation_frames, labeled_grid, make_grid, save_gif, save_image, to_uint8
from ..train import train, training_config
from .common import add_command, load_generator, output_dir
from .train import _progress_printer

EXAMPLES = """  styleforge demo                                   # train ~12 min on toyfaces, then write figures
  styleforge demo --minutes 30 --resolution 64 --outdir out/demo64
  styleforge demo --model runs/00000-toyfaces32-small/network-snapshot-000020.safetensors"""


def register(commands) -> None:
    parser = add_command(commands, "demo", "Train on toyfaces for a few minutes and write example figures.",
                         EXAMPLES, run)
    parser.add_argument("--outdir", default="out/demo", help="output folder (the run goes to OUTDIR/run)")
    parser.add_argument("--preset", default="small", help="training preset")
    parser.add_argument("--resolution", type=int, default=32, help="toyfaces resolution")
    parser.add_argument("--minutes", type=float, default=12.0, help="training wall-time budget")
    parser.add_argument("--kimg", type=float, default=1000.0, help="upper bound on training length")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--model", default=None, help="skip training: render figures for this generator")


def write_figures(G, outdir: Path) -> list[Path]:
    """samples.png, truncation.png, style-mixing.png, interpolation.gif for a generator."""
    written = []
    samples = to_uint8(generate(G, list(range(32))))
    save_image(make_grid(samples, cols=8, pad=2, fill=255), outdir / "samples.png")
    psis = [float(p) for p in np.linspace(1, 0, 8)]
    strip = to_uint8(truncation_strip(G, [0, 1, 2, 3], psis))
    save_image(make_grid(strip, cols=len(psis), pad=2, fill=255), outdir / "truncation.png")
    coarse = rows_for_resolutions(G, 4, 8)  # pose, face shape: from the column seeds
    rows, cols, cells = style_mixing(G, [10, 11, 12, 13], [20, 21, 22, 23, 24], coarse)
    cell_images = to_uint8(cells.flatten(0, 1))
    grid = labeled_grid(to_uint8(rows), to_uint8(cols), cell_images.reshape(*cells.shape[:2], *cell_images.shape[1:]),
                        fill=255)
    save_image(grid, outdir / "style-mixing.png")
    save_gif(interpolation_frames(G, [0, 1, 2, 3, 4, 5], steps=12, columns=4), outdir / "interpolation.gif",
             scale=max(1, 128 // G.img_resolution))
    written += [outdir / n for n in ("samples.png", "truncation.png", "style-mixing.png", "interpolation.gif")]
    return written


def run(args) -> int:
    outdir = output_dir(args.outdir)
    if args.model:
        G = load_generator(args.model)
    else:
        config = training_config(args.preset, resolution=args.resolution, kimg=args.kimg,
                                 max_minutes=args.minutes, seed=args.seed)
        print(f"training {args.preset} on toyfaces {args.resolution}px for up to {args.minutes:g} minutes "
              f"(run directory under {outdir / 'run'})")
        result = train(config, outdir / "run", progress=_progress_printer())
        print(f"{result.status} at {result.cur_nimg / 1000:.1f} kimg: {result.run_dir}")
        G = load(result.snapshot)
        record = evaluate(G, parse_metric("swd1k"), ToyFaces(G.img_resolution))
        append_result(record, result.snapshot)
        print(f"swd1k (×1e3, lower is better): {record['value']:.2f}")
    for path in write_figures(G.eval(), Path(outdir)):
        print(f"wrote {path}")
    return 0
