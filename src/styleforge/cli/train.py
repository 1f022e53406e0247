"""`styleforge train`: train a StyleGAN2 on a folder, a zip or the built-in toyfaces."""

from ..config import FAMILIES
from ..train.config import PRECISIONS, TRAINING_PRESETS
from .options import add_command, device_type, seed_type

EXAMPLES = """  styleforge train --data toyfaces --preset small --kimg 200 --outdir runs
  styleforge train --data ~/datasets/ffhq256.zip --preset paper256 --kimg 25000 --mirror --outdir runs
  styleforge train --data pets.zip --preset paper256 --cond --outdir runs           # class-conditional
  styleforge train --resume auto --kimg 400 --outdir runs                            # continue the latest run
  styleforge train --data faces.zip --init-from ffhq.pkl --freeze-d 4 --kimg 200 --outdir runs
  styleforge train --data toyfaces --preset small --resolution 64 --family stylegan1 --outdir runs  # v1 (AdaIN)
  torchrun --nproc_per_node=4 -m styleforge train --data ffhq.zip --preset stylegan2 --outdir runs
Each run writes <outdir>/<NNNNN-desc>/: config.json, log.jsonl, TensorBoard events, reals.png,
fakes-<kimg>.png, network-snapshot-<kimg>.safetensors (load with `styleforge generate`) and
checkpoints/ with the whole training state. Ctrl-C or SIGTERM writes a checkpoint and exits."""


def register(commands) -> None:
    parser = add_command(commands, "train", "Train a StyleGAN2.", EXAMPLES)
    parser.add_argument("--data", default=None, help="'toyfaces' or a folder / zip of images (default: toyfaces)")
    parser.add_argument("--outdir", default="runs", help="where run directories are created")
    parser.add_argument("--preset", default=None, choices=list(TRAINING_PRESETS),
                        help="model and hyper-parameter preset (default: small)")
    parser.add_argument("--resolution", type=int, default=None, help="toyfaces resolution (default: the preset's)")
    parser.add_argument("--family", choices=FAMILIES, default=None,
                        help="generator family: stylegan2 (modulated convs) or stylegan1 (AdaIN, with the "
                             "StyleGAN2 D and loss; default: the preset's)")
    parser.add_argument("--kimg", type=float, default=None, help="train for this many thousand real images")
    parser.add_argument("--batch", type=int, default=None, help="global batch size")
    parser.add_argument("--batch-gpu", type=int, default=None, help="images per forward pass per process")
    parser.add_argument("--gamma", type=float, default=None, help="R1 weight")
    parser.add_argument("--glr", type=float, default=None, help="generator learning rate")
    parser.add_argument("--dlr", type=float, default=None, help="discriminator learning rate")
    parser.add_argument("--pl-weight", type=float, default=None, help="path-length regularization weight")
    parser.add_argument("--style-mixing", type=float, default=None, help="style-mixing probability")
    parser.add_argument("--ema-kimg", type=float, default=None, help="EMA half-life in kimg")
    parser.add_argument("--mirror", action="store_true", help="random x-flips of the real images")
    parser.add_argument("--cond", action="store_true", help="conditional on the dataset's labels")
    parser.add_argument("--max-size", type=int, default=None, help="use at most N dataset images")
    parser.add_argument("--snap", type=float, default=None, help="snapshot interval in kimg")
    parser.add_argument("--metrics", default=None,
                        help="metrics at each snapshot, e.g. swd1k,msssim1k, or 'none' (default: the preset's; 'auto' = fid50k_full on CUDA with Inception weights on disk, else swd1k)")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop cleanly after this wall time")
    parser.add_argument("--seed", type=seed_type, default=None, help="random seed (default: 0)")
    parser.add_argument("--resume", default=None, metavar="auto|PATH",
                        help="'auto' (latest run in --outdir), a run directory or a checkpoint")
    parser.add_argument("--init-from", default=None, metavar="MODEL", help="start from a pretrained model")
    parser.add_argument("--freeze-d", type=int, default=None, help="freeze D's first N layers")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="fp32 (CPU); on CUDA bf16 / fp16 autocast, or 'mixed' as the reference: the "
                             "num_fp16_res highest-resolution blocks in fp16 (mixed-bf16: bf16), the rest fp32")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 on CUDA")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="DataLoader worker processes reading real images ahead; 1 = one read-ahead thread "
                             "(default 0 = auto: 1 on CPU, up to 8 on CUDA)")
    parser.add_argument("--channels-last", action="store_true", help="channels-last memory format on CUDA")
    parser.add_argument("--device", type=device_type, default=None, help="cpu or cuda (default: cuda when present)")
