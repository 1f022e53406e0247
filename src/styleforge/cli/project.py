"""`styleforge project`: find the W or W+ latent of real images (StyleGAN2 App. D; Image2StyleGAN)."""

from .options import add_command, add_model_options, add_projection_options, at_least, device_type, seed_type

EXAMPLES = """  styleforge project --model ffhq.safetensors --target face.png --outdir out
  styleforge project --model ffhq.pkl --target faces/ --space w+ --steps 500 --outdir out --device cuda
  styleforge project --model model.safetensors --target face.png --save-video --outdir out
  styleforge project --model model.safetensors --target face.png --distance pixel --steps 300 --outdir out
  styleforge project --model ffhq.pkl --target face.png --method image2stylegan --outdir out --device cuda
Writes, per target: projected_w.npz (key 'w', [1, num_ws, w_dim], as the reference projector),
projected.safetensors (W+ and the optimized noise maps), target.png, proj.png, projection.json
(final distance and its kind, steps, space, seconds) and with --save-video proj.mp4 (target |
projection). A folder of targets is projected in batches; each target gets a sub-folder.
The distance is LPIPS-VGG16, as the reference projector's: its two weight files are fetched into
~/.cache/styleforge/weights on first use (offline: put them there, or pass --distance pixel for
MSE + (1 − SSIM), which needs none). Render a result with its noise maps:
styleforge generate --model M --projected-w out/projected.safetensors
--method reference (default): the reference projector's schedule (W; --space w+ extends it to one w per
layer, adding pixel MSE). --method image2stylegan: Abdal et al. 2019 — W+ from w_avg, Adam at 0.01 for
5000 steps, pixel MSE + VGG16 perceptual loss (conv1_1, conv1_2, conv3_2, conv4_2), no noise
optimization; it needs only the VGG16 weights."""


def register(commands) -> None:
    parser = add_command(commands, "project", "Project real images into W or W+.", EXAMPLES)
    add_model_options(parser)
    parser.add_argument("--target", required=True, metavar="IMAGE|DIR", help="image, or folder of images")
    parser.add_argument("--outdir", default="out/projection", help="output folder")
    parser.add_argument("--force", action="store_true", help="replace the results of an earlier run in --outdir")
    parser.add_argument("--method", choices=["reference", "image2stylegan"], default="reference",
                        help="reference: stylegan2-ada-pytorch's projector; image2stylegan: Abdal et al. 2019 (W+)")
    parser.add_argument("--space", choices=["w", "w+"], default=None,
                        help="one w for all layers, or one per layer (default: w; image2stylegan is always w+)")
    parser.add_argument("--steps", type=at_least(1, "--steps"), default=None,
                        help="optimization steps (default: 1000; image2stylegan: 5000, the paper's)")
    parser.add_argument("--init", choices=["mean", "zeros"], default="mean",
                        help="image2stylegan's start: w_avg (the paper's) or zeros (the published notebook's)")
    parser.add_argument("--seed", type=seed_type, default=0, help="seed of the noise maps and w noise")
    parser.add_argument("--batch", type=at_least(1, "--batch"), default=8, help="targets projected together")
    add_projection_options(parser)
    parser.add_argument("--save-video", action="store_true", help="also write proj.mp4 (target | projection)")
    parser.add_argument("--video-every", type=at_least(1, "--video-every"), default=1,
                        help="a video frame every N steps")
    parser.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")
