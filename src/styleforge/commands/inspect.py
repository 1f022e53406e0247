"""`styleforge inspect`: A model's layer table and which code wrote a pickle (options: cli/inspect.py)."""

import json

from ..checkpoint import detect_format, load, network_keys, read_metadata
from ..checkpoint.reference_pickle import describe_pickle
from ..checkpoint.remote import resolve_model
from ..errors import StyleforgeError
from ..latents import space_sizes
from ..models import Generator
from ..models.summary import summarize

def _cell(value) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def run(args) -> int:
    args.model = resolve_model(args.model)  # a URL or release name: the cached file
    file_format = detect_format(args.model)
    contents = describe_pickle(args.model) if file_format == "reference-pickle" else None
    if contents is not None and not args.json:
        print(f"{args.model}: NVIDIA network pickle, {contents['layout']} layout")
        for key, description in contents["networks"].items():
            print(f"  {key}: {description}")
    if file_format == "training-checkpoint" and not args.json:
        print(f"{args.model}: styleforge training checkpoint with {', '.join(network_keys(args.model))} "
              f"(showing {args.network_key or 'G_ema'}; --network picks another)")
    try:
        model = load(args.model, network_key=args.network_key)
    except StyleforgeError as error:
        if contents is None:
            raise
        # The pickle was described above; a network this version cannot convert is reported, not an error.
        key = args.network_key or "G_ema"
        if args.json:
            print(json.dumps({"format": file_format, "pickle": contents, "loadable": False,
                              "reason": str(error)}, indent=2))
        else:
            print(f"{key} cannot be loaded here: {error}")
        return 0
    metadata = read_metadata(args.model) if file_format == "styleforge" else {}
    rows = summarize(model)
    total = sum(p.numel() for p in model.parameters())
    info = {"kind": model.config.kind, "format": file_format,
            "styleforge_version": metadata.get("styleforge_version"),
            "config": model.config.to_dict(), "parameters": total}
    if contents is not None:
        info["pickle"] = contents
    if isinstance(model, Generator):
        sizes = space_sizes(model)
        info["latents"] = {"z_dim": sizes.z_dim, "w_dim": sizes.w_dim, "num_ws": sizes.num_ws,
                           "s_dim": sizes.s_dim, "s_layers": len(sizes.s_channels),
                           "conv_layers": sizes.num_conv_layers, "torgb_layers": sizes.num_torgb_layers}
    if args.json:
        info["layers"] = [row.__dict__ for row in rows]
        print(json.dumps(info, indent=2))
        return 0
    config = model.config
    kind = "generator" if isinstance(model, Generator) else "discriminator"
    if config.family != "stylegan2":
        kind = f"{config.family} {kind}"
    design = f"architecture {config.architecture}"
    if config.family == "stylegan3":
        design = ("alias-free config R (1×1 convs, radial filters)" if config.alias_free.get("use_radial_filters")
                  else "alias-free config T (3×3 convs)")
    print(f"{args.model}: {kind}, {config.img_resolution}px × {config.img_channels} channels, "
          f"{design}, c_dim {config.c_dim}, format {file_format}")
    header = ["layer", "res", "in", "out", "W+ row", "S ch", "params"]
    table = [header] + [[row.name, _cell(row.resolution), _cell(row.in_channels),
                         _cell(row.out_channels), _cell(row.w_index), _cell(row.s_channels),
                         _cell(row.params)] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, r in enumerate(table):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"total parameters: {total:,}")
    if "latents" in info:
        lat = info["latents"]
        print(f"latents: Z {lat['z_dim']}, W {lat['w_dim']}, W+ {lat['num_ws']}×{lat['w_dim']}, "
              f"S {lat['s_dim']} channels in {lat['s_layers']} layers "
              f"({lat['conv_layers']} conv + {lat['torgb_layers']} ToRGB)")
    return 0
