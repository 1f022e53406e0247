"""StyleGAN (v1) synthesis network with AdaIN (Karras et al., CVPR 2019, Sec. 2 and Fig. 1b): a
learned 4×4 constant; per layer [2× nearest upsampling →] 3×3 conv [→ blur] → per-pixel noise with
per-channel strength → bias + leaky ReLU → instance normalization → AdaIN (y_s·x̂ + y_b, the style
from an affine map of w, scale biased to 1). One ToRGB (1×1 conv) at the end: the v1 generator
without progressive growing (its "fixed" structure). Equalized learning rate throughout.

It has the same surface as the StyleGAN2 synthesis network (`styles`, `from_styles`, `style_layers`,
`num_ws`, per-layer feature maps), so mapping, truncation, style mixing, the pipeline, projection,
editing and training use it unchanged. S for v1 is the AdaIN parameters: 2·C values per layer
(scales then biases).
"""

import math

import torch
from torch import nn

from ..config import block_channels
from ..nn import Conv2dLayer, FullyConnectedLayer, bias_act, setup_filter, upfirdn2d
from ..nn.bias_act import default_gain
from .synthesis import StyleLayer, StyleSurface

BLUR_FILTER = (1, 2, 1)  # v1's blur after upsampling (Sec. 2 / Appendix C: bilinear, Zhang 2019)


def instance_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Per sample and channel: zero mean and unit second moment over positions (StyleGAN Eq. 1)."""
    x = x - x.mean(dim=[2, 3], keepdim=True)
    return x * torch.rsqrt(x.square().mean(dim=[2, 3], keepdim=True) + eps)


def adain(x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
    """AdaIN(x, y) = y_s · IN(x) + y_b (StyleGAN Eq. 1); styles [N, 2C] = (y_s − 1, y_b)."""
    scale, shift = styles.chunk(2, dim=1)
    return instance_norm(x) * (scale + 1)[:, :, None, None] + shift[:, :, None, None]


class AdaINLayer(nn.Module):
    """One v1 layer: [up → conv → blur | conv | nothing (the constant's layer)] → noise → bias +
    lrelu → AdaIN. Its output before the normalization is its feature map (where droplets show)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, conv: bool = True,
                 up: int = 1, use_noise: bool = True, activation: str = "lrelu"):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.resolution, self.up, self.use_noise, self.activation = resolution, up, use_noise, activation
        self.act_gain = default_gain(activation)
        self.weight_gain = 1 / math.sqrt(in_channels * 9)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 3, 3])) if conv else None
        self.register_buffer("blur_filter", setup_filter(BLUR_FILTER), persistent=False)
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.affine = FullyConnectedLayer(w_dim, 2 * out_channels, bias_init=0)  # "A" in Fig. 1b
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([out_channels]))  # "B": per channel in v1

    def forward(self, x: torch.Tensor, styles: torch.Tensor, noise_mode: str = "const",
                generator: torch.Generator | None = None, record=None) -> torch.Tensor:
        if self.weight is not None:
            if self.up > 1:
                x = torch.nn.functional.interpolate(x, scale_factor=self.up, mode="nearest")
            x = torch.nn.functional.conv2d(x, (self.weight * self.weight_gain).to(x.dtype), padding=1)
            if self.up > 1:
                x = upfirdn2d(x, self.blur_filter, padding=1)
        if self.use_noise and noise_mode != "none":
            if noise_mode == "random":
                noise = torch.randn([x.shape[0], 1, self.resolution, self.resolution], device=x.device,
                                    generator=generator)
            else:
                noise = self.noise_const
            x = x + noise * self.noise_strength.view(1, -1, 1, 1).to(x.dtype)
        x = bias_act(x, self.bias.to(x.dtype), act=self.activation, gain=self.act_gain)
        if record is not None:
            record(x)
        return adain(x, styles)


