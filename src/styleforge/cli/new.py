"""`styleforge new`: an untrained model from a preset, for trying things out."""

from ..config import ARCHITECTURES, PRESETS
from .options import add_command, seed_type

EXAMPLES = """  styleforge new --preset tiny --out tiny.safetensors
  styleforge new --preset small --resolution 32 --seed 3 --out small32.safetensors
  styleforge new --preset cifar --c-dim 10 --out cifar-cond.safetensors
  styleforge new --preset stylegan2 --kind D --out d.safetensors"""


def register(commands) -> None:
    parser = add_command(commands, "new", "Build an untrained generator (or discriminator) from a preset.",
                         EXAMPLES)
    parser.add_argument("--preset", default="tiny", choices=list(PRESETS), help="model preset")
    parser.add_argument("--out", required=True, metavar="PATH", help="model file to write")
    parser.add_argument("--kind", choices=["G", "D"], default="G", help="generator or discriminator")
    parser.add_argument("--resolution", type=int, default=None, help="override the preset's resolution")
    parser.add_argument("--c-dim", type=int, default=None, help="number of classes (conditional model)")
    parser.add_argument("--arch", choices=ARCHITECTURES, default=None, help="override the architecture")
    parser.add_argument("--seed", type=seed_type, default=0, help="seed of the random initialization")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
