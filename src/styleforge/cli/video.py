"""`styleforge video`: a looping interpolation video through seeds and/or projected latents."""

from .options import (MAX_GRID_SIDE, add_command, add_model_options, bounded, device_type, grid_type, path_list_type,
                      psi_type, seeds_type, translate_type)

MAX_SCALE = 64

EXAMPLES = """  styleforge video --model model.safetensors --seeds 0-7 --out lerp.mp4
  styleforge video --model model.safetensors --seeds 0-15 --grid 2x2 --trunc 0.7 --out grid.mp4
  styleforge video --model model.safetensors --seeds 0-3 --space z --frames-per-step 30 --out slerp.gif
  styleforge video --model model.safetensors --projected-w a/projected_w.npz,b/projected_w.npz --seeds 5 --out p.mp4
  styleforge video --model stylegan3-r-afhqv2-512x512.pkl --seeds 7 --rotate 360 --translate 0.2,0 --out spin.mp4
Z moves along great circles (slerp), W and W+ along straight lines (lerp) (StyleGAN Sec. 4.2). MP4
frames are streamed to the encoder, so memory stays flat however long the video (H.264 through the
ffmpeg that the imageio-ffmpeg package ships); a name ending in .gif writes a GIF, which is assembled
in memory (keep GIFs short)."""


def register(commands) -> None:
    parser = add_command(commands, "video", "Write an interpolation video (MP4 or GIF).", EXAMPLES)
    add_model_options(parser)
    parser.add_argument("--seeds", type=seeds_type, default=None, help="keyframe seeds, e.g. 0-7")
    parser.add_argument("--projected-w", type=path_list_type, default=None, metavar="FILES",
                        help="comma-separated latent files (projected_w.npz / projected.safetensors) as keyframes")
    parser.add_argument("--space", choices=["z", "w", "w+"], default="w", help="interpolation space")
    parser.add_argument("--grid", type=grid_type, default=(1, 1), metavar="RxC",
                        help=f"several loops side by side, each side 1..{MAX_GRID_SIDE} (default: 1x1)")
    parser.add_argument("--frames-per-step", type=bounded(int, 1, 10_000, "--frames-per-step"), default=60,
                        help="frames between two keyframes")
    parser.add_argument("--fps", type=bounded(int, 1, 240, "--fps"), default=30, help="frames per second")
    parser.add_argument("--trunc", type=psi_type, default=None, metavar="PSI",
                        help="truncation psi (default: the model's own, 1 for most)")
    parser.add_argument("--noise-mode", choices=["const", "none"], default="const", help="per-pixel noise")
    parser.add_argument("--translate", type=translate_type, default=None, metavar="X,Y",
                        help="StyleGAN3 only: move the image from 0,0 to X,Y image widths over the video")
    parser.add_argument("--rotate", type=bounded(float, -3600, 3600, "--rotate"), default=None, metavar="DEG",
                        help="StyleGAN3 only: turn the image from 0 to DEG degrees over the video")
    parser.add_argument("--scale", type=bounded(int, 0, MAX_SCALE, "--scale"), default=0,
                        help="pixel upscaling (default 0: to at least 256 px)")
    parser.add_argument("--out", required=True, metavar="PATH", help=".mp4 or .gif file to write")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    parser.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")
