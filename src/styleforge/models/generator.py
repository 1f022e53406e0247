"""StyleGAN2 generator G = synthesis ∘ mapping (StyleGAN2 paper, Sec. 2) with Z, W, W+ and S entry points;
config.family "stylegan1" gives the StyleGAN v1 (AdaIN) synthesis network and "stylegan3" the alias-free
one (StyleGAN3, configs T and R) behind the same mapping."""

import torch
from torch import nn

from ..config import GeneratorConfig
from .mapping import MappingNetwork
from .synthesis import StyleLayer, SynthesisNetwork
from .synthesis_sg3 import AliasFreeSynthesis
from .synthesis_v1 import SynthesisNetworkV1


class Generator(nn.Module):
    """G(z, c) → image. `G.mapping`: Z→W+; `G.styles`: W+→S; `G.synthesis`: W+→image;
    `G.synthesis_from_styles`: S→image."""

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        config = config.validate()
        self.config = config
        self.z_dim, self.c_dim, self.w_dim = config.z_dim, config.c_dim, config.w_dim
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        if config.family == "stylegan3":
            self.synthesis = AliasFreeSynthesis(
                config.w_dim, config.img_resolution, config.img_channels, channel_base=config.channel_base,
                channel_max=config.channel_max, conv_clamp=config.conv_clamp, settings=config.alias_free)
        elif config.family == "stylegan1":
            self.synthesis = SynthesisNetworkV1(
                config.w_dim, config.img_resolution, config.img_channels, channel_base=config.channel_base,
                channel_max=config.channel_max, use_noise=config.use_noise, activation=config.activation)
        else:
            self.synthesis = SynthesisNetwork(
                config.w_dim, config.img_resolution, config.img_channels,
                architecture=config.architecture, channel_base=config.channel_base,
                channel_max=config.channel_max, resample_filter=config.resample_filter,
                conv_clamp=config.conv_clamp, use_noise=config.use_noise, activation=config.activation)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            config.z_dim, config.c_dim, config.w_dim, self.num_ws, num_layers=config.mapping_layers,
            embed_features=config.embed_features, layer_features=config.layer_features,
            activation=config.activation, lr_multiplier=config.mapping_lr_multiplier,
            w_avg_beta=config.w_avg_beta)

    @property
    def style_layers(self) -> list[StyleLayer]:
        """Every modulated layer in synthesis order (17 convs + 9 ToRGB at 1024 px, skip)."""
        return self.synthesis.style_layers

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping.w_avg

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, psi: float = 1.0,
                cutoff: int | None = None, noise_mode: str = "const") -> torch.Tensor:
        """Z [N, z_dim] (+ labels [N, c_dim]) → image [N, C, R, R]."""
        return self.synthesis(self.mapping(z, c, psi=psi, cutoff=cutoff), noise_mode=noise_mode)

    def styles(self, ws: torch.Tensor) -> list[torch.Tensor]:
        """W+ [N, num_ws, w_dim] → S: one [N, C_l] tensor per modulated layer (ToRGB included)."""
        return self.synthesis.styles(ws)

    def synthesis_from_styles(self, styles: list[torch.Tensor], noise_mode: str = "const",
                              generator: torch.Generator | None = None) -> torch.Tensor:
        """S (as returned by `styles`) → image; identical to `synthesis(ws)` for styles(ws)."""
        return self.synthesis.from_styles(styles, noise_mode=noise_mode, generator=generator)
