"""StyleGAN2 synthesis network (StyleGAN2 paper, Sec. 2 and Fig. 7): learned 4×4 constant,
modulated/demodulated 3×3 convs with per-pixel noise, and the orig / skip / resnet architectures."""

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..config import block_channels
from ..errors import StyleforgeError
from ..names import NOISE_MODES
from ..nn import Conv2dLayer, FullyConnectedLayer, bias_act, modulated_conv2d, setup_filter, upsample2d
from ..nn.bias_act import default_gain



@dataclass(frozen=True)
class StyleLayer:
    """One modulated layer: where its style comes from (W+ row) and its size in S space."""

    name: str          # e.g. "b8.conv_up", "b8.to_rgb"
    kind: str          # "conv" or "to_rgb"
    resolution: int    # output resolution of the layer
    channels: int      # S-space channels (= the layer's input channels)
    out_channels: int
    w_index: int       # W+ row that feeds this layer


class SynthesisLayer(nn.Module):
    """Modulated conv (Eqs. 1–3) → + noise·strength → + bias → lrelu·√2 (StyleGAN2 Fig. 2c)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 kernel_size: int = 3, up: int = 1, use_noise: bool = True,
                 activation: str = "lrelu", resample_filter=(1, 3, 3, 1),
                 conv_clamp: float | None = None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.resolution, self.up, self.use_noise = resolution, up, use_noise
        self.activation, self.conv_clamp = activation, conv_clamp
        self.register_buffer("resample_filter", setup_filter(resample_filter), persistent=False)
        self.padding = kernel_size // 2
        self.act_gain = default_gain(activation)
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)  # "A" in Fig. 2
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))  # "B" in Fig. 2

    def forward(self, x: torch.Tensor, styles: torch.Tensor, noise_mode: str = "const",
                fused: bool = True, gain: float = 1.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
        noise = None
        if self.use_noise and noise_mode == "random":
            shape = [x.shape[0], 1, self.resolution, self.resolution]
            noise = torch.randn(shape, device=x.device, generator=generator) * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                             resample_filter=self.resample_filter, flip_weight=(self.up == 1),
                             fused=fused)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias.to(x.dtype), act=self.activation, gain=self.act_gain * gain,
                        clamp=clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1×1 conv without demodulation to image channels (StyleGAN2 Fig. 7, "tRGB")."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int,
                 conv_clamp: float | None = None):
        super().__init__()
        self.in_channels, self.out_channels, self.conv_clamp = in_channels, out_channels, conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels)  # equalized lr, applied to the style

    def forward(self, x: torch.Tensor, styles: torch.Tensor, fused: bool = True) -> torch.Tensor:
        x = modulated_conv2d(x, self.weight, styles * self.weight_gain, demodulate=False, fused=fused)
        return bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution: [constant | 2× up conv] → conv → [ToRGB], wired as orig, skip or resnet."""

    compute_dtype = torch.float32  # models.precision.set_mixed_precision switches the highest blocks

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int,
                 img_channels: int, is_last: bool, architecture: str = "skip",
                 resample_filter=(1, 3, 3, 1), conv_clamp: float | None = None,
                 use_noise: bool = True, activation: str = "lrelu"):
        super().__init__()
        self.in_channels, self.resolution, self.architecture = in_channels, resolution, architecture
        self.register_buffer("resample_filter", setup_filter(resample_filter), persistent=False)
        layer = dict(w_dim=w_dim, resolution=resolution, use_noise=use_noise, activation=activation,
                     resample_filter=resample_filter, conv_clamp=conv_clamp)
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
            self.conv_up = None
        else:
            self.conv_up = SynthesisLayer(in_channels, out_channels, up=2, **layer)
        self.conv = SynthesisLayer(out_channels, out_channels, **layer)
        self.to_rgb = (ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
                       if is_last or architecture == "skip" else None)
        self.skip = None
        if in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(in_channels, out_channels, kernel_size=1, bias=False, up=2,
                                    resample_filter=resample_filter)

    def modulated_layers(self) -> list[tuple[str, nn.Module]]:
        """The layers that take a style, in synthesis order."""
        names = ["conv_up", "conv", "to_rgb"]
        return [(n, getattr(self, n)) for n in names if getattr(self, n) is not None]

    @property
    def num_conv(self) -> int:
        return 1 if self.conv_up is None else 2

    def forward(self, x, img, styles: list[torch.Tensor], noise_mode: str = "const",
                fused: bool = True, generator: torch.Generator | None = None, features: dict | None = None):
        """(features [N, C, r, r], image so far); with `features` (a dict), every layer's output is
        stored under its name ('b8.conv_up', 'b8.conv', 'b8.to_rgb') and the block's under 'b8'."""
        styles = iter(styles)
        noise = dict(noise_mode=noise_mode, fused=fused, generator=generator)
        name = f"b{self.resolution}"
        record = features.__setitem__ if features is not None else (lambda key, value: None)
        if self.conv_up is None:
            s = next(styles)
            x = self.const.to(self.compute_dtype).unsqueeze(0).repeat([s.shape[0], 1, 1, 1])
            x = self.conv(x, s, **noise)
            record(f"{name}.conv", x)
        elif self.architecture == "resnet":
            x = x.to(self.compute_dtype)
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv_up(x, next(styles), **noise)
            record(f"{name}.conv_up", x)
            x = self.conv(x, next(styles), gain=math.sqrt(0.5), **noise)
            record(f"{name}.conv", x)
            x = y + x
        else:
            x = self.conv_up(x.to(self.compute_dtype), next(styles), **noise)
            record(f"{name}.conv_up", x)
            x = self.conv(x, next(styles), **noise)
            record(f"{name}.conv", x)
        record(name, x)
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        if self.to_rgb is not None:
            y = self.to_rgb(x, next(styles), fused=fused).to(torch.float32)
            record(f"{name}.to_rgb", y)
            img = img + y if img is not None else y
        return x, img


