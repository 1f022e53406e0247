"""StyleGAN2 discriminator (StyleGAN2 paper, Fig. 7; orig / skip / resnet) with minibatch stddev
and the projection conditioning of Miyato & Koyama (2018) as the reference implements it."""

import math

import torch
from torch import nn

from ..config import DiscriminatorConfig
from ..errors import StyleforgeError
from ..latents import check_labels
from ..nn import Conv2dLayer, FullyConnectedLayer, MinibatchStdLayer, downsample2d, setup_filter
from .mapping import MappingNetwork


class DiscriminatorBlock(nn.Module):
    """[FromRGB] → 3×3 conv → 3×3 conv with 2× FIR downsampling; resnet adds a 1×1 skip, ×1/√2."""

    compute_dtype = torch.float32  # models.precision.set_mixed_precision switches the highest blocks

    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, resolution: int,
                 img_channels: int, architecture: str = "resnet", activation: str = "lrelu",
                 resample_filter=(1, 3, 3, 1), conv_clamp: float | None = None):
        super().__init__()
        self.in_channels, self.resolution, self.architecture = in_channels, resolution, architecture
        self.register_buffer("resample_filter", setup_filter(resample_filter), persistent=False)
        self.from_rgb = None
        if in_channels == 0 or architecture == "skip":
            self.from_rgb = Conv2dLayer(img_channels, tmp_channels, kernel_size=1,
                                        activation=activation, conv_clamp=conv_clamp)
        self.conv = Conv2dLayer(tmp_channels, tmp_channels, kernel_size=3, activation=activation,
                                conv_clamp=conv_clamp)
        self.conv_down = Conv2dLayer(tmp_channels, out_channels, kernel_size=3, activation=activation,
                                     down=2, resample_filter=resample_filter, conv_clamp=conv_clamp)
        self.skip = None
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, kernel_size=1, bias=False, down=2,
                                    resample_filter=resample_filter)

    def forward(self, x, img):
        x = x.to(self.compute_dtype) if x is not None else None
        if self.from_rgb is not None:
            img = img.to(self.compute_dtype)
            y = self.from_rgb(img)
            x = x + y if x is not None else y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv(x)
            x = self.conv_down(x, gain=math.sqrt(0.5))
            x = y + x
        else:
            x = self.conv_down(self.conv(x))
        return x, img


class DiscriminatorEpilogue(nn.Module):
    """4×4 head: [FromRGB] → minibatch stddev → 3×3 conv → FC → output (or projection with cmap)."""

    def __init__(self, in_channels: int, cmap_dim: int, resolution: int, img_channels: int,
                 architecture: str = "resnet", mbstd_group_size: int | None = 4,
                 mbstd_num_channels: int = 1, activation: str = "lrelu",
                 conv_clamp: float | None = None):
        super().__init__()
        self.cmap_dim, self.architecture = cmap_dim, architecture
        self.from_rgb = (Conv2dLayer(img_channels, in_channels, kernel_size=1, activation=activation)
                         if architecture == "skip" else None)
        self.mbstd = (MinibatchStdLayer(mbstd_group_size, mbstd_num_channels)
                      if mbstd_num_channels > 0 else None)
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, kernel_size=3,
                                activation=activation, conv_clamp=conv_clamp)
        self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels, activation=activation)
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x, img, cmap=None):
        x = x.to(torch.float32) if x is not None else None
        img = img.to(torch.float32) if img is not None else None
        if self.from_rgb is not None:
            y = self.from_rgb(img)
            x = x + y if x is not None else y
        if x is None:
            raise StyleforgeError("a 4×4 discriminator needs the 'skip' architecture")
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        x = self.fc(x.flatten(1))
        x = self.out(x)
        if self.cmap_dim > 0:  # projection: <out, embed(c)> / √cmap_dim
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x


class Discriminator(nn.Module):
    """D(img, c) → logits [N, 1]."""

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        config = config.validate()
        self.config = config
        self.c_dim, self.img_resolution, self.img_channels = (
            config.c_dim, config.img_resolution, config.img_channels)
        self.block_resolutions = config.block_resolutions
        channels = {r: config.channels_at(r) for r in self.block_resolutions + [4]}
        cmap_dim = config.cmap_dim if config.cmap_dim is not None else channels[4]
        self.cmap_dim = cmap_dim if config.c_dim > 0 else 0
        common = dict(img_channels=config.img_channels, architecture=config.architecture,
                      conv_clamp=config.conv_clamp)
        for r in self.block_resolutions:
            block = DiscriminatorBlock(channels[r] if r < config.img_resolution else 0, channels[r],
                                       channels[r // 2], r, activation=config.activation,
                                       resample_filter=config.resample_filter, **common)
            setattr(self, f"b{r}", block)
        self.mapping = None
        if config.c_dim > 0:
            self.mapping = MappingNetwork(0, config.c_dim, self.cmap_dim, num_ws=None,
                                          num_layers=config.mapping_layers,
                                          lr_multiplier=config.mapping_lr_multiplier,
                                          w_avg_beta=None, activation=config.activation)
        self.epilogue = DiscriminatorEpilogue(channels[4], self.cmap_dim, 4,
                                              mbstd_group_size=config.mbstd_group_size,
                                              mbstd_num_channels=config.mbstd_num_channels,
                                              activation=config.activation, **common)

    def blocks(self) -> list[DiscriminatorBlock]:
        return [getattr(self, f"b{r}") for r in self.block_resolutions]

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Real/fake logits [N, 1] for images [N, C, R, R] in [-1, 1]."""
        expected = [self.img_channels, self.img_resolution, self.img_resolution]
        if img.ndim != 4 or list(img.shape[1:]) != expected:
            raise StyleforgeError(f"discriminator expects images [N, {', '.join(map(str, expected))}], "
                                  f"got {list(img.shape)}")
        c = check_labels(c, self.c_dim, img.shape[0], "this discriminator")
        x = None
        img = img.to(torch.float32)
        for block in self.blocks():
            x, img = block(x, img)
        cmap = self.mapping(None, c) if self.mapping is not None else None
        return self.epilogue(x, img, cmap)
