"""The toyfaces attribute predictor: a small CNN that predicts every toyfaces factor (continuous ones
by regression into [0, 1], binary ones as logits) and a per-pixel region map (background, face, hair,
eyes, mouth, glasses, hat). It plays the role the 40 CelebA classifiers and the face parser play in the
StyleGAN, InterFaceGAN and StyleSpace papers, trained on renders whose factors and regions are known."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.toyfaces import BINARY_FACTORS, CONTINUOUS_FACTORS, FACTOR_NAMES, REGIONS, ToyFaces
from ..errors import StyleforgeError
from ..state_dict import load_state_strict
from ..tagged import json_field, read_tagged, write_tagged

FORMAT = "styleforge.toyfaces-predictor"
VERSION = 1


@dataclass(frozen=True)
class PredictorConfig:
    resolution: int = 32        # images are resized to this before the network sees them
    width: int = 32             # channels of the first stage (doubling per stage)
    factors: tuple = FACTOR_NAMES
    regions: tuple = REGIONS


class AttributePredictor(nn.Module):
    """Images [N, 3, H, W] in [-1, 1] → (factor outputs [N, K]: values in [0, 1] for continuous
    factors, logits for binary ones; region logits [N, len(REGIONS), r, r] at the predictor's size)."""

    def __init__(self, config: PredictorConfig = PredictorConfig()):
        super().__init__()
        self.config = config
        w = config.width

        def stage(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.GroupNorm(8, o), nn.SiLU(),
                                 nn.Conv2d(o, o, 3, padding=1, stride=2), nn.GroupNorm(8, o), nn.SiLU())
        self.stages = nn.ModuleList([stage(3, w), stage(w, 2 * w), stage(2 * w, 4 * w)])
        self.head = nn.Sequential(nn.Flatten(), nn.LazyLinear(256), nn.SiLU(), nn.Linear(256, len(config.factors)))
        self.decoder = nn.ModuleList([nn.Conv2d(c, 32, 1) for c in (w, 2 * w, 4 * w)])
        self.classify = nn.Conv2d(32, len(config.regions), 3, padding=1)
        with torch.no_grad():  # materialize the lazy layer so state dicts are complete
            self(torch.zeros(1, 3, config.resolution, config.resolution))

    def forward(self, images: torch.Tensor):
        r = self.config.resolution
        x = images.repeat(1, 3, 1, 1) if images.shape[1] == 1 else images
        if x.shape[-1] != r:
            x = F.interpolate(x, size=(r, r), mode="area" if x.shape[-1] > r else "bilinear", align_corners=None)
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        factors = self.head(x)
        size = skips[0].shape[-1]
        merged = sum(F.interpolate(proj(s), size=(size, size), mode="bilinear", align_corners=False)
                     for proj, s in zip(self.decoder, skips))
        regions = F.interpolate(self.classify(F.silu(merged)), size=(r, r), mode="bilinear", align_corners=False)
        return factors, regions

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Factors [N, K] in [0, 1]: continuous values, and probabilities for the binary ones."""
        with torch.no_grad():
            out, _ = self(images)
        binary = [self.config.factors.index(n) for n in BINARY_FACTORS if n in self.config.factors]
        out = out.clone()
        continuous = [i for i in range(out.shape[1]) if i not in binary]
        out[:, continuous] = out[:, continuous].clamp(0, 1)
        out[:, binary] = torch.sigmoid(out[:, binary])
        return out


def _batch(data: ToyFaces, indices, resolution: int):
    """(images in [-1, 1], factors, region maps) of toyfaces images `indices`, at `resolution`."""
    pairs = [data.image_and_regions(i) for i in indices]
    images = torch.from_numpy(np.stack([image for image, _ in pairs])).float() / 127.5 - 1
    factors = torch.from_numpy(data.factor_array(indices))
    regions = torch.from_numpy(np.stack([region for _, region in pairs]))
    if data.resolution != resolution:
        images = F.interpolate(images, size=(resolution, resolution), mode="area")
    return images, factors, regions


def predictor_loss(model: AttributePredictor, images, factors, regions) -> torch.Tensor:
    """MSE on continuous factors + BCE on binary ones + per-pixel cross-entropy on regions."""
    out, region_logits = model(images)
    names = model.config.factors
    cont = [names.index(n) for n in CONTINUOUS_FACTORS]
    binary = [names.index(n) for n in BINARY_FACTORS]
    loss = F.mse_loss(out[:, cont], factors[:, cont]) * len(cont)
    loss = loss + F.binary_cross_entropy_with_logits(out[:, binary], factors[:, binary]) * len(binary)
    return loss + F.cross_entropy(region_logits, regions)


def evaluate_predictor(model: AttributePredictor, data: ToyFaces, count: int = 512) -> dict:
    """Held-out scores: R² per continuous factor, accuracy per binary factor, IoU per region."""
    model.eval()
    images, factors, regions = _batch(data, range(count), model.config.resolution)
    predicted = model.predict(images)
    with torch.no_grad():
        region_pred = model(images)[1].argmax(1)
    names = model.config.factors
    scores = {}
    for n in CONTINUOUS_FACTORS:
        i = names.index(n)
        truth = factors[:, i]
        scores[f"r2/{n}"] = float(1 - (predicted[:, i] - truth).square().sum() / (truth - truth.mean()).square().sum())
    for n in BINARY_FACTORS:
        i = names.index(n)
        scores[f"accuracy/{n}"] = float(((predicted[:, i] > 0.5).float() == factors[:, i]).float().mean())
    for k, name in enumerate(model.config.regions):
        inter = ((region_pred == k) & (regions == k)).sum().item()
        union = ((region_pred == k) | (regions == k)).sum().item()
        scores[f"iou/{name}"] = inter / union if union else float("nan")
    return scores


def train_predictor(steps: int = 600, batch: int = 32, resolution: int = 32, width: int = 32, seed: int = 0,
                    lr: float = 2e-3, progress: Callable[[int, float], None] | None = None) -> AttributePredictor:
    """Train on toyfaces renders (seed `seed`; held-out scores use another seed's images)."""
    torch.manual_seed(seed)
    model = AttributePredictor(PredictorConfig(resolution=resolution, width=width))
    data = ToyFaces(max(resolution, 16), seed=seed + 1000)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:  # cosine decay
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        images, factors, regions = _batch(data, range(step * batch, (step + 1) * batch), resolution)
        loss = predictor_loss(model, images, factors, regions)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if progress is not None:
            progress(step, loss.item())
    return model.eval()


def save_predictor(model: AttributePredictor, path: str | Path, scores: dict | None = None) -> Path:
    """safetensors + config (and held-out scores) in its metadata; written atomically."""
    return write_tagged(path, FORMAT, VERSION, model.state_dict(),
                        {"config": asdict(model.config), "scores": scores or {}})


def load_predictor(path: str | Path) -> AttributePredictor:
    metadata, tensors = read_tagged(path, FORMAT, VERSION, "a styleforge toyfaces predictor",
                                    "train one with `styleforge analyze train-predictor`", finite=False)
    config = json_field(path, metadata, "config")
    try:
        model = AttributePredictor(PredictorConfig(**{k: tuple(v) if isinstance(v, list) else v
                                                      for k, v in config.items()}))
    except (TypeError, AttributeError) as error:
        raise StyleforgeError(f"{path} is damaged: its predictor config is not valid ({error})") from None
    load_state_strict(model, tensors, str(path))
    return model.eval()