class StyleSurface:
    """What every synthesis network shares (v2 here, v1 in synthesis_v1): blocks in order, W+ → S,
    and the checks of W+ and S inputs. Needs `block_resolutions`, `style_layers`, `num_ws`, `w_dim`."""

    def blocks(self) -> list[nn.Module]:
        return [getattr(self, f"b{r}") for r in self.block_resolutions]

    def _modules_in_style_order(self) -> list[nn.Module]:
        return [m for block in self.blocks() for _, m in block.modulated_layers()]

    def check_ws(self, ws: torch.Tensor) -> None:
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise StyleforgeError(f"ws must have shape [N, {self.num_ws}, {self.w_dim}] (W+), "
                                  f"got {list(ws.shape)}")

    def styles(self, ws: torch.Tensor) -> list[torch.Tensor]:
        """W+ → S: the affine outputs of every modulated layer, [N, C_l] each, in synthesis order.
        W+ of another float dtype (float64 from numpy, float16) is cast to the affine weights' dtype."""
        self.check_ws(ws)
        modules = self._modules_in_style_order()
        if not ws.is_floating_point():
            raise StyleforgeError(f"ws must be a floating-point tensor, got {ws.dtype}")
        ws = ws.to(modules[0].affine.weight.dtype)
        return [m.affine(ws[:, layer.w_index]) for m, layer in zip(modules, self.style_layers)]

    def check_styles(self, styles: list[torch.Tensor], noise_mode: str) -> None:
        """S as `styles` returns it, and a known noise mode — or a one-line error."""
        if noise_mode not in NOISE_MODES:
            raise StyleforgeError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        if len(styles) != len(self.style_layers):
            raise StyleforgeError(f"expected {len(self.style_layers)} style tensors, got {len(styles)}")
        for s, layer in zip(styles, self.style_layers):
            if s.ndim != 2 or s.shape[1] != layer.channels:
                raise StyleforgeError(f"style of {layer.name} must be [N, {layer.channels}], "
                                      f"got {list(s.shape)}")


class SynthesisNetwork(StyleSurface, nn.Module):
    """W+ → image. Block r has min(channel_base / r, channel_max) channels (StyleGAN2 Appendix B)."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, architecture: str = "skip",
                 channel_base: int = 32768, channel_max: int = 512, resample_filter=(1, 3, 3, 1),
                 conv_clamp: float | None = None, use_noise: bool = True, activation: str = "lrelu"):
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.block_resolutions = [2 ** i for i in range(2, int(math.log2(img_resolution)) + 1)]
        channels = {r: block_channels(r, channel_base, channel_max) for r in self.block_resolutions}
        for r in self.block_resolutions:
            block = SynthesisBlock(channels[r // 2] if r > 4 else 0, channels[r], w_dim, r,
                                   img_channels, is_last=(r == img_resolution),
                                   architecture=architecture, resample_filter=resample_filter,
                                   conv_clamp=conv_clamp, use_noise=use_noise, activation=activation)
            setattr(self, f"b{r}", block)
        self.style_layers = self._index_style_layers()
        self.num_ws = max(layer.w_index for layer in self.style_layers) + 1

    def _index_style_layers(self) -> list[StyleLayer]:
        """Each conv takes the next W+ row; a ToRGB shares its row with the next block's first conv."""
        layers, w_index = [], 0
        for block in self.blocks():
            for name, module in block.modulated_layers():  # convs first, then ToRGB
                kind = "to_rgb" if name == "to_rgb" else "conv"
                layers.append(StyleLayer(f"b{block.resolution}.{name}", kind, block.resolution,
                                         module.in_channels, module.out_channels, w_index))
                if kind == "conv":
                    w_index += 1
        return layers

    def from_styles(self, styles: list[torch.Tensor], noise_mode: str = "const",
                    fused_modconv: bool | None = None, generator: torch.Generator | None = None,
                    features: dict | None = None) -> torch.Tensor:
        """S → image [N, img_channels, R, R]. Given a dict as `features`, it is filled with every
        layer's and block's output feature map (see SynthesisBlock.forward) — no hooks needed."""
        self.check_styles(styles, noise_mode)
        if fused_modconv is None:  # the reference fuses in eval; on CPU the unfused path is faster
            fused_modconv = not self.training and styles[0].device.type != "cpu"
        x = img = None
        position = 0
        for block in self.blocks():
            count = len(block.modulated_layers())
            x, img = block(x, img, styles[position:position + count], noise_mode=noise_mode,
                           fused=fused_modconv, generator=generator, features=features)
            position += count
        return img

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", fused_modconv: bool | None = None,
                generator: torch.Generator | None = None, features: dict | None = None) -> torch.Tensor:
        """W+ [N, num_ws, w_dim] → image [N, C, R, R] (roughly in [-1, 1]); `features` as in from_styles."""
        return self.from_styles(self.styles(ws), noise_mode=noise_mode, fused_modconv=fused_modconv,
                                generator=generator, features=features)
