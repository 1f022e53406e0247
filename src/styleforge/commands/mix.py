"""`styleforge mix`: The style-mixing figure, StyleGAN paper Fig. 3 (options: cli/mix.py)."""

from ..errors import StyleforgeError
from ..figures import style_mixing
from ..media import labeled_grid, save_image, to_uint8
from .common import check_class, load_generator, model_truncation, output_dir

def run(args) -> int:
    G = load_generator(args.model, args.device, args.network_key)
    check_class(G, args.class_index)
    styles = args.styles if args.styles is not None else list(range(min(7, G.num_ws)))
    bad = [s for s in styles if not 0 <= s < G.num_ws]
    if bad:
        raise StyleforgeError(f"--styles {bad[0]} is beyond this model's W+ layers (0..{G.num_ws - 1})")
    outdir = output_dir(args.outdir)
    psi, cutoff = model_truncation(G, args.trunc)
    rows, cols, cells = style_mixing(G, args.rows, args.cols, styles, psi=psi, cutoff=cutoff,
                                     noise_mode=args.noise_mode, class_index=args.class_index)
    n, k = cells.shape[:2]
    cell_images = to_uint8(cells.flatten(0, 1))
    grid = labeled_grid(to_uint8(rows), to_uint8(cols), cell_images.reshape(n, k, *cell_images.shape[1:]))
    save_image(grid, outdir / "mix-grid.png")
    print(f"wrote {outdir / 'mix-grid.png'} ({n} rows × {k} columns, styles {styles})")
    return 0
