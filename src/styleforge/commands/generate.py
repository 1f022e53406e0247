"""`styleforge generate`: Images from seeds, one PNG per seed, streamed batch by batch (options: cli/generate.py)."""

import sys
from pathlib import Path

import numpy as np

from ..errors import StyleforgeError
from ..pipeline import render, render_batches
from ..media import make_grid, save_image, to_uint8
from .common import apply_input_transform, check_class, load_generator, model_truncation, output_dir, progress_bar

MAX_GRID = 1024  # images in one grid.png (kept in memory until the end)


def _render_files(G, args, outdir) -> int:
    """--projected-w: one PNG per latent file (W+ rows, truncation as asked)."""
    written = 0
    for name in args.projected_w:
        images = to_uint8(render(G, latent_file=name, psi=1.0 if args.trunc is None else args.trunc,
                                 cutoff=args.trunc_cutoff,
                                 noise_mode=args.noise_mode, device="cpu"))
        path = Path(name)
        stem = f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem
        for k, image in enumerate(images):
            save_image(image, outdir / (f"{stem}.png" if len(images) == 1 else f"{stem}-{k}.png"))
            written += 1
    print(f"wrote {written} images from {len(args.projected_w)} latent file(s) to {outdir}")
    return 0


def run(args) -> int:
    G = load_generator(args.model, args.device, args.network_key, precision=args.precision)
    if args.translate is not None or args.rotate is not None:
        apply_input_transform(G, args.translate or (0.0, 0.0), args.rotate or 0.0)
    if args.projected_w:
        if args.class_index is not None or args.grid:
            raise StyleforgeError("--class and --grid apply to --seeds, not to --projected-w")
        return _render_files(G, args, output_dir(args.outdir))
    check_class(G, args.class_index)
    if args.trunc_cutoff is not None and not 0 <= args.trunc_cutoff <= G.num_ws:
        raise StyleforgeError(f"--trunc-cutoff {args.trunc_cutoff} is beyond this model's "
                              f"{G.num_ws} W+ layers (use 0..{G.num_ws})")
    if args.grid and len(args.seeds) > MAX_GRID:
        raise StyleforgeError(f"--grid takes at most {MAX_GRID} seeds (got {len(args.seeds)}); "
                              "leave --grid out to write the images one by one")
    outdir = output_dir(args.outdir)
    grid, written = [], 0
    try:
        with progress_bar(len(args.seeds), "generate") as bar:
            psi, cutoff = model_truncation(G, args.trunc, args.trunc_cutoff)
            for batch in render_batches(G, seeds=args.seeds, psi=psi, cutoff=cutoff,
                                        noise_mode=args.noise_mode, class_index=args.class_index,
                                        batch_size=args.batch):
                images = to_uint8(batch.images)
                seeds = args.seeds[batch.start:batch.start + len(images)]
                for seed, image in zip(seeds, images):
                    save_image(image, outdir / f"seed{seed:04d}.png")
                    written += 1
                if args.grid:
                    grid.append(images)
                bar.update(len(seeds))
    except KeyboardInterrupt:
        print(f"interrupted: {written} images written to {outdir}", file=sys.stderr)
        return 130
    if args.grid:
        images = np.concatenate(grid)
        save_image(make_grid(images, cols=int(np.ceil(np.sqrt(len(images))))), outdir / "grid.png")
    print(f"wrote {written} images{' and grid.png' if args.grid else ''} to {outdir}")
    return 0
