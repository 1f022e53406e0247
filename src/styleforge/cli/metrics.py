"""`styleforge metrics`: evaluate a generator; results are appended to metric-<name>.jsonl."""

from ..names import GENERATOR_KEYS
from .options import NetworkOption, add_command, device_type

EXAMPLES = """  styleforge metrics --list
  styleforge metrics --model network-snapshot-000030.safetensors --data toyfaces --metrics swd2k,msssim1k
  styleforge metrics --model ffhq.pkl --data ffhq.zip --metrics fid50k_full,kid50k_full,prtv50k3_full,is50k --device cuda
  styleforge metrics --model model.safetensors --data faces64.zip --metrics fid10k --inception-weights inception-2015-12-05.pt
  styleforge metrics --model model.safetensors --metrics ppl10k_wend,ppl2_10k_wend --vgg-weights vgg16-397923af.pth --lpips-weights vgg.pth
Metric names carry their sample count: fid10k = 10,000 generated and 10,000 real images, fid50k_full
= 50,000 generated against the whole dataset, prtv50k3 = k = 3 neighbours (torchvision's VGG16: the reference's pr50k3 needs its vgg16.pt), bare swd = 16,384 as in ProGAN;
ppl_* crop to the face as the reference's ppl_* do, ppl2_* see the whole image; --num overrides every count. Feature-network weights are otherwise looked up in $STYLEFORGE_WEIGHTS and
~/.cache/styleforge/weights, then downloaded (see docs/metrics.md for the files and their checksums).
Real-data statistics are cached in ~/.cache/styleforge/stats by dataset content, count and network."""


def register(commands) -> None:
    parser = add_command(commands, "metrics", "Evaluate a generator (FID, KID, PR, IS, PPL, SWD, MS-SSIM).",
                         EXAMPLES)
    parser.add_argument("--model", default=None, metavar="PATH", help="generator model file (required)")
    parser.add_argument("--list", action="store_true", help="list the metrics and their naming, then exit")
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
    parser.add_argument("--network-key", "--network", dest="network_key", action=NetworkOption, default=None,
                        keys=GENERATOR_KEYS, metavar="G_ema|G",
                        help="generator of a multi-network file (a model path here is taken as --model)")
