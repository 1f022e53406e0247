"""`styleforge new`: An untrained model from a preset (options: cli/new.py)."""

import torch

from ..checkpoint import save
from ..files import check_destination
from ..models import build

def run(args) -> int:
    check_destination(args.out, args.force, "--out")
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
