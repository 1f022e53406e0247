"""The dataset tool: any folder / zip of images (or toyfaces) → a training-ready zip archive of
square PNGs of one size, with the reference's dataset.json for labels. Written atomically."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from ..errors import StyleforgeError
from ..files import atomic_path
from .images import IMAGE_EXTENSIONS, _Source, parse_dataset_json, read_image, to_8bit
from .toyfaces import ToyFaces

TRANSFORMS = ("center-crop", "center-crop-wide", "pad")
RESIZE_FILTERS = {"lanczos": Image.LANCZOS, "box": Image.BOX}


@dataclass
class ConversionSummary:
    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    resolution: int = 0
    channels: int = 3
    labels: bool = False


def transform_image(image: Image.Image, resolution: int, transform: str, resize_filter: str,
                    channels: int, name: str = "image") -> Image.Image:
    """Crop or pad to the target aspect, resize, and convert to 1 or 3 channels."""
    image = to_8bit(image, name).convert("L" if channels == 1 else "RGB")
    resample = RESIZE_FILTERS[resize_filter]
    w, h = image.size
    if transform == "center-crop":
        side = min(w, h)
        image = image.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
        return image.resize((resolution, resolution), resample)
    if transform == "center-crop-wide":  # 2:1 crop centred on a square canvas (reference's option)
        cw, ch = min(w, 2 * h), min(w, 2 * h) // 2
        image = image.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))
        image = image.resize((resolution, resolution // 2), resample)
        canvas = Image.new(image.mode, (resolution, resolution))
        canvas.paste(image, (0, resolution // 4))
        return canvas
    side = max(w, h)  # pad
    canvas = Image.new(image.mode, (side, side))
    canvas.paste(image, ((side - w) // 2, (side - h) // 2))
    return canvas.resize((resolution, resolution), resample)


def _labels(source: _Source, names: list[str]) -> dict | None:
    if "dataset.json" in source.names:
        try:
            data = json.loads(source.read("dataset.json"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise StyleforgeError(f"dataset.json is not valid JSON ({error})") from None
        return parse_dataset_json(data)
    folders = {n.split("/")[0] for n in names if "/" in n}
    if len(folders) >= 2 and all("/" in n for n in names):
        classes = sorted(folders)
        return {n: classes.index(n.split("/")[0]) for n in names}
    return None


def convert_dataset(source: str, dest: str, resolution: int, transform: str = "center-crop",
                    resize_filter: str = "lanczos", channels: int = 3, count: int | None = None,
                    progress: Callable[[int], None] | None = None) -> ConversionSummary:
    """Write `dest` (.zip); unreadable inputs are skipped and listed in the summary."""
    if resolution < 4 or resolution & (resolution - 1):
        raise StyleforgeError(f"--resolution must be a power of two >= 4, got {resolution}")
    if transform not in TRANSFORMS:
        raise StyleforgeError(f"--transform must be one of {', '.join(TRANSFORMS)}")
    if resize_filter not in RESIZE_FILTERS:
        raise StyleforgeError(f"--resize-filter must be one of {', '.join(RESIZE_FILTERS)}")
    if channels not in (1, 3):
        raise StyleforgeError("--channels must be 1 or 3")
    if not str(dest).endswith(".zip"):
        raise StyleforgeError("--dest must be a .zip file")
    summary = ConversionSummary(resolution=resolution, channels=channels)
    if source == "toyfaces":
        if not count:
            raise StyleforgeError("--count N is needed with --source toyfaces")
        toy = ToyFaces(min(max(resolution, 16), 256), size=count)
        items = ((f"{i:08d}.png", (lambda i=i: toy.image(i))) for i in range(count))
        labels = None
    else:
        path = Path(source)
        if not path.exists():
            raise StyleforgeError(f"--source not found: {source}")
        src = _Source(path)
        names = [n for n in src.names if PurePosixPath(n).suffix.lower() in IMAGE_EXTENSIONS]
        if count:
            names = names[:count]
        if not names:
            raise StyleforgeError(f"{source} contains no images")
        labels = _labels(src, names)
        items = ((n, (lambda n=n: read_image(src.read(n), n))) for n in names)
    out_labels = []
    with atomic_path(dest) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, load in items:
            try:
                picture = load()
                if isinstance(picture, np.ndarray):  # toyfaces gives uint8 [C, H, W]
                    picture = Image.fromarray(picture.transpose(1, 2, 0))
                picture = transform_image(picture, resolution, transform, resize_filter, channels, name)
            except StyleforgeError as error:
                summary.skipped.append((name, str(error)))
                continue
            index = summary.written
            arcname = f"{index // 1000:05d}/img{index:08d}.png"
            buffer = io.BytesIO()
            picture.save(buffer, format="PNG", compress_level=1)
            archive.writestr(arcname, buffer.getvalue())
            if labels is not None:
                if name not in labels:
                    raise StyleforgeError(f"dataset.json has no label for {name}")
                out_labels.append([arcname, labels[name]])
            summary.written += 1
            if progress is not None:
                progress(1)
        if summary.written == 0:
            raise StyleforgeError(f"no readable images in {source}")
        archive.writestr("dataset.json", json.dumps({"labels": out_labels if labels is not None else None}))
    summary.labels = labels is not None
    return summary
