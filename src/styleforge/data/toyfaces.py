"""toyfaces: procedural cartoon faces with known generative factors (DESIGN.md, "The built-in
dataset"). Deterministic per (seed, index), any resolution 16–256, rendered on the fly with
anti-aliased shapes; the factors play the role of CelebA attributes for FFHQ."""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass

import numpy as np

from ..errors import StyleforgeError

CONTINUOUS_FACTORS = ("skin_hue", "face_width", "eye_size", "smile", "hair_hue", "hair_length",
                      "offset_x", "offset_y", "rotation", "background_hue")
BINARY_FACTORS = ("glasses", "hat")
FACTOR_NAMES = CONTINUOUS_FACTORS + BINARY_FACTORS
REGIONS = ("background", "face", "hair", "eyes", "mouth", "glasses", "hat")  # what each pixel shows


def sample_factors(rng: np.random.Generator) -> dict[str, float]:
    """One face's factors, each in [0, 1] (binary ones 0/1), with a few real-data-like correlations:
    long hair goes with warm hair colours and narrow faces, glasses with small eyes, hats hide hair."""
    f = {name: float(rng.uniform()) for name in ("skin_hue", "face_width", "eye_size", "smile",
                                                 "hair_hue", "background_hue")}
    f["hair_length"] = float(np.clip(0.5 + 0.55 * (rng.uniform() - 0.5) - 0.35 * (f["hair_hue"] - 0.5)
                                     - 0.25 * (f["face_width"] - 0.5), 0, 1))
    f["offset_x"], f["offset_y"] = (float(v) for v in np.clip(rng.normal(0.5, 0.15, 2), 0, 1))
    f["rotation"] = float(np.clip(rng.normal(0.5, 0.15), 0, 1))
    f["glasses"] = float(rng.uniform() < 0.15 + 0.4 * (1 - f["eye_size"]))
    f["hat"] = float(rng.uniform() < 0.2)
    return f


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


def _coverage(distance: np.ndarray, pixel: float) -> np.ndarray:
    """Anti-aliased coverage of a shape from a signed distance (negative inside)."""
    return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def _ellipse(x, y, cx, cy, rx, ry):
    """Approximate signed distance to an ellipse (exact for circles)."""
    return (np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2) - 1) * min(rx, ry)


def render(factors: dict[str, float], resolution: int, regions: bool = False):
    """The face for `factors` as float32 RGB [H, W, 3] in [0, 1]; with `regions`, also the region map
    [H, W] (indices into REGIONS: the shape painted last over at least half of each pixel)."""
    pixel = 2.0 / resolution
    coords = (np.arange(resolution, dtype=np.float32) + 0.5) * pixel - 1
    gx, gy = np.meshgrid(coords, coords)
    # Head pose: offset and rotation move the face frame; the background stays.
    angle = (factors["rotation"] - 0.5) * 0.6
    ox, oy = (factors["offset_x"] - 0.5) * 0.35, (factors["offset_y"] - 0.5) * 0.25
    cos, sin = np.cos(angle), np.sin(angle)
    x = cos * (gx - ox) + sin * (gy - oy)
    y = -sin * (gx - ox) + cos * (gy - oy)

    bg = _hsv(0.55 + 0.9 * factors["background_hue"], 0.35, 0.85)
    image = np.broadcast_to(bg, (resolution, resolution, 3)) * (1.05 - 0.1 * (gy[..., None] + 1) / 2)
    image = image.astype(np.float32)

    region = np.zeros((resolution, resolution), np.int64)

    def paint(coverage, color, part: str):
        nonlocal image
        image = image + coverage[..., None] * (np.asarray(color, np.float32) - image)
        region[coverage >= 0.5] = REGIONS.index(part)

    face_w = 0.36 + 0.2 * factors["face_width"]
    face_cy, face_h = 0.08, 0.56
    hair = _hsv(0.02 + 0.15 * factors["hair_hue"], 0.65, 0.25 + 0.5 * factors["hair_hue"])
    skin = _hsv(0.03 + 0.07 * factors["skin_hue"], 0.25 + 0.35 * factors["skin_hue"],
                0.95 - 0.35 * factors["skin_hue"])
    wears_hat = factors["hat"] > 0.5

    # Hair behind the head: a cap plus a curtain whose length is the hair_length factor.
    length = 0.15 + 0.75 * factors["hair_length"] * (0.5 if wears_hat else 1.0)
    cap = _ellipse(x, y, 0, face_cy - 0.08, face_w * 1.18, face_h * 1.0)
    curtain = np.maximum(np.abs(x) - face_w * 1.12, y - (face_cy + length))
    curtain = np.maximum(curtain, -(y - face_cy + 0.1))
    paint(_coverage(np.minimum(cap, curtain), pixel), hair, "hair")
    # Face and fringe.
    face = _ellipse(x, y, 0, face_cy, face_w, face_h)
    paint(_coverage(face, pixel), skin, "face")
    fringe = np.maximum(face, y - (face_cy - face_h * 0.55 + 0.08 * np.cos(x * 9)))
    paint(_coverage(fringe, pixel), hair, "hair")
    # Eyes, pupils, glasses.
    eye_r = 0.045 + 0.05 * factors["eye_size"]
    for side in (-1, 1):
        ex, ey = side * face_w * 0.42, face_cy - 0.07
        paint(_coverage(_ellipse(x, y, ex, ey, eye_r * 1.25, eye_r), pixel), (0.98, 0.98, 0.98), "eyes")
        paint(_coverage(_ellipse(x, y, ex, ey + 0.005, eye_r * 0.55, eye_r * 0.6), pixel), (0.1, 0.08, 0.12),
              "eyes")
        if factors["glasses"] > 0.5:
            ring = np.abs(np.sqrt((x - ex) ** 2 + (y - ey) ** 2) - eye_r * 1.9) - 0.022
            paint(_coverage(ring, pixel), (0.08, 0.08, 0.1), "glasses")
    if factors["glasses"] > 0.5:
        bridge = np.maximum(np.abs(x) - face_w * 0.42 + eye_r * 1.9, np.abs(y - (face_cy - 0.08)) - 0.018)
        paint(_coverage(bridge, pixel), (0.08, 0.08, 0.1), "glasses")
    # Nose and mouth: the smile factor bends the mouth from frown to grin.
    paint(_coverage(_ellipse(x, y, 0, face_cy + 0.1, 0.04, 0.06), pixel), skin * 0.8, "face")
    curve = (factors["smile"] - 0.4) * 0.22
    mouth_w = face_w * 0.5
    mouth_y = face_cy + 0.29 - curve * (1 - (x / mouth_w) ** 2)
    mouth = np.maximum(np.abs(y - mouth_y) - 0.028, np.abs(x) - mouth_w)
    paint(_coverage(mouth, pixel), (0.55, 0.1, 0.15), "mouth")
    # Hat: crown and brim.
    if wears_hat:
        hat = _hsv(factors["background_hue"] + 0.5, 0.6, 0.5)
        top = face_cy - face_h * 0.78
        crown = np.maximum(np.abs(x) - face_w * 0.9, np.maximum(y - top, top - 0.45 - y))
        brim = np.maximum(np.abs(x) - face_w * 1.45, np.abs(y - top) - 0.05)
        paint(_coverage(np.minimum(crown, brim), pixel), hat, "hat")
    image = np.clip(image, 0, 1)
    return (image, region) if regions else image


