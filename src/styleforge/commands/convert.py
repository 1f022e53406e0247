"""`styleforge convert`: Converting model files between formats (options and examples: cli/convert.py)."""

from pathlib import Path

from ..checkpoint import detect_format, export_reference, export_rosinality, load, network_keys, save
from ..checkpoint.formats import reference_sidecar
from ..errors import StyleforgeError
from ..files import check_destination
from ..models import Generator

def run(args) -> int:
    source_format = detect_format(args.src)
    target = args.to or ("rosinality" if Path(args.dest).suffix in (".pt", ".pth") else "styleforge")
    if Path(args.dest).resolve() == Path(args.src).resolve():
        raise StyleforgeError("--dest must differ from --src")
    destinations = [Path(args.dest)] + ([reference_sidecar(args.dest)] if target == "reference" else [])
    if target == "reference" and destinations[1] == destinations[0]:
        raise StyleforgeError(f"--dest {args.dest}: the kwargs sidecar would be written to the same file; "
                              "use a .safetensors name")
    for path in destinations:
        check_destination(path, args.force)
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
        written = [str(path), str(reference_sidecar(path))]
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
