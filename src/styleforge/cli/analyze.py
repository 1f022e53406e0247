"""`styleforge analyze`: disentanglement and separability of the latent spaces, feature maps, and the
toyfaces attribute predictor they rest on."""

from ..names import NOISE_MODES
from .options import (ExamplesFormatter, add_command, add_model_options, at_least, device_type, int_list_type, seed_type,
                      seeds_type)

EXAMPLES = """  styleforge analyze train-predictor --out predictor.safetensors          # a few CPU minutes
  styleforge analyze report --model toyfaces32.safetensors --predictor predictor.safetensors --outdir out/analysis
  styleforge analyze dci --model toyfaces32.safetensors --predictor predictor.safetensors --samples 2000
  styleforge analyze separability --model toyfaces32.safetensors --predictor predictor.safetensors
  styleforge analyze features --model toyfaces32.safetensors --seed 3 --outdir out/features
  styleforge analyze droplets --models v1.safetensors v2.safetensors --outdir out/droplets   # StyleGAN v1 vs v2
The predictor reads toyfaces factors (and region maps) from images; it stands in for the CelebA
classifiers of the papers, so the analyses apply to generators trained on toyfaces."""

ACTIONS = {
    "train-predictor": "train the toyfaces attribute predictor and report its held-out scores",
    "dci": "DCI (disentanglement, completeness, informativeness) in Z, W, W+ and S",
    "separability": "linear separability of Z and W (StyleGAN Sec. 4.2)",
    "features": "per-layer feature-map grids and spikiness",
    "report": "all of the above as report.html + report.json",
    "droplets": "feature-map spikiness of generators side by side (the v1 droplet) + figure",
}


def register(commands) -> None:
    parser = add_command(commands, "analyze", "Analyze latent spaces (DCI, separability, feature maps).", EXAMPLES)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=type(parser))
    for name, help_text in ACTIONS.items():
        sub = actions.add_parser(name, help=help_text, description=help_text, formatter_class=ExamplesFormatter,
                                 epilog=f"Examples:\n{EXAMPLES}")
        if name == "train-predictor":
            sub.add_argument("--out", default="predictor.safetensors", metavar="PATH", help="predictor file to write")
            sub.add_argument("--steps", type=at_least(1, "--steps"), default=600, help="training steps")
            sub.add_argument("--batch", type=at_least(1, "--batch"), default=32, help="renders per step")
            sub.add_argument("--resolution", type=int, default=32, help="size the predictor sees")
            sub.add_argument("--force", action="store_true", help="overwrite an existing --out file")
            continue
        if name == "droplets":
            sub.add_argument("--models", nargs="+", required=True, metavar="PATH",
                             help="generator files; the first two are compared (e.g. v1 then v2)")
            sub.add_argument("--seeds", type=seeds_type, default=list(range(16)), help="seeds averaged over")
            sub.add_argument("--resolutions", type=int_list_type, default=[32, 64], help="layers compared")
            sub.add_argument("--noise-mode", choices=NOISE_MODES, default="none",
                             help="noise inputs while measuring (none: per-pixel noise speckle is not the artifact)")
            sub.add_argument("--outdir", default="out/droplets", help="output folder")
            sub.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")
            continue
        add_model_options(sub)
        sub.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")
        sub.add_argument("--seed", type=seed_type, default=0, help="seed of the samples")
        if name == "features":
            sub.add_argument("--outdir", default="out/features", help="output folder")
            continue
        sub.add_argument("--predictor", required=True, metavar="PATH", help="attribute predictor file")
        sub.add_argument("--samples", type=at_least(20, "--samples"), default=2000, help="latent samples")
        if name in ("dci", "report"):
            sub.add_argument("--protocol", choices=["stylespace", "disentanglement_lib", "regression"],
                             default="stylespace",
                             help="DCI protocol: stylespace (the StyleSpace paper's: classifiers on each factor's 2 %% "
                                  "extremes), disentanglement_lib (classifiers on 20-bin factors), regression "
                                  "(every factor regressed; R²)")
            sub.add_argument("--method", choices=["gbt", "lasso"], default="gbt",
                             help="the regression protocol's model: gradient-boosted trees or Lasso")
        if name == "report":
            sub.add_argument("--outdir", default="out/analysis", help="output folder")
            sub.add_argument("--no-ppl", action="store_true", help="skip PPL")
