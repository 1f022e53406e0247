"""`styleforge train`: train a StyleGAN2 on a folder, a zip or the built-in toyfaces."""

import sys

from ..train import TRAINING_PRESETS, train, training_config
from ..train.config import PRECISIONS
from .common import add_command, device_type

EXAMPLES = """  styleforge train --data toyfaces --preset small --kimg 200 --outdir runs
  styleforge train --data ~/datasets/ffhq256.zip --preset paper256 --kimg 25000 --mirror --outdir runs
  styleforge train --data pets.zip --preset paper256 --cond --outdir runs           # class-conditional
  styleforge train --resume auto --kimg 400 --outdir runs                            # continue the latest run
  styleforge train --data faces.zip --init-from ffhq.pkl --freeze-d 4 --kimg 200 --outdir runs
  torchrun --nproc_per_node=4 -m styleforge train --data ffhq.zip --preset stylegan2 --outdir runs
Each run writes <outdir>/<NNNNN-desc>/: config.json, log.jsonl, TensorBoard events, reals.png,
fakes-<kimg>.png, network-snapshot-<kimg>.safetensors (load with `styleforge generate`) and
checkpoints/ with the whole training state. Ctrl-C or SIGTERM writes a checkpoint and exits."""


def register(commands) -> None:
    parser = add_command(commands, "train", "Train a StyleGAN2.", EXAMPLES, run)
    parser.add_argument("--data", default="toyfaces", help="'toyfaces' or a folder / zip of images")
    parser.add_argument("--outdir", default="runs", help="where run directories are created")
    parser.add_argument("--preset", default="small", choices=list(TRAINING_PRESETS),
                        help="model and hyper-parameter preset")
    parser.add_argument("--resolution", type=int, default=None, help="toyfaces resolution (default: the preset's)")
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
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--resume", default=None, metavar="auto|PATH",
                        help="'auto' (latest run in --outdir), a run directory or a checkpoint")
    parser.add_argument("--init-from", default=None, metavar="MODEL", help="start from a pretrained model")
    parser.add_argument("--freeze-d", type=int, default=None, help="freeze D's first N layers")
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="fp32 (CPU), bf16 / fp16 on CUDA")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 on CUDA")
    parser.add_argument("--channels-last", action="store_true", help="channels-last memory format on CUDA")
    parser.add_argument("--device", type=device_type, default=None, help="cpu or cuda (default: cuda when present)")


def _progress_printer():
    from tqdm import tqdm

    bar = None
    tty = sys.stderr.isatty()

    def report(entry: dict) -> None:
        nonlocal bar
        if "metric" in entry:
            (bar.write if bar is not None else print)(
                f"kimg {entry['kimg']:.1f}  {entry['metric']} {entry['value']:.4f}")
            return
        losses = {k.split("/")[1]: f"{v:.3f}" for k, v in entry.items() if k.startswith("loss/")}
        if tty:
            if bar is None:
                bar = tqdm(total=entry["total_kimg"], unit="kimg", bar_format=
                           "{l_bar}{bar}| {n:.1f}/{total:.0f} kimg [{elapsed}<{remaining}{postfix}]")
            bar.update(entry["kimg"] - bar.n)
            bar.set_postfix(img_s=f"{entry['img_per_s']:.1f}", **losses)
        else:
            print(f"kimg {entry['kimg']:.1f}  img/s {entry['img_per_s']:.1f}  "
                  + "  ".join(f"{k} {v}" for k, v in losses.items()), flush=True)

    return report


def run(args) -> int:
    options = dict(data=args.data, resolution=args.resolution, kimg=args.kimg, batch=args.batch,
                   batch_gpu=args.batch_gpu, gamma=args.gamma, glr=args.glr, dlr=args.dlr,
                   pl_weight=args.pl_weight, style_mixing_prob=args.style_mixing, ema_kimg=args.ema_kimg,
                   mirror=args.mirror or None, cond=args.cond or None, max_size=args.max_size,
                   snapshot_kimg=args.snap, max_minutes=args.max_minutes, seed=args.seed,
                   init_from=args.init_from, freeze_d=args.freeze_d, precision=args.precision,
                   tf32=args.tf32 or None, channels_last=args.channels_last or None,
                   metrics=None if args.metrics is None else tuple(
                       m for m in args.metrics.split(",") if m.strip() and m.strip() != "none"))
    config = training_config(args.preset, **options)
    result = train(config, args.outdir, resume=args.resume, progress=_progress_printer(), device=args.device)
    if result.run_dir is not None:
        print(f"{result.status} at {result.cur_nimg / 1000:.1f} kimg: {result.run_dir}"
              + (f" (latest model: {result.snapshot})" if result.snapshot else ""))
    return 0 if result.status in ("done", "time-limit") else 130
