"""`styleforge new`: an untrained model from a preset, for trying things out."""

import torch

from ..checkpoint import save
from ..config import ARCHITECTURES, PRESETS
from ..models import build

EXAMPLES = """  styleforge new --preset tiny --out tiny.safetensors
  styleforge new --preset small --resolution 32 --seed 3 --out small32.safetensors
  styleforge new --preset cifar --c-dim 10 --out cifar-cond.safetensors
  styleforge new --preset stylegan2 --kind D --out d.safetensors"""


def register(commands) -> None:
    from .common import add_command

    parser = add_command(commands, "new", "Build an untrained generator (or discriminator) from a preset.",
                         EXAMPLES, run)
    parser.add_argument("--preset", default="tiny", choices=list(PRESETS), help="model preset")
    parser.add_argument("--out", required=True, metavar="PATH", help="model file to write")
    parser.add_argument("--kind", choices=["G", "D"], default="G", help="generator or discriminator")
    parser.add_argument("--resolution", type=int, default=None, help="override the preset's resolution")
    parser.add_argument("--c-dim", type=int, default=None, help="number of classes (conditional model)")
    parser.add_argument("--arch", choices=ARCHITECTURES, default=None, help="override the architecture")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random initialization")


def run(args) -> int:
    overrides = {name: value for name, value in
                 (("resolution", args.resolution), ("c_dim", args.c_dim), ("architecture", args.arch))
                 if value is not None}
    torch.manual_seed(args.seed)
    model = build(args.preset, args.kind, **overrides)
    save(model, args.out)
    count = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: untrained {args.preset} {args.kind}, "
          f"{model.img_resolution}px, {count:,} parameters")
    return 0
