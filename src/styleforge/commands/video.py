"""`styleforge video`: keyframes from seeds and latent files, interpolated and streamed to the
encoder (options: cli/video.py)."""

import torch

from ..errors import StyleforgeError
from ..files import check_destination
from ..latents import z_from_seeds
from ..pipeline import load_latent_file, to_ws
from ..media import loop_frames, write_video
from .common import apply_input_transform, load_generator, model_truncation, progress_bar

MAX_FRAME_SIDE = 8192  # pixels on a frame's longer side (an 8K frame; H.264 levels go no further)


def _keyframes(G, args) -> torch.Tensor:
    """[K, ...] keyframes: z [K, z_dim] for --space z, else W+ [K, num_ws, w_dim]."""
    seeds, files = args.seeds or [], args.projected_w or []
    if args.space == "z":
        if files:
            raise StyleforgeError("latent files hold W+ latents: use --space w or w+ with --projected-w")
        return z_from_seeds(seeds, G.z_dim)
    psi, cutoff = model_truncation(G, args.trunc)
    keys = [to_ws(G, seeds=seeds, psi=psi, cutoff=cutoff).cpu()] if seeds else []
    keys += [load_latent_file(f, G) for f in files]
    return torch.cat(keys)


def run(args) -> int:
    if args.seeds is None and not args.projected_w:
        raise StyleforgeError("give keyframes: --seeds and/or --projected-w")
    rows, cols = args.grid
    check_destination(args.out, args.force, "--out")
    G = load_generator(args.model, args.device, args.network_key)
    if G.c_dim:
        raise StyleforgeError("videos are for unconditional generators")
    moving = args.translate is not None or args.rotate is not None
    if moving:
        apply_input_transform(G, (0.0, 0.0), 0.0)  # checks the family before any work
    keys = _keyframes(G, args)
    if len(keys) == 1 and moving:  # one latent, moved along the transform path
        keys = torch.cat([keys, keys])
    if len(keys) < 2:
        raise StyleforgeError("a video needs at least 2 keyframes (or one with --translate / --rotate)")
    scale = args.scale or max(1, 256 // (G.img_resolution * max(rows, cols)))
    side = G.img_resolution * max(rows, cols) * scale
    if side > MAX_FRAME_SIDE:
        raise StyleforgeError(f"frames would be {side:,} px wide ({max(rows, cols)} × {G.img_resolution} px × scale "
                              f"{scale}); at most {MAX_FRAME_SIDE:,}: lower --scale or --grid")
    total = len(keys) * args.frames_per_step
    translate, rotate = args.translate or (0.0, 0.0), args.rotate or 0.0

    def move(index: int) -> None:
        """The input transform of frame `index`: from none to the full --translate / --rotate."""
        t = index / max(total - 1, 1)
        G.synthesis.set_transform((translate[0] * t, translate[1] * t), rotate * t)

    with progress_bar(total, "video", unit="frame") as bar:
        def counted():
            if moving:
                move(0)
            for index, frame in enumerate(loop_frames(G, keys, args.space, args.frames_per_step, rows, cols,
                                                      psi=model_truncation(G, args.trunc)[0],
                                                      noise_mode=args.noise_mode)):
                if moving:  # the next frame is rendered when this one is taken
                    move(index + 1)
                bar.update(1)
                yield frame
        written = write_video(counted(), args.out, fps=args.fps, scale=scale)
    print(f"wrote {args.out}: {written} frames, {len(keys)} keyframes, {rows}x{cols} grid, {args.space} space")
    return 0
