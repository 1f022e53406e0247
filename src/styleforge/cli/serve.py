"""`styleforge serve`: the local web explorer for one model."""

from .options import add_command, add_model_options, bounded, device_type, path_list_type

EXAMPLES = """  styleforge serve --model tiny.safetensors                 # then open http://127.0.0.1:7860
  styleforge serve --model ffhq.safetensors --device cuda --edits sefa.safetensors,ifg.safetensors
  styleforge serve --model ffhq.safetensors --projected-w out/projected.safetensors   # a saved projection
  ssh -L 7860:127.0.0.1:7860 gpu-box   # on your laptop, with the server running on gpu-box
The page: seed (← / → step it), truncation ψ and cutoff, noise, style mixing with coarse / middle /
fine presets, interpolation between two seeds, edit sliders, projection of an uploaded image, feature
maps of any layer, and downloads of the image and its W+ / S latent. Needs the web extra:
pip install '.[web]' (from a checkout)."""


def register(commands) -> None:
    parser = add_command(commands, "serve", "Serve the local web explorer for one model.", EXAMPLES)
    add_model_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 exposes it to the network)")
    parser.add_argument("--port", type=bounded(int, 1, 65535, "--port"), default=7860, help="port")
    parser.add_argument("--device", type=device_type, default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--edits", default=None, metavar="FILES",
                        help="comma-separated edit files (styleforge edit ...) shown as sliders")
    parser.add_argument("--distance", choices=["lpips", "pixel"], default="lpips",
                        help="projection distance: lpips (the reference's; weights fetched on the first "
                             "projection) or pixel (MSE + (1 − SSIM), no weights)")
    parser.add_argument("--projected-w", type=path_list_type, default=None, metavar="FILES",
                        help="comma-separated latent files (projected.safetensors, projected_w.npz, saved latents) "
                             "shown as finished projections")
