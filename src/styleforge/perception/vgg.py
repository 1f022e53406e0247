"""VGG16 (Simonyan & Zisserman 2015, configuration D) in our own code with torchvision's parameter
layout, and LPIPS v0.1 (Zhang et al. 2018) on its conv trunk: unit-normalized activations at
relu1_2, relu2_2, relu3_3, relu4_3, relu5_3, squared differences weighted by learned 1×1 heads,
averaged over space and summed over layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import weights
from ..errors import StyleforgeError
from ..state_dict import load_state_strict

# Configuration D: channels per conv, "M" = 2×2 max pool. Indices follow torchvision's `features`.
_CONFIG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
LPIPS_TAPS = (3, 8, 15, 22, 29)  # features indices of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
LPIPS_CHANNELS = (64, 128, 256, 512, 512)
# LPIPS input scaling (its ScalingLayer): images in [-1, 1] → ImageNet-normalized.
_LPIPS_SHIFT = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
_LPIPS_SCALE = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)


class VGG16(nn.Module):
    """`features` (13 convs + ReLUs + pools) and `classifier` (fc1, fc2, fc3) as in torchvision."""

    def __init__(self):
        super().__init__()
        layers, channels = [], 3
        for item in _CONFIG:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=False)]
                channels = item
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(),
                                        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000))

    def trunk(self, x: torch.Tensor, taps=LPIPS_TAPS) -> list[torch.Tensor]:
        """Activations after the `features` indices in `taps`."""
        out = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in taps:
                out.append(x)
                if len(out) == len(taps):
                    break
        return out

    def fc2(self, images: torch.Tensor) -> torch.Tensor:
        """4096-d fc2 features (after its ReLU) of ImageNet-normalized 224×224 inputs."""
        x = self.features(images)
        x = F.adaptive_avg_pool2d(x, 7).flatten(1)
        return self.classifier[:5](x)


def load_vgg16(path=None, download: bool = True) -> VGG16:
    spec = weights.VGG16_TORCHVISION
    model = VGG16()
    load_state_strict(model, weights.load_state(weights.resolve(spec, path, download), spec), "VGG16 weights")
    return model.eval().requires_grad_(False)


class LPIPS(nn.Module):
    """d(x, y) = Σ_l mean_hw ‖w_l ⊙ (x̂_l − ŷ_l)‖², x̂ the channel-unit-normalized VGG16 activations."""

    def __init__(self, vgg: VGG16, heads: list[torch.Tensor]):
        super().__init__()
        self.vgg = vgg
        for i, (weight, channels) in enumerate(zip(heads, LPIPS_CHANNELS)):
            if tuple(weight.shape) != (1, channels, 1, 1):
                raise StyleforgeError(f"LPIPS head lin{i} must be [1, {channels}, 1, 1], got {list(weight.shape)}")
            self.register_buffer(f"lin{i}", weight.float())

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Distances [N] between images in [-1, 1] (LPIPS' own convention)."""
        shift, scale = _LPIPS_SHIFT.to(x), _LPIPS_SCALE.to(x)
        fx, fy = self.vgg.trunk((x - shift) / scale), self.vgg.trunk((y - shift) / scale)
        total = 0
        for i, (a, b) in enumerate(zip(fx, fy)):
            a = a / (a.square().sum(1, keepdim=True).sqrt() + 1e-10)
            b = b / (b.square().sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + F.conv2d((a - b).square(), getattr(self, f"lin{i}")).mean(dim=(1, 2, 3))
        return total


def load_lpips(vgg_path=None, lpips_path=None, download: bool = True) -> LPIPS:
    """LPIPS-VGG16 from torchvision's VGG16 weights and the LPIPS v0.1 `vgg.pth` heads."""
    spec = weights.LPIPS_VGG_V01
    vgg_file, lpips_file = weights.resolve_all([(weights.VGG16_TORCHVISION, vgg_path), (spec, lpips_path)], download)
    state = weights.load_state(lpips_file, spec)
    missing = [f"lin{i}.model.1.weight" for i in range(5) if f"lin{i}.model.1.weight" not in state]
    if missing:
        raise StyleforgeError(f"LPIPS weights lack {', '.join(missing)} (expected the v0.1 vgg.pth layout)")
    heads = [state[f"lin{i}.model.1.weight"] for i in range(5)]
    return LPIPS(load_vgg16(vgg_file, download), heads).eval()
