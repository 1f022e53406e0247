"""`styleforge mix`: the style-mixing figure (StyleGAN paper, Fig. 3)."""

from ..errors import StyleforgeError
from ..generate import style_mixing
from ..render import labeled_grid, save_image, to_uint8
from .common import (add_command, add_sampling_options, check_class, int_list_type, load_generator,
                     output_dir, seeds_type)

EXAMPLES = """  styleforge mix --model model.safetensors --rows 85,100,75 --cols 55,821,1789 --outdir out
  styleforge mix --model model.safetensors --rows 1,2 --cols 3-5 --styles 0-3 --outdir out   # coarse
  styleforge mix --model model.safetensors --rows 1,2 --cols 3-5 --styles 8-17 --trunc 0.7 --outdir out
Each cell takes the W+ layers listed in --styles from its column seed and all others from its row
seed (layers are numbered from the 4x4 block up; see `styleforge inspect`)."""


def register(commands) -> None:
    parser = add_command(commands, "mix", "Style-mixing grid: row seeds × column seeds.", EXAMPLES, run)
    add_sampling_options(parser)
    parser.add_argument("--rows", type=seeds_type, required=True, help="row seeds, e.g. 1,2")
    parser.add_argument("--cols", type=seeds_type, required=True, help="column seeds, e.g. 3-5")
    parser.add_argument("--styles", type=int_list_type, default=None,
                        help="W+ layers taken from the column seeds (default: 0-6, as the reference)")
    parser.add_argument("--outdir", required=True, help="folder for mix-grid.png")


def run(args) -> int:
    G = load_generator(args.model, args.device, args.network_key)
    check_class(G, args.class_index)
    styles = args.styles if args.styles is not None else list(range(min(7, G.num_ws)))
    bad = [s for s in styles if not 0 <= s < G.num_ws]
    if bad:
        raise StyleforgeError(f"--styles {bad[0]} is beyond this model's W+ layers (0..{G.num_ws - 1})")
    outdir = output_dir(args.outdir)
    rows, cols, cells = style_mixing(G, args.rows, args.cols, styles, psi=args.trunc,
                                     noise_mode=args.noise_mode, class_index=args.class_index)
    n, k = cells.shape[:2]
    cell_images = to_uint8(cells.flatten(0, 1))
    grid = labeled_grid(to_uint8(rows), to_uint8(cols), cell_images.reshape(n, k, *cell_images.shape[1:]))
    save_image(grid, outdir / "mix-grid.png")
    print(f"wrote {outdir / 'mix-grid.png'} ({n} rows × {k} columns, styles {styles})")
    return 0
