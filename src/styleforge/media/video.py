"""Latent interpolation loops, written as GIF (PIL) or MP4 (H.264 via imageio-ffmpeg), streamed."""

from __future__ import annotations

import os
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import torch
from PIL import Image

from ..errors import StyleforgeError
from ..files import atomic_path, write_failure
from ..latents import lerp, slerp
from ..pipeline import render, to_ws
from .grid import make_grid, to_uint8


@torch.no_grad()
def loop_frames(G, keys: torch.Tensor, space: str = "w", steps: int = 24, rows: int = 1, cols: int = 1,
                psi: float = 1.0, noise_mode: str = "const"):
    """Frames ([H, W, C] uint8, yielded one by one) of a loop through keyframes: z [K, z_dim] along
    slerp (space 'z', mapped with truncation ψ) or W / W+ [K, num_ws, w_dim] along lerp (StyleGAN
    Sec. 4.2). Each frame is a rows × cols grid of loops, cell k running k keyframes ahead."""
    count = len(keys)
    for i in range(count):
        for t in np.linspace(0, 1, steps, endpoint=False):
            cells = [((i + k) % count, (i + k + 1) % count) for k in range(rows * cols)]
            a = torch.stack([keys[p] for p, _ in cells])
            b = torch.stack([keys[q] for _, q in cells])
            if space == "z":
                images = render(G, z=slerp(a, b, float(t)), psi=psi, noise_mode=noise_mode, batch_size=len(cells))
            else:
                images = render(G, ws=lerp(a, b, float(t)), noise_mode=noise_mode, batch_size=len(cells))
            yield make_grid(to_uint8(images), cols=cols)


def interpolation_frames(G, seeds: list[int], steps: int = 24, psi: float = 1.0, columns: int = 1,
                         noise_mode: str = "const") -> list[np.ndarray]:
    """Frames looping through the seeds in W (lerp stays on the learned manifold; StyleGAN Sec. 4.2);
    with columns > 1, each frame holds `columns` loops with shifted seed orders."""
    keys = to_ws(G, seeds=seeds, psi=psi)
    return list(loop_frames(G, keys, "w", steps, 1, columns, noise_mode=noise_mode))


def save_gif(frames: list[np.ndarray], path: str | os.PathLike, fps: int = 12, scale: int = 1) -> None:
    pictures = [Image.fromarray(f[:, :, 0] if f.shape[2] == 1 else f) for f in frames]
    if scale > 1:
        pictures = [p.resize((p.width * scale, p.height * scale), Image.NEAREST) for p in pictures]
    with atomic_path(path) as tmp:
        pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:],
                         duration=int(1000 / fps), loop=0)


def _even_rgb(frame: np.ndarray, scale: int) -> np.ndarray:
    """H.264 in yuv420p wants RGB frames with even sides: greyscale → RGB, upscaled, padded."""
    if frame.shape[2] == 1:
        frame = np.repeat(frame, 3, axis=2)
    if scale > 1:
        frame = np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)))


def write_video(frames, path: str | os.PathLike, fps: int = 30, scale: int = 1) -> int:
    """Write frames ([H, W, C] uint8, any iterable: streamed, so memory stays flat) as MP4 (H.264 via
    the ffmpeg that the imageio-ffmpeg package ships) or, for a .gif path, as a GIF. Returns the
    number of frames; the file appears only when complete."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        frames = list(frames)
        save_gif(frames, path, fps=fps, scale=scale)
        return len(frames)
    if path.suffix.lower() != ".mp4":
        raise StyleforgeError(f"{path}: videos are written as .mp4 or .gif")
    count = 0
    with atomic_path(path) as tmp:
        writer = None
        try:
            for frame in frames:
                frame = _even_rgb(frame, scale)
                if writer is None:
                    writer = imageio_ffmpeg.write_frames(str(tmp), (frame.shape[1], frame.shape[0]), fps=fps,
                                                         codec="libx264", pix_fmt_out="yuv420p", quality=8,
                                                         output_params=["-f", "mp4"], macro_block_size=1,
                                                         ffmpeg_log_level="quiet")
                    writer.send(None)  # start the encoder
                writer.send(np.ascontiguousarray(frame))
                count += 1
            if writer is not None:
                writer.close()
        except (OSError, RuntimeError) as error:  # ffmpeg died (e.g. a full disk): its pipe broke
            raise write_failure(path, error) from None
        finally:
            if writer is not None:
                writer.close()
        if count == 0:
            raise StyleforgeError("no frames to write")
        _check_complete(tmp, path, count)
    return count


def _check_complete(tmp: Path, path: Path, count: int) -> None:
    """ffmpeg exits quietly when the disk fills: read the written file back before it replaces `path`."""
    try:
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(tmp))
    except (RuntimeError, OSError, ValueError):  # ffmpeg could not parse it
        frames = 0
    if frames != count:
        raise StyleforgeError(f"could not write {path}: the video came out incomplete ({frames} of {count} frames; "
                              "is the disk full?)")


def read_video_frames(path: str | os.PathLike) -> list[np.ndarray]:
    """The frames of an MP4 as [H, W, 3] uint8 arrays (to check what was written)."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    width, height = meta["size"]
    return [np.frombuffer(raw, np.uint8).reshape(height, width, 3) for raw in reader]
