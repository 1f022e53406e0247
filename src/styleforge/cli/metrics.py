"""`styleforge metrics`: evaluate a generator; results are appended to metric-<name>.jsonl."""

from ..data import open_dataset
from ..metrics import append_result, evaluate, parse_metric
from .common import add_command, load_generator, progress_bar

EXAMPLES = """  styleforge metrics --model network-snapshot-000030.safetensors --data toyfaces --metrics swd2k,msssim1k
  styleforge metrics --model model.safetensors --data faces64.zip --metrics swd --num 4096
  styleforge metrics --model model.safetensors --metrics ppl10k_wend --vgg-weights vgg16-397923af.pth --lpips-weights vgg.pth
Metric names carry their sample count (swd2k = 2,000 images; bare swd = 16,384 as in ProGAN;
ppl_wend = 50,000 pairs). PPL weights are otherwise looked up in $STYLEFORGE_WEIGHTS and
~/.cache/styleforge/weights, then downloaded. FID, KID, precision/recall and IS need the Inception-v3 /
VGG16-fc2 feature extractors, not yet here."""


def register(commands) -> None:
    parser = add_command(commands, "metrics", "Evaluate a generator (SWD, MS-SSIM diversity, PPL).", EXAMPLES, run)
    parser.add_argument("--model", required=True, metavar="PATH", help="generator model file")
    parser.add_argument("--metrics", default="swd2k,msssim1k", help="comma-separated metric names")
    parser.add_argument("--data", default=None, help="real data: 'toyfaces' or a folder / zip")
    parser.add_argument("--num", type=int, default=None, help="override every metric's sample count")
    parser.add_argument("--vgg-weights", default=None, metavar="PATH",
                        help="VGG16 weights (torchvision layout, vgg16-397923af.pth) for PPL")
    parser.add_argument("--lpips-weights", default=None, metavar="PATH",
                        help="LPIPS v0.1 heads (vgg.pth) for PPL")
    parser.add_argument("--network-key", choices=["G_ema", "G"], default=None,
                        help="generator of a reference pickle or rosinality checkpoint")


def run(args) -> int:
    specs = [parse_metric(name, args.num) for name in args.metrics.split(",") if name.strip()]
    G = load_generator(args.model, network_key=args.network_key)
    dataset = None
    if args.data:
        dataset = open_dataset(args.data, G.img_resolution if args.data == "toyfaces" else None)
    for spec in specs:
        with progress_bar(spec.num * 2, spec.name) as bar:
            record = evaluate(G, spec, dataset, progress=bar.update,
                              weights={"vgg": args.vgg_weights, "lpips": args.lpips_weights})
        path = append_result(record, args.model)
        print(f"{record['metric']}: {record['value']:.4f}  ({record['seconds']} s; appended to {path})")
    return 0
