"""`styleforge mix`: the style-mixing figure (StyleGAN paper, Fig. 3)."""

from .options import add_command, add_sampling_options, int_list_type, seeds_type

EXAMPLES = """  styleforge mix --model model.safetensors --rows 85,100,75 --cols 55,821,1789 --outdir out
  styleforge mix --model model.safetensors --rows 1,2 --cols 3-5 --styles 0-3 --outdir out   # coarse
  styleforge mix --model model.safetensors --rows 1,2 --cols 3-5 --styles 8-17 --trunc 0.7 --outdir out
Each cell takes the W+ layers listed in --styles from its column seed and all others from its row
seed (layers are numbered from the 4x4 block up; see `styleforge inspect`)."""


def register(commands) -> None:
    parser = add_command(commands, "mix", "Style-mixing grid: row seeds × column seeds.", EXAMPLES)
    add_sampling_options(parser)
    parser.add_argument("--rows", type=seeds_type, required=True, help="row seeds, e.g. 1,2")
    parser.add_argument("--cols", type=seeds_type, required=True, help="column seeds, e.g. 3-5")
    parser.add_argument("--styles", type=int_list_type, default=None,
                        help="W+ layers taken from the column seeds (default: 0-6, as the reference)")
    parser.add_argument("--outdir", required=True, help="folder for mix-grid.png")
