"""Image tensors → uint8 arrays, grids (including the style-mixing figure layout and grids with row and
column labels) and PNG files."""

import os

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..files import atomic_path


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] → [N, H, W, C] uint8, with the reference's rounding (x·127.5 + 128)."""
    x = (images.detach().to("cpu", torch.float32) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def make_grid(images: np.ndarray, cols: int | None = None, pad: int = 0, fill: int = 0) -> np.ndarray:
    """Tile [N, H, W, C] images row-major into one [rows·H, cols·W, C] image."""
    n, h, w, c = images.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, c), fill, dtype=images.dtype)
    for i, image in enumerate(images):
        r, k = divmod(i, cols)
        grid[r * (h + pad): r * (h + pad) + h, k * (w + pad): k * (w + pad) + w] = image
    return grid


def labeled_grid(row_images: np.ndarray, col_images: np.ndarray, cells: np.ndarray,
                 fill: int = 0) -> np.ndarray:
    """The style-mixing figure: a blank corner, column sources on top, row sources on the left,
    and cells[r, k] (an [R, K, H, W, C] array) in between."""
    rows, cols = cells.shape[:2]
    blank = np.full_like(col_images[:1], fill)
    tiles = [blank, col_images]
    for r in range(rows):
        tiles += [row_images[r: r + 1], cells[r]]
    return make_grid(np.concatenate(tiles), cols=cols + 1)


def titled_grid(images: np.ndarray, cols: int, row_labels: list[str], col_labels: list[str], corner: str = "",
                pad: int = 2, font_size: int = 12) -> np.ndarray:
    """`make_grid` on white with a label left of each row, above each column and in the top-left corner
    (black text, ASCII: the built-in font): [N, H, W, C] uint8 → [top + rows·(H+pad), left + cols·(W+pad), C]."""
    grid = make_grid(images, cols=cols, pad=pad, fill=255)
    h, w, channels = images.shape[1:]
    font = ImageFont.load_default(size=font_size)
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    left = max((measure.textlength(text, font=font) for text in [*row_labels, corner]), default=0)
    left, top = int(left) + 8 if row_labels else 0, font_size + 8 if col_labels else 0
    canvas = Image.new("RGB", (left + grid.shape[1], top + grid.shape[0]), "white")
    canvas.paste(Image.fromarray(grid[:, :, 0] if channels == 1 else grid).convert("RGB"), (left, top))
    draw = ImageDraw.Draw(canvas)
    draw.text((left - 4, top / 2), corner, fill="black", font=font, anchor="rm")
    for k, text in enumerate(col_labels):
        draw.text((left + k * (w + pad) + w / 2, top / 2), text, fill="black", font=font, anchor="mm")
    for r, text in enumerate(row_labels):
        draw.text((left - 4, top + r * (h + pad) + h / 2), text, fill="black", font=font, anchor="rm")
    out = np.asarray(canvas)
    return out[:, :, :1] if channels == 1 else out


def save_image(image: np.ndarray, path: str | os.PathLike) -> None:
    """Write an [H, W, C] uint8 array as PNG (C = 1 → grayscale), atomically."""
    mode = "L" if image.shape[2] == 1 else "RGB"
    picture = Image.fromarray(image[:, :, 0] if mode == "L" else image, mode)
    with atomic_path(path) as tmp:
        picture.save(tmp, format="PNG")
