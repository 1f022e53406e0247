"""`styleforge project`: projecting target images, writing the results and the progress video
(options: cli/project.py)."""

import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..errors import StyleforgeError
from ..perception import load_vgg16
from ..projection import ProjectionSettings, image_distance, project
from ..projection.image2stylegan import Image2StyleGANSettings, image2stylegan, image2stylegan_loss
from ..projection.files import PROJECTION_FILES, load_target, save_projection, target_paths
from ..media import make_grid, to_uint8, write_video
from .common import check_outputs, load_generator, output_dir, progress_bar


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr, flush=True)


def _video_frames(target: torch.Tensor, frames: list, index: int):
    """target | projection, one frame per kept step."""
    left = to_uint8(target[None])[0]
    for _, images in frames:
        yield make_grid(np.stack([left, to_uint8(images[index:index + 1])[0]]), cols=2)


def _method(args):
    """(run(G, batch, frame_every, progress) → Projection, distance(images, targets) → [B], its description)
    of --method, with --space and --steps settled."""
    if args.method == "image2stylegan":
        args.space, args.steps = "w+", args.steps or Image2StyleGANSettings.steps
        vgg = load_vgg16(args.vgg_weights).to(args.device)
        settings = Image2StyleGANSettings(steps=args.steps, init=args.init, w_avg_samples=args.w_avg_samples)

        def loss(images, targets):
            return torch.stack([sum(image2stylegan_loss(vgg, (a[None] + 1) / 2, (b[None] + 1) / 2))
                                for a, b in zip(images, targets)])
        return (lambda G, batch, every, progress: image2stylegan(G, batch, vgg=vgg, settings=settings, frame_every=every,
                                                                progress=progress),
                loss, "pixel MSE + VGG16 perceptual loss (Image2StyleGAN)")
    args.space, args.steps = args.space or "w", args.steps or ProjectionSettings.steps
    distance = image_distance(args.distance, args.vgg_weights, args.lpips_weights, args.device)
    settings = ProjectionSettings(steps=args.steps, w_avg_samples=args.w_avg_samples)
    return (lambda G, batch, every, progress: project(G, batch, space=args.space, distance=distance, settings=settings,
                                                     seed=args.seed, frame_every=every, progress=progress),
            distance, distance.description)


def run(args) -> int:
    if args.method == "image2stylegan" and args.space == "w":  # before any loading
        raise StyleforgeError("--method image2stylegan embeds in W+ (one w per layer); leave out --space w")
    G = load_generator(args.model, args.device, args.network_key)
    if G.c_dim:
        raise StyleforgeError("projection is for unconditional generators (the reference projector's setting)")
    paths = target_paths(args.target)
    folders = [Path(args.outdir) if len(paths) == 1 else Path(args.outdir) / p.stem for p in paths]
    check_outputs([folder / name for folder in folders for name in PROJECTION_FILES + ("proj.mp4",)], args.force)
    targets = [load_target(path, G, note=_note) for path in paths]
    output_dir(args.outdir)  # a clear line if --outdir is a file, before any work
    method, distance, description = _method(args)
    for start in range(0, len(paths), args.batch):
        chunk = list(range(start, min(start + args.batch, len(paths))))
        batch = torch.stack([targets[i] for i in chunk])
        began = time.time()
        with progress_bar(args.steps, f"project {len(chunk)} target(s)", unit="step") as bar:
            def report(step, distances):
                bar.update(1)
                bar.set_postfix(distance=f"{float(np.mean(distances)):.4f}")
            result = method(G, batch, args.video_every if args.save_video else 0, report)
        seconds = round(time.time() - began, 2)
        with torch.no_grad():
            final = distance(result.images.to(args.device), batch.to(args.device)).cpu().numpy()
        for position, i in enumerate(chunk):
            folder = folders[i]
            record = {"target": str(paths[i]), "method": args.method, "space": args.space, "steps": args.steps,
                      "distance": float(final[position]), "distance_kind": result.distance_kind,
                      "distance_description": description, "seed": args.seed,
                      "seconds": seconds, "targets_in_batch": len(chunk), "model": str(args.model)}
            written = save_projection(folder, G, result, position, batch[position], record)
            if args.save_video:
                video = folder / "proj.mp4"
                write_video(_video_frames(batch[position], result.frames, position), video, fps=30,
                            scale=max(1, 256 // G.img_resolution))
                written.append(video)
            print(f"{paths[i].name}: {result.distance_kind} distance {final[position]:.4f} → {folder}")
    return 0
