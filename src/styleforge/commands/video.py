"""`styleforge video`: keyframes from seeds and latent files, interpolated and streamed to the
encoder (options: cli/video.py)."""

import re

import torch

from ..errors import StyleforgeError
from ..files import check_destination
from ..latents import z_from_seeds
from ..pipeline import load_latent_file, to_ws
from ..render import loop_frames, write_video
from .common import load_generator, progress_bar


def _grid(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise StyleforgeError(f"--grid must look like 2x3 (rows x columns), got {text!r}")
    return int(match[1]), int(match[2])


def _keyframes(G, args) -> torch.Tensor:
    """[K, ...] keyframes: z [K, z_dim] for --space z, else W+ [K, num_ws, w_dim]."""
    seeds, files = args.seeds or [], args.projected_w or []
    if args.space == "z":
        if files:
            raise StyleforgeError("latent files hold W+ latents: use --space w or w+ with --projected-w")
        return z_from_seeds(seeds, G.z_dim)
    keys = [to_ws(G, seeds=seeds, psi=args.trunc).cpu()] if seeds else []
    keys += [load_latent_file(f, G) for f in files]
    return torch.cat(keys)


def run(args) -> int:
    if args.seeds is None and not args.projected_w:
        raise StyleforgeError("give keyframes: --seeds and/or --projected-w")
    if args.frames_per_step < 1 or args.fps < 1 or args.scale < 0:
        raise StyleforgeError("--frames-per-step and --fps must be at least 1, --scale at least 0")
    rows, cols = _grid(args.grid)
    check_destination(args.out, args.force, "--out")
    G = load_generator(args.model, args.device)
    if G.c_dim:
        raise StyleforgeError("videos are for unconditional generators")
    keys = _keyframes(G, args)
    if len(keys) < 2:
        raise StyleforgeError("a video needs at least 2 keyframes")
    scale = args.scale or max(1, 256 // (G.img_resolution * max(rows, cols)))
    total = len(keys) * args.frames_per_step
    with progress_bar(total, "video") as bar:
        def counted():
            for frame in loop_frames(G, keys, args.space, args.frames_per_step, rows, cols, psi=args.trunc,
                                     noise_mode=args.noise_mode):
                bar.update(1)
                yield frame
        written = write_video(counted(), args.out, fps=args.fps, scale=scale)
    print(f"wrote {args.out}: {written} frames, {len(keys)} keyframes, {rows}x{cols} grid, {args.space} space")
    return 0
