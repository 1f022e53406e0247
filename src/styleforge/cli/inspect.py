"""`styleforge inspect`: the architecture table of a model file."""

from ..names import NETWORK_KEYS
from .options import add_command

EXAMPLES = """  styleforge inspect --model model.safetensors
  styleforge inspect --model model.safetensors --json > layers.json
  styleforge inspect --model network-snapshot-025000.pkl --network D   # says which NVIDIA code wrote it"""


def register(commands) -> None:
    parser = add_command(commands, "inspect", "Show a model's layers, latent sizes and parameters.",
                         EXAMPLES)
    parser.add_argument("--model", required=True, metavar="PATH", help="model file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--network-key", "--network", dest="network_key", choices=NETWORK_KEYS, default=None,
                        help="network of a reference pickle or rosinality checkpoint (default: G_ema)")
