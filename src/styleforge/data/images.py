"""Image datasets from a folder or a zip archive (recursive, sorted), with labels from the
reference's `dataset.json` ({"labels": [["path", 3], ...]}: int → one-hot, list → vector) or from
sub-folder names."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import warnings
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import StyleforgeError

MAX_IMAGE_PIXELS = 100_000_000  # an image declaring more is refused before decoding (12k × 8k photos pass)
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


class _Source:
    """Files of a folder or a zip, by relative POSIX path."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = None
        if path.is_dir():
            self.names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
        elif zipfile.is_zipfile(path):
            self.zip = zipfile.ZipFile(path)
            self.names = sorted(n for n in self.zip.namelist() if not n.endswith("/"))
        else:
            raise StyleforgeError(f"{path} is neither a folder nor a zip archive")

    def content_hash(self, names: list[str]) -> str:
        """SHA-256 over the names and contents of `names`; for a zip, over the CRC-32 and size its
        directory records for each member, so a large archive is not read through."""
        digest = hashlib.sha256()
        for name in names:
            digest.update(name.encode() + b"\0")
            if self.zip is not None:
                info = self.zip.getinfo(name)
                digest.update(f"{info.CRC:08x}:{info.file_size}".encode())
            else:
                digest.update(hashlib.sha256(self.read(name)).digest())
        return digest.hexdigest()

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(name)
        return (self.path / name).read_bytes()

    def __getstate__(self):  # zip handles do not cross process boundaries
        return {"path": self.path, "names": self.names, "zip": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        if zipfile.is_zipfile(self.path) and not self.path.is_dir():
            self.zip = zipfile.ZipFile(self.path)


def read_image(data: bytes, name: str, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """A fully decoded PIL image, or a clear error naming the file; an image that declares more than
    `max_pixels` is refused before anything is decoded (a small file can declare 30000×30000)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit applies below
            image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > max_pixels:
            raise StyleforgeError(f"{name}: declares {width}×{height} pixels; at most {max_pixels:,} are read "
                                  "(resize it first)")
        image.load()
        return image
    except StyleforgeError:
        raise
    except Image.DecompressionBombError as error:  # beyond PIL's own hard limit, raised by open()
        size = re.search(r"\((\d+) pixels\)", str(error))
        raise StyleforgeError(f"{name}: declares {int(size[1]):,} pixels; at most {max_pixels:,} are read "
                              "(resize it first)" if size else f"{name}: too many pixels to read") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise StyleforgeError(f"{name}: {image_error(error)}") from None


def image_error(error: Exception) -> str:
    """What went wrong reading an image, without PIL's repr of the in-memory file."""
    if isinstance(error, UnidentifiedImageError):
        return "not an image format PIL can read"
    text = str(error).split(" <_io.")[0].strip() or type(error).__name__
    return f"unreadable or truncated image ({text})"


_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N"}
_COLOUR_MODES = {"RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
_PALETTE_MODES = {"P", "PA"}


def _grey_palette(image: Image.Image) -> bool:
    colours = np.asarray(image.getpalette() or [], dtype=np.int32)
    colours = colours[: len(colours) // 3 * 3].reshape(-1, 3)
    return bool(len(colours)) and bool((colours[:, 0] == colours[:, 1]).all() and (colours[:, 1] == colours[:, 2]).all())


def image_channels(image: Image.Image, name: str = "image") -> int:
    """1 for greyscale content (alpha ignored), 3 for colour, from the PIL mode; other modes refused."""
    if image.mode in _GREY_MODES:
        return 1
    if image.mode in _COLOUR_MODES:
        return 3
    if image.mode in _PALETTE_MODES:
        return 1 if _grey_palette(image) else 3
    raise StyleforgeError(f"{name}: image mode {image.mode!r} is not supported (use 8- or 16-bit greyscale, "
                          "RGB(A), palette or CMYK images)")


def to_8bit(image: Image.Image, name: str = "image") -> Image.Image:
    """An 'L' or 'RGB' image with values 0..255: 16-bit greyscale scaled by 255/65535 (not clipped),
    alpha dropped (as the reference's dataset tool does), palette and CMYK converted."""
    channels = image_channels(image, name)
    if image.mode.startswith("I"):
        values = np.asarray(image).astype(np.float64)
        if values.min() < 0 or values.max() > 65535:
            raise StyleforgeError(f"{name}: {image.mode} image values {values.min():g}..{values.max():g} are "
                                  "outside 0..65535")
        return Image.fromarray(np.round(values / 257).astype(np.uint8), "L")
    if image.mode in _PALETTE_MODES:
        image = image.convert("RGBA")
    return image.convert("L" if channels == 1 else "RGB")


def image_to_array(image: Image.Image, channels: int, name: str = "image") -> np.ndarray:
    """uint8 [C, H, W] with 1 or 3 channels."""
    image = to_8bit(image, name).convert("L" if channels == 1 else "RGB")
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return np.ascontiguousarray(array.transpose(2, 0, 1))


MAX_CLASSES = 2 ** 16


def parse_dataset_json(data, where: str = "dataset.json") -> dict | None:
    """{path: label} from the reference's dataset.json ({"labels": [["path", label], ...]} or
    {"labels": null}); a label is a class index (int ≥ 0) or a vector of numbers, the same kind for
    every image. Anything that would silently become another class is refused."""
    if not isinstance(data, dict):
        raise StyleforgeError(f"{where} must be a JSON object like {{\"labels\": [[\"img.png\", 0], ...]}}")
    raw = data.get("labels")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise StyleforgeError(f"{where}: \"labels\" must be a list of [path, label] pairs or null")
    table, kinds = {}, set()
    for entry in raw:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise StyleforgeError(f"{where}: each label entry must be [path, label], got {str(entry)[:60]}")
        path, label = str(PurePosixPath(entry[0])), entry[1]
        if isinstance(label, int) and not isinstance(label, bool):
            if not 0 <= label < MAX_CLASSES:
                raise StyleforgeError(f"{where}: class {label} of {path} is outside 0..{MAX_CLASSES - 1}")
            kinds.add("class")
        elif isinstance(label, list) and label and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in label):
            kinds.add(f"vector of {len(label)}")
        else:
            raise StyleforgeError(f"{where}: label of {path} must be a class index (an integer) or a list of "
                                  f"numbers, got {json.dumps(label)[:40]}")
        if path in table:
            raise StyleforgeError(f"{where}: {path} is labelled twice")
        table[path] = label
    if len(kinds) > 1:
        raise StyleforgeError(f"{where}: labels mix {' and '.join(sorted(kinds))}; use one kind for every image")
    return table


def _labels_from_json(data, names: list[str]) -> np.ndarray | None:
    table = parse_dataset_json(data)
    if table is None:
        return None
    missing = [n for n in names if n not in table]
    if missing:
        raise StyleforgeError(f"dataset.json has no label for {missing[0]} ({len(missing)} files lack one)")
    extra = sorted(set(table) - set(names))
    if extra:
        raise StyleforgeError(f"dataset.json labels {extra[0]}, which is not an image of the dataset")
    values = [table[n] for n in names]
    if isinstance(values[0], int):
        one_hot = np.zeros([len(values), max(values) + 1], np.float32)
        one_hot[np.arange(len(values)), values] = 1
        return one_hot
    return np.asarray(values, dtype=np.float32).reshape(len(values), -1)


def _labels_from_folders(names: list[str]) -> np.ndarray | None:
    folders = [n.split("/")[0] if "/" in n else None for n in names]
    if any(f is None for f in folders) or len(set(folders)) < 2:
        return None
    classes = sorted(set(folders))
    one_hot = np.zeros([len(names), len(classes)], np.float32)
    one_hot[np.arange(len(names)), [classes.index(f) for f in folders]] = 1
    return one_hot


class ImageDataset:
    """Square, power-of-two images of one size and channel count; `image(i)` → uint8 [C, H, W]."""

    def __init__(self, path: str | os.PathLike, use_labels: bool = False, max_size: int | None = None):
        path = Path(path)
        if not path.exists():
            raise StyleforgeError(f"dataset not found: {path}")
        self.source = _Source(path)
        self.name = path.stem
        names = [n for n in self.source.names if PurePosixPath(n).suffix.lower() in IMAGE_EXTENSIONS]
        if not names:
            raise StyleforgeError(f"{path} contains no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        self.names = names[:max_size] if max_size else names
        self._check_images()
        self.labels = None
        if use_labels:
            meta = "dataset.json"
            if meta in self.source.names:
                try:
                    data = json.loads(self.source.read(meta))
                except json.JSONDecodeError as error:
                    raise StyleforgeError(f"{path}/dataset.json is not valid JSON ({error})") from None
                self.labels = _labels_from_json(data, self.names)
            if self.labels is None:
                self.labels = _labels_from_folders(self.names)
            if self.labels is None:
                raise StyleforgeError(f"{path} has no labels: add a dataset.json or put each class in "
                                      "its own sub-folder")
        self.label_dim = 0 if self.labels is None else self.labels.shape[1]

    def _check_images(self) -> None:
        """Read every header: one size, square, power of two, one channel count."""
        first = None
        for name in self.names:
            try:
                data = self.source.read(name)
                with Image.open(io.BytesIO(data)) as image:
                    image.verify()  # reads the whole file (catches truncation) without decoding
                with Image.open(io.BytesIO(data)) as image:  # verify() leaves the image unusable
                    size, channels = image.size, image_channels(image, name)
            except (UnidentifiedImageError, OSError, SyntaxError) as error:
                raise StyleforgeError(f"{name}: {image_error(error)}") from None
            if first is None:
                first = (size, channels, name)
                w, h = size
                if w != h or w < 4 or w & (w - 1):
                    raise StyleforgeError(
                        f"{name} is {w}×{h}; training needs square power-of-two images — convert the "
                        f"folder with `styleforge dataset --source ... --dest out.zip --resolution N`")
            elif size != first[0]:
                raise StyleforgeError(f"{name} is {size[0]}×{size[1]} but {first[2]} is "
                                      f"{first[0][0]}×{first[0][1]}; all images must have one size "
                                      "(use `styleforge dataset` to resize)")
            elif channels != first[1]:
                raise StyleforgeError(f"{name} has {channels} channel(s) but {first[2]} has {first[1]}")
        self.resolution, self.channels = first[0][0], first[1]

    def __len__(self) -> int:
        return len(self.names)

    def image(self, index: int) -> np.ndarray:
        name = self.names[index]
        return image_to_array(read_image(self.source.read(name), name), self.channels, name)

    def fingerprint(self) -> str:
        """Content hash of the images (names and bytes), for caching statistics of the dataset;
        computed once per dataset object (a folder is read through)."""
        if getattr(self, "_fingerprint", None) is None:
            self._fingerprint = self.source.content_hash(self.names)
        return self._fingerprint

    def label(self, index: int) -> np.ndarray:
        if self.labels is None:
            return np.zeros([0], np.float32)
        return self.labels[index]
