"""`styleforge demo`: the main job on the built-in default. For now: build a `small` model and write
a sample grid, a truncation strip and a style-mixing grid (training arrives with the training issue)."""

from pathlib import Path

import numpy as np
import torch

from ..checkpoint import save
from ..generate import generate, style_mixing, truncation_strip
from ..models import build
from ..render import labeled_grid, make_grid, save_image, to_uint8
from .common import add_command, output_dir

EXAMPLES = """  styleforge demo
  styleforge demo --outdir out/demo --preset tiny --seed 1"""


def register(commands) -> None:
    parser = add_command(commands, "demo", "Build a small model and write example figures.", EXAMPLES, run)
    parser.add_argument("--outdir", default="out/demo", help="output folder")
    parser.add_argument("--preset", default="small", help="model preset")
    parser.add_argument("--seed", type=int, default=0, help="initialization seed")


def run(args) -> int:
    outdir = output_dir(args.outdir)
    torch.manual_seed(args.seed)
    G = build(args.preset, "G").eval()
    save(G, outdir / "G.safetensors")
    samples = to_uint8(generate(G, list(range(16))))
    save_image(make_grid(samples, cols=4, pad=2), outdir / "samples.png")
    psis = [float(p) for p in np.linspace(1, 0, 6)]
    strip = to_uint8(truncation_strip(G, [0, 1, 2], psis))
    save_image(make_grid(strip, cols=len(psis), pad=2), outdir / "truncation.png")
    rows, cols, cells = style_mixing(G, [10, 11, 12], [20, 21, 22, 23], list(range(4)))
    cell_images = to_uint8(cells.flatten(0, 1))
    grid = labeled_grid(to_uint8(rows), to_uint8(cols), cell_images.reshape(3, 4, *cell_images.shape[1:]))
    save_image(grid, outdir / "style-mixing.png")
    for name in ("G.safetensors", "samples.png", "truncation.png", "style-mixing.png"):
        print(f"wrote {Path(outdir) / name}")
    print("note: the model is untrained; `styleforge train` will replace this with a trained one")
    return 0
