"""`styleforge convert`: between our model files, reference pickles/state dicts and rosinality checkpoints."""

from ..names import NETWORK_KEYS
from .options import add_command, add_model_options

TARGETS = ("styleforge", "rosinality", "reference")
EXAMPLES = """  styleforge convert --src network-snapshot-025000.pkl --dest ffhq.safetensors
  styleforge convert --src network-snapshot-025000.pkl --dest d.safetensors --network D
  styleforge convert --src stylegan2-ffhq-config-f.pkl --dest ffhq.safetensors   # TensorFlow pickle (Gs)
  styleforge convert --src 550000.pt --dest ffhq.safetensors                 # rosinality g_ema
  styleforge convert --src ffhq.safetensors --dest ffhq-rosinality.pt --to rosinality
  styleforge convert --src ffhq.safetensors --dest ffhq-ref.safetensors --to reference
  styleforge convert --src runs/00000-x/checkpoints/checkpoint-000200.safetensors --dest run.safetensors --network all
        # a training checkpoint's G, D and G_ema → run-G.safetensors, run-D.safetensors, run-G_ema.safetensors
  styleforge convert --src runs/00000-x/checkpoints/checkpoint-000200.safetensors --dest run.pt --network all
        # → one rosinality checkpoint with g, d and g_ema
The source format is detected from the file's contents. --to defaults to rosinality for .pt/.pth
destinations and to styleforge otherwise. --network all writes every network of the source: one file
each (NAME-G, NAME-D, NAME-G_ema) for styleforge and reference, one .pt for rosinality."""


def register(commands) -> None:
    parser = add_command(commands, "convert", "Convert model files between formats.", EXAMPLES)
    add_model_options(parser, NETWORK_KEYS + ("all",), option="--src",
                      help_text="styleforge model or training checkpoint, NVIDIA .pkl (PyTorch or TensorFlow), "
                                "rosinality .pt or reference export")
    parser.add_argument("--dest", required=True, metavar="PATH", help="file to write")
    parser.add_argument("--to", choices=TARGETS, default=None, help="output format")
    parser.add_argument("--force", action="store_true", help="overwrite existing destination files")
