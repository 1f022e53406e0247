"""`styleforge convert`: Converting model files between formats (options and examples: cli/convert.py)."""

from pathlib import Path

from ..checkpoint import (detect_format, export_reference, export_rosinality, load, load_networks, network_keys,
                          save)
from ..checkpoint.formats import reference_sidecar
from ..checkpoint.remote import resolve_model
from ..errors import StyleforgeError
from ..files import check_destination
from ..models import Generator


def _per_network_path(dest: Path, key: str) -> Path:
    """`name.safetensors` → `name-G_ema.safetensors` (one file per network for --network all)."""
    return dest.with_name(f"{dest.stem}-{key}{dest.suffix}")


def _written_by(target: str, path: Path) -> list[Path]:
    return [path, reference_sidecar(path)] if target == "reference" else [path]


def _clamp_note(models) -> None:
    clamps = {m.config.conv_clamp for m in models if m is not None} - {None}
    if clamps:
        print(f"note: conv_clamp {clamps.pop()} dropped (rosinality has no clamp); images differ "
              "only where an activation would exceed it")


def _describe(key: str, model) -> str:
    kind = "generator" if isinstance(model, Generator) else "discriminator"
    return f"{key} ({kind}, {model.img_resolution}px)"


def run(args) -> int:
    args.src = resolve_model(args.src)  # a URL or release name: the cached file
    source_format = detect_format(args.src)
    dest = Path(args.dest)
    target = args.to or ("rosinality" if dest.suffix in (".pt", ".pth") else "styleforge")
    if dest.resolve() == Path(args.src).resolve():
        raise StyleforgeError("--dest must differ from --src")
    if target == "reference" and reference_sidecar(dest) == dest:
        raise StyleforgeError(f"--dest {args.dest}: the kwargs sidecar would be written to the same file; "
                              "use a .safetensors name")
    available = network_keys(args.src)
    if args.network_key == "all":
        models = {k: m for k, m in load_networks(args.src).items()}
    else:
        key = args.network_key or next(k for k in ("G_ema", "G", "D") if k in available)
        if key not in available:
            raise StyleforgeError(f"{args.src} has no network {key!r}; it has {', '.join(available)}")
        models = {key: load(args.src, network_key=key)}  # only this network is converted

    if target == "rosinality":  # one file holds g_ema, g and d
        check_destination(dest, args.force)
        generators = [k for k in ("G_ema", "G") if isinstance(models.get(k), Generator)]
        G = models[generators[0]] if generators else None
        G_train = models["G"] if generators == ["G_ema", "G"] else None
        D = models.get("D")
        if D is None and G is not None and "D" in available:
            D = load(args.src, network_key="D")
        export_rosinality(dest, G=G, D=D, drop_clamp=True, G_train=G_train)
        _clamp_note([G, D, G_train])
        parts = [f"{key} → {name}" for key, name, model in ((generators[0] if G is not None else "", "g_ema", G),
                                                           ("G", "g", G_train), ("D", "d", D)) if model is not None]
        print(f"converted {source_format} {', '.join(parts)} → rosinality: {dest}")
        return 0

    destinations = {k: (_per_network_path(dest, k) if len(models) > 1 else dest) for k in models}
    for path in destinations.values():
        for written in _written_by(target, path):
            check_destination(written, args.force)
    for key, path in destinations.items():
        if target == "styleforge":
            save(models[key], path)
        else:
            export_reference(models[key], path)
        print(f"converted {source_format} {_describe(key, models[key])} → {target}: "
              f"{', '.join(str(p) for p in _written_by(target, path))}")
    return 0
