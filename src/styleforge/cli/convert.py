"""`styleforge convert`: between our model files, reference pickles/state dicts and rosinality checkpoints."""

from pathlib import Path

from ..checkpoint import (detect_format, export_reference, export_rosinality, load, network_keys, save)
from ..errors import StyleforgeError
from ..models import Generator
from .common import add_command

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
    parser = add_command(commands, "convert", "Convert model files between formats.", EXAMPLES, run)
    parser.add_argument("--src", required=True, metavar="PATH",
                        help="styleforge model, NVIDIA .pkl (PyTorch or TensorFlow), rosinality .pt or "
                             "reference export")
    parser.add_argument("--dest", required=True, metavar="PATH", help="file to write")
    parser.add_argument("--to", choices=TARGETS, default=None, help="output format")
    parser.add_argument("--network-key", "--network", dest="network_key", choices=["G_ema", "G", "D"], default=None,
                        help="which network of a multi-network file (default: G_ema, then G)")


def run(args) -> int:
    source_format = detect_format(args.src)
    target = args.to or ("rosinality" if Path(args.dest).suffix in (".pt", ".pth") else "styleforge")
    if Path(args.dest).resolve() == Path(args.src).resolve():
        raise StyleforgeError("--dest must differ from --src")
    available = network_keys(args.src)
    key = args.network_key or next(k for k in ("G_ema", "G", "D") if k in available)
    if key not in available:
        raise StyleforgeError(f"{args.src} has no network {key!r}; it has {', '.join(available)}")
    model = load(args.src, network_key=key)  # only this network is converted
    if target == "styleforge":
        save(model, args.dest)
        written = [args.dest]
    elif target == "reference":
        path = export_reference(model, args.dest)
        written = [str(path), str(path.with_suffix(".json"))]
    else:
        G = model if isinstance(model, Generator) else None
        D = model if G is None else (load(args.src, network_key="D") if "D" in available else None)
        export_rosinality(args.dest, G=G, D=D, drop_clamp=True)
        written = [args.dest]
        clamps = {m.config.conv_clamp for m in (G, D) if m is not None} - {None}
        if clamps:
            print(f"note: conv_clamp {clamps.pop()} dropped (rosinality has no clamp); images differ "
                  "only where an activation would exceed it")
    kind = "generator" if isinstance(model, Generator) else "discriminator"
    print(f"converted {source_format} {key} ({kind}, {model.img_resolution}px) → {target}: "
          f"{', '.join(written)}")
    return 0