@dataclass
class ToyFaces:
    """The dataset: image i is `render(sample_factors(rng(seed, i)))`; infinite unless `size` is given."""

    resolution: int = 64
    seed: int = 0
    size: int | None = None
    channels: int = 3

    def __post_init__(self):
        r = self.resolution
        if not 16 <= r <= 256 or r & (r - 1):
            raise StyleforgeError(f"toyfaces resolution must be a power of two in 16..256, got {r}")
        if self.channels not in (1, 3):
            raise StyleforgeError("toyfaces channels must be 1 or 3")
        self.label_dim = 0
        self.name = f"toyfaces-{r}"

    def __len__(self) -> int:
        return self.size if self.size is not None else 2 ** 31

    def fingerprint(self) -> str:
        """Hash of the options and of the first images, so a change to the renderer shows."""
        digest = hashlib.sha256(f"toyfaces:{self.resolution}:{self.seed}:{self.size}:{self.channels}".encode())
        for index in range(4):
            digest.update(self.image(index).tobytes())
        return digest.hexdigest()

    def factors(self, index: int) -> dict[str, float]:
        return sample_factors(np.random.default_rng([self.seed, index]))

    def factor_array(self, indices) -> np.ndarray:
        """[len(indices), len(FACTOR_NAMES)] float32 array of factors."""
        return np.array([[self.factors(i)[n] for n in FACTOR_NAMES] for i in indices], np.float32)

    def image(self, index: int) -> np.ndarray:
        """uint8 [C, H, W]."""
        return self._pixels(render(self.factors(index), self.resolution))

    def image_and_regions(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(uint8 [C, H, W], int64 region map [H, W]) from one rendering."""
        rgb, regions = render(self.factors(index), self.resolution, regions=True)
        return self._pixels(rgb), regions

    def _pixels(self, rgb: np.ndarray) -> np.ndarray:
        if self.channels == 1:
            rgb = rgb @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]
        return np.ascontiguousarray((rgb * 255 + 0.5).astype(np.uint8).transpose(2, 0, 1))

    def label(self, index: int) -> np.ndarray:
        return np.zeros([0], np.float32)

    def regions(self, index: int) -> np.ndarray:
        """int64 [H, W] region map of image `index` (indices into REGIONS)."""
        return self.image_and_regions(index)[1]