class SynthesisBlockV1(nn.Module):
    """One resolution: (constant | 2× up conv) and a 3×3 conv, each followed by AdaIN."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int,
                 is_last: bool, use_noise: bool = True, activation: str = "lrelu"):
        super().__init__()
        self.resolution = resolution
        layer = dict(w_dim=w_dim, resolution=resolution, use_noise=use_noise, activation=activation)
        if in_channels == 0:
            self.const = nn.Parameter(torch.ones([out_channels, resolution, resolution]))  # v1 starts at 1
            self.input = AdaINLayer(out_channels, out_channels, conv=False, **layer)  # noise + AdaIN only
        else:
            self.conv_up = AdaINLayer(in_channels, out_channels, up=2, **layer)
        self.conv = AdaINLayer(out_channels, out_channels, **layer)
        self.to_rgb = Conv2dLayer(out_channels, img_channels, kernel_size=1) if is_last else None

    def modulated_layers(self) -> list[tuple[str, nn.Module]]:
        """The layers that take a style, in synthesis order ('input' is the 4×4 constant's layer)."""
        first = "input" if hasattr(self, "const") else "conv_up"
        return [(first, getattr(self, first)), ("conv", self.conv)]

    def forward(self, x, img, styles: list[torch.Tensor], noise_mode: str = "const", fused: bool = True,
                generator: torch.Generator | None = None, features: dict | None = None):
        """(features [N, C, r, r], image or None); `features` gets 'b8.conv_up' ('b4.input'), 'b8.conv'
        (each layer's activation before its instance normalization), 'b8' and, at the end, 'b8.to_rgb'."""
        name = f"b{self.resolution}"

        def recorder(key):
            return None if features is None else (lambda value: features.__setitem__(f"{name}.{key}", value))
        if x is None:
            x = self.const.to(styles[0].dtype).unsqueeze(0).repeat([styles[0].shape[0], 1, 1, 1])
        for (key, layer), style in zip(self.modulated_layers(), styles):
            x = layer(x, style, noise_mode, generator, recorder(key))
        if features is not None:
            features[name] = x
        if self.to_rgb is not None:
            img = self.to_rgb(x).to(torch.float32)
            if features is not None:
                features[f"{name}.to_rgb"] = img
        return x, img


class SynthesisNetworkV1(StyleSurface, nn.Module):
    """W+ → image with AdaIN. Block r has min(channel_base / r, channel_max) channels (the v1 FFHQ
    generator: channel_base 16384, channel_max 512); W+ has 2 rows per resolution, one per layer."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 16384,
                 channel_max: int = 512, use_noise: bool = True, activation: str = "lrelu"):
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.block_resolutions = [2 ** i for i in range(2, int(math.log2(img_resolution)) + 1)]
        channels = {r: block_channels(r, channel_base, channel_max) for r in self.block_resolutions}
        for r in self.block_resolutions:
            setattr(self, f"b{r}", SynthesisBlockV1(channels[r // 2] if r > 4 else 0, channels[r], w_dim, r,
                                                    img_channels, is_last=(r == img_resolution),
                                                    use_noise=use_noise, activation=activation))
        self.style_layers = [StyleLayer(f"b{block.resolution}.{name}", "conv", block.resolution,
                                        2 * module.out_channels, module.out_channels, index)
                             for index, (block, (name, module)) in enumerate(
                                 (b, layer) for b in self.blocks() for layer in b.modulated_layers())]
        self.num_ws = len(self.style_layers)

    def from_styles(self, styles: list[torch.Tensor], noise_mode: str = "const",
                    fused_modconv: bool | None = None, generator: torch.Generator | None = None,
                    features: dict | None = None) -> torch.Tensor:
        """S → image [N, img_channels, R, R]; S is every layer's AdaIN parameters [N, 2·C] (scale − 1,
        then bias). `fused_modconv` is accepted for the v2 signature."""
        self.check_styles(styles, noise_mode)
        x = img = None
        for k, block in enumerate(self.blocks()):
            x, img = block(x, img, styles[2 * k: 2 * k + 2], noise_mode=noise_mode, generator=generator,
                           features=features)
        return img

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", fused_modconv: bool | None = None,
                generator: torch.Generator | None = None, features: dict | None = None) -> torch.Tensor:
        """W+ [N, num_ws, w_dim] → image [N, C, R, R]."""
        return self.from_styles(self.styles(ws), noise_mode=noise_mode, generator=generator, features=features)
