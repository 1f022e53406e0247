"""`styleforge metrics`: evaluate a generator; results are appended to metric-<name>.jsonl."""

from ..data import open_dataset
from ..metrics import append_result, evaluate, parse_metric
from .common import add_command, load_generator, progress_bar

EXAMPLES = """  styleforge metrics --model network-snapshot-000030.safetensors --data toyfaces --metrics swd2k,msssim1k
  styleforge metrics --model model.safetensors --data faces64.zip --metrics swd --num 4096
Metric names carry their sample count (swd16k = 16,384 images in the ProGAN setting; swd2k = 2,000).
FID, KID, precision/recall, IS and PPL need the Inception / VGG16 feature networks, not yet here."""


def register(commands) -> None:
    parser = add_command(commands, "metrics", "Evaluate a generator (SWD, MS-SSIM diversity).", EXAMPLES, run)
    parser.add_argument("--model", required=True, metavar="PATH", help="generator model file")
    parser.add_argument("--metrics", default="swd2k,msssim1k", help="comma-separated metric names")
    parser.add_argument("--data", default=None, help="real data: 'toyfaces' or a folder / zip")
    parser.add_argument("--num", type=int, default=None, help="override every metric's sample count")
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
            record = evaluate(G, spec, dataset, progress=bar.update)
        path = append_result(record, args.model)
        print(f"{record['metric']}: {record['value']:.4f}  ({record['seconds']} s; appended to {path})")
    return 0
