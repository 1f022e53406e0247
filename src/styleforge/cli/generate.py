"""`styleforge generate`: images from seeds, one PNG per seed and optionally a grid."""

from ..names import INFERENCE_PRECISIONS
from .options import add_command, add_sampling_options, at_least, bounded, path_list_type, seeds_type, translate_type

EXAMPLES = """  styleforge generate --model model.safetensors --seeds 0-7,12 --outdir out
  styleforge generate --model model.safetensors --seeds 0-15 --trunc 0.7 --grid --outdir out
  styleforge generate --model model.safetensors --seeds 3 --trunc 0.5 --trunc-cutoff 8 --outdir out
  styleforge generate --model cond.safetensors --seeds 0-3 --class 3 --noise-mode random --outdir out
  styleforge generate --model model.safetensors --projected-w out/projected_w.npz --outdir out
  styleforge generate --model stylegan3-r-afhqv2-512x512.pkl --seeds 0-3 --translate 0.1,-0.2 --rotate 30 --outdir out
--translate / --rotate move StyleGAN3 (alias-free) images as stylegan3's gen_images.py does."""


def register(commands) -> None:
    parser = add_command(commands, "generate", "Generate images from seeds or latent files.", EXAMPLES)
    add_sampling_options(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--seeds", type=seeds_type, help="seeds, e.g. 0-7,12")
    source.add_argument("--projected-w", type=path_list_type, default=None, metavar="FILES",
                        help="comma-separated latent files (projected_w.npz / projected.safetensors) to render")
    parser.add_argument("--trunc-cutoff", type=int, default=None, metavar="N",
                        help="truncate only the first N W+ layers (default: all)")
    parser.add_argument("--outdir", required=True, help="folder for the PNG files")
    parser.add_argument("--grid", action="store_true", help="also write all images as grid.png")
    parser.add_argument("--batch", type=at_least(1, "--batch"), default=16, help="images per forward pass")
    parser.add_argument("--translate", type=translate_type, default=None, metavar="X,Y",
                        help="StyleGAN3 only: shift the image by X,Y image widths")
    parser.add_argument("--rotate", type=bounded(float, -360, 360, "--rotate"), default=None, metavar="DEG",
                        help="StyleGAN3 only: rotate the image by DEG degrees")
    parser.add_argument("--precision", choices=INFERENCE_PRECISIONS, default="auto",
                        help="auto: on CUDA the model's num_fp16_res highest blocks in fp16, as the reference "
                             "runs them; fp32: exact; mixed / mixed-bf16: those blocks in fp16 / bf16")
