"""`styleforge inspect`: the architecture table of a model file."""

from ..names import NETWORK_KEYS
from .options import add_command, add_model_options

EXAMPLES = """  styleforge inspect --model model.safetensors
  styleforge inspect --model model.safetensors --json > layers.json
  styleforge inspect --model network-snapshot-025000.pkl --network D   # says which NVIDIA code wrote it"""


def register(commands) -> None:
    parser = add_command(commands, "inspect", "Show a model's layers, latent sizes and parameters.",
                         EXAMPLES)
    add_model_options(parser, NETWORK_KEYS, help_text="model file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
