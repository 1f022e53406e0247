"""`styleforge convert`: between our model files, reference pickles/state dicts and rosinality checkpoints."""

from ..names import NETWORK_KEYS
from .options import add_command

TARGETS = ("styleforge", "rosinality", "reference")
EXAMPLES = """  styleforge convert --src network-snapshot-025000.pkl --dest ffhq.safetensors
  styleforge convert --src network-snapshot-025000.pkl --dest d.safetensors --network D
  styleforge convert --src stylegan2-ffhq-config-f.pkl --dest ffhq.safetensors   # TensorFlow pickle (Gs)
  styleforge convert --src 550000.pt --dest ffhq.safetensors                 # rosinality g_ema
  styleforge convert --src ffhq.safetensors --dest ffhq-rosinality.pt --to rosinality
  styleforge convert --src ffhq.safetensors --dest ffhq-ref.safetensors --to reference
The source format is detected from the file's contents. --to defaults to rosinality for .pt/.pth
destinations and to styleforge otherwise."""


def register(commands) -> None:
    parser = add_command(commands, "convert", "Convert model files between formats.", EXAMPLES)
    parser.add_argument("--src", required=True, metavar="PATH",
                        help="styleforge model, NVIDIA .pkl (PyTorch or TensorFlow), rosinality .pt or "
                             "reference export")
    parser.add_argument("--dest", required=True, metavar="PATH", help="file to write")
    parser.add_argument("--to", choices=TARGETS, default=None, help="output format")
    parser.add_argument("--force", action="store_true", help="overwrite existing destination files")
    parser.add_argument("--network-key", "--network", dest="network_key", choices=NETWORK_KEYS, default=None,
                        help="which network of a multi-network file (default: G_ema, then G)")
