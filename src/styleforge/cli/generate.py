"""`styleforge generate`: images from seeds, one PNG per seed and optionally a grid."""

import numpy as np

from ..errors import StyleforgeError
from ..generate import generate
from ..render import make_grid, save_image, to_uint8
from .common import (add_command, add_sampling_options, check_class, load_generator, output_dir,
                     progress_bar, seeds_type)

EXAMPLES = """  styleforge generate --model model.safetensors --seeds 0-7,12 --outdir out
  styleforge generate --model model.safetensors --seeds 0-15 --trunc 0.7 --grid --outdir out
  styleforge generate --model model.safetensors --seeds 3 --trunc 0.5 --trunc-cutoff 8 --outdir out
  styleforge generate --model cond.safetensors --seeds 0-3 --class 3 --noise-mode random --outdir out"""


def register(commands) -> None:
    parser = add_command(commands, "generate", "Generate images from seeds.", EXAMPLES, run)
    add_sampling_options(parser)
    parser.add_argument("--seeds", type=seeds_type, required=True, help="seeds, e.g. 0-7,12")
    parser.add_argument("--trunc-cutoff", type=int, default=None, metavar="N",
                        help="truncate only the first N W+ layers (default: all)")
    parser.add_argument("--outdir", required=True, help="folder for the PNG files")
    parser.add_argument("--grid", action="store_true", help="also write all images as grid.png")
    parser.add_argument("--batch", type=int, default=16, help="images per forward pass")


def run(args) -> int:
    G = load_generator(args.model, args.device, args.network_key)
    check_class(G, args.class_index)
    if args.trunc_cutoff is not None and not 0 <= args.trunc_cutoff <= G.num_ws:
        raise StyleforgeError(f"--trunc-cutoff {args.trunc_cutoff} is beyond this model's "
                              f"{G.num_ws} W+ layers (use 0..{G.num_ws})")
    outdir = output_dir(args.outdir)
    with progress_bar(len(args.seeds), "generate") as bar:
        images = to_uint8(generate(G, args.seeds, psi=args.trunc, cutoff=args.trunc_cutoff,
                                   noise_mode=args.noise_mode, class_index=args.class_index,
                                   batch_size=max(1, args.batch), progress=bar.update))
    for seed, image in zip(args.seeds, images):
        save_image(image, outdir / f"seed{seed:04d}.png")
    if args.grid:
        save_image(make_grid(images, cols=int(np.ceil(np.sqrt(len(images))))), outdir / "grid.png")
    print(f"wrote {len(images)} images{' and grid.png' if args.grid else ''} to {outdir}")
    return 0
