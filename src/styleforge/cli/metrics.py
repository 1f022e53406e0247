"""`styleforge metrics`: evaluate a generator; results are appended to metric-<name>.jsonl."""

from ..data import open_dataset
from ..metrics import append_result, evaluate, parse_metric, work
from .common import add_command, device_type, load_generator, progress_bar

EXAMPLES = """  styleforge metrics --model network-snapshot-000030.safetensors --data toyfaces --metrics swd2k,msssim1k
  styleforge metrics --model ffhq.pkl --data ffhq.zip --metrics fid50k_full,kid50k_full,pr50k3_full,is50k --device cuda
  styleforge metrics --model model.safetensors --data faces64.zip --metrics fid10k --inception-weights inception-2015-12-05.pt
  styleforge metrics --model model.safetensors --metrics ppl10k_wend,ppl2_10k_wend --vgg-weights vgg16-397923af.pth --lpips-weights vgg.pth
Metric names carry their sample count: fid10k = 10,000 generated and 10,000 real images, fid50k_full
= 50,000 generated against the whole dataset, pr50k3 = k = 3 neighbours, bare swd = 16,384 as in ProGAN;
ppl_* crop to the face as the reference's ppl_* do, ppl2_* see the whole image; --num overrides every count. Feature-network weights are otherwise looked up in $STYLEFORGE_WEIGHTS and
~/.cache/styleforge/weights, then downloaded (see docs/metrics.md for the files and their checksums).
Real-data statistics are cached in ~/.cache/styleforge/stats by dataset content, count and network."""


def register(commands) -> None:
    parser = add_command(commands, "metrics", "Evaluate a generator (FID, KID, PR, IS, PPL, SWD, MS-SSIM).",
                         EXAMPLES, run)
    parser.add_argument("--model", required=True, metavar="PATH", help="generator model file")
    parser.add_argument("--metrics", default="swd2k,msssim1k", help="comma-separated metric names")
    parser.add_argument("--data", default=None, help="real data: 'toyfaces' or a folder / zip")
    parser.add_argument("--num", type=int, default=None, help="override every metric's sample count")
    parser.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="FID Inception-v3 (inception-2015-12-05.pt or pt_inception-2015-12-05-6726825d.pth) "
                             "for fid/kid/is")
    parser.add_argument("--vgg-weights", default=None, metavar="PATH",
                        help="VGG16 weights (torchvision layout, vgg16-397923af.pth) for pr and PPL")
    parser.add_argument("--lpips-weights", default=None, metavar="PATH",
                        help="LPIPS v0.1 heads (vgg.pth) for PPL")
    parser.add_argument("--no-cache", action="store_true", help="recompute real-data statistics")
    parser.add_argument("--network-key", "--network", dest="network_key", choices=["G_ema", "G"], default=None,
                        help="generator of a reference pickle or rosinality checkpoint")


def run(args) -> int:
    specs = [parse_metric(name, args.num) for name in args.metrics.split(",") if name.strip()]
    G = load_generator(args.model, device=args.device, network_key=args.network_key)
    dataset = None
    if args.data:
        dataset = open_dataset(args.data, G.img_resolution if args.data == "toyfaces" else None)
    weights = {"inception": args.inception_weights, "vgg": args.vgg_weights, "lpips": args.lpips_weights}
    for spec in specs:
        with progress_bar(work(spec, dataset), spec.name) as bar:
            record = evaluate(G, spec, dataset, progress=bar.update, weights=weights, cache=not args.no_cache)
        path = append_result(record, args.model)
        extra = f" (recall {record['recall']:.4f})" if "recall" in record else ""
        print(f"{record['metric']}: {record['value']:.4f}{extra}  ({record['seconds']} s; appended to {path})")
        if "warning" in record:
            print(f"  note: {record['warning']}")
    return 0
