"""StyleGAN3 alias-free synthesis (Karras et al. 2021, "Alias-Free Generative Adversarial Networks"):
a Fourier-feature input turned and shifted by an affine of w (Sec. 3.2, App. F), modulated
convolutions (3×3 in config T, 1×1 in config R) with the input normalized by a running magnitude,
and the filtered leaky ReLU (Sec. 3.2, App. C): upsample to a higher rate, bias + leaky ReLU + clamp,
low-pass and decimate, with per-layer Kaiser windowed-sinc filters (radial jinc filters for R) whose
cutoffs grow geometrically towards the last, critically sampled layers. Plain PyTorch (no custom ops);
the reference's custom CUDA kernel computes the same as this sequence of operations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.signal
import scipy.special
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import StyleforgeError
from ..names import NOISE_MODES
from ..nn.bias_act import bias_act
from ..nn.equalized import FullyConnectedLayer
from ..nn.fir import upfirdn2d
from .synthesis import StyleLayer, StyleSurface

# The synthesis settings of the alias-free generator and the values StyleGAN3 uses when a file or a
# config does not give them (its SynthesisNetwork / SynthesisLayer defaults).
ALIAS_FREE_DEFAULTS = {
    "conv_kernel": 3,               # 3 = config T, 1 = config R
    "use_radial_filters": False,    # True in config R
    "num_layers": 14,               # layers between the Fourier input and ToRGB
    "num_critical": 2,              # critically sampled layers at the end
    "first_cutoff": 2.0,            # f_c of the first layer
    "first_stopband": 2 ** 2.1,     # f_t of the first layer
    "last_stopband_rel": 2 ** 0.3,  # f_t of the last layer relative to its cutoff
    "margin_size": 10,              # pixels computed outside the image on each side
    "output_scale": 0.25,
    "filter_size": 6,               # low-pass taps per unit of the lower sampling rate
    "lrelu_upsampling": 2,          # the leaky ReLU runs at twice the higher of the two rates
    "magnitude_ema_beta": 0.999,
}


@dataclass(frozen=True)
class LayerPlan:
    """One layer's rates and sizes (App. C): input → output sampling rate, cutoff f_c, half width f_h."""

    index: int
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    in_rate: int
    out_rate: int
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float
    is_torgb: bool
    is_critical: bool

    @property
    def name(self) -> str:  # the reference's module name, kept so files map one to one
        return f"L{self.index}_{self.out_size}_{self.out_channels}"


def layer_plan(img_resolution: int, img_channels: int, channel_base: int, channel_max: int,
               settings: dict) -> tuple[dict, list[LayerPlan]]:
    """(Fourier input spec, layer plans). Cutoffs and minimum stopbands grow geometrically from the
    first layer's to the image's Nyquist rate over the non-critical layers and then stay; each layer
    samples at the smallest power of two ≥ twice its stopband (at most the image resolution); the
    transition half width is what the rate leaves above the cutoff; every layer but the last two
    carries a margin on each side; channels follow the cutoff (App. C / Table 4 of the paper)."""
    n, critical = settings["num_layers"], settings["num_critical"]
    last_cutoff = img_resolution / 2
    last_stopband = last_cutoff * settings["last_stopband_rel"]
    exponents = np.minimum(np.arange(n + 1) / (n - critical), 1)
    cutoffs = settings["first_cutoff"] * (last_cutoff / settings["first_cutoff"]) ** exponents
    stopbands = settings["first_stopband"] * (last_stopband / settings["first_stopband"]) ** exponents
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + settings["margin_size"] * 2
    sizes[-2:] = img_resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = img_channels
    plans = []
    for i in range(n + 1):
        p = max(i - 1, 0)
        plans.append(LayerPlan(i, int(channels[p]), int(channels[i]), int(sizes[p]), int(sizes[i]), int(rates[p]),
                               int(rates[i]), float(cutoffs[p]), float(cutoffs[i]), float(half_widths[p]),
                               float(half_widths[i]), i == n, i >= n - critical))
    first = {"channels": int(channels[0]), "size": int(sizes[0]), "sampling_rate": float(rates[0]),
             "bandwidth": float(cutoffs[0])}
    return first, plans


def lowpass_filter(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False):
    """A Kaiser-windowed low-pass filter: separable 1-D taps, or 2-D radially symmetric (jinc × Kaiser,
    config R); None for one tap (identity)."""
    if numtaps == 1:
        return None
    if not radial:
        return torch.as_tensor(scipy.signal.firwin(numtaps=numtaps, cutoff=cutoff, width=width, fs=fs),
                               dtype=torch.float32)
    grid = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    radius = np.hypot(*np.meshgrid(grid, grid))
    taps = scipy.special.j1(2 * cutoff * (np.pi * radius)) / (np.pi * radius)  # jinc: the disc's response
    window = np.kaiser(numtaps, scipy.signal.kaiser_beta(scipy.signal.kaiser_atten(numtaps, width / (fs / 2))))
    taps = taps * np.outer(window, window)
    return torch.as_tensor(taps / taps.sum(), dtype=torch.float32)


def filtered_lrelu(x: torch.Tensor, up_filter, down_filter, bias: torch.Tensor, up: int, down: int,
                   padding: list, gain: float, linear: bool, clamp: float | None) -> torch.Tensor:
    """bias → upsample by `up` (zero insertion, pad, up_filter with gain up²) → leaky ReLU (0.2; none for
    ToRGB) · gain, clamp → down_filter and keep every `down`-th pixel (Sec. 3.2: the nonlinearity at a
    higher sampling rate)."""
    x = bias_act(x, bias)
    x = upfirdn2d(x, up_filter, up=up, padding=padding, gain=up ** 2)
    x = bias_act(x, act="linear" if linear else "lrelu", gain=gain, clamp=clamp)
    return upfirdn2d(x, down_filter, down=down)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool,
                     padding: int, input_gain: torch.Tensor) -> torch.Tensor:
    """StyleGAN3's modulated convolution: weights and styles pre-normalized (their RMS, the styles' over
    the batch) before modulation and demodulation (ε 1e-8); the input scaled by `input_gain`. One grouped
    conv with per-sample weights. x: [N, I, H, W]; weight: [O, I, k, k]; styles: [N, I]."""
    batch, _, height, width = x.shape
    out_channels, in_channels, kh, kw = weight.shape
    if demodulate:
        weight = weight * weight.square().mean([1, 2, 3], keepdim=True).rsqrt()
        styles = styles * styles.square().mean().rsqrt()
    w = weight.unsqueeze(0) * styles.reshape(batch, 1, in_channels, 1, 1)             # [N, O, I, k, k]
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt().reshape(batch, out_channels, 1, 1, 1)
    w = w * input_gain.expand(batch, in_channels).reshape(batch, 1, in_channels, 1, 1)
    x = F.conv2d(x.reshape(1, -1, height, width), w.reshape(-1, in_channels, kh, kw).to(x.dtype),
                 padding=padding, groups=batch)
    return x.reshape(batch, out_channels, *x.shape[2:])


class FourierInput(nn.Module):
    """Fourier features at fixed random frequencies in a disc of radius `bandwidth`, rotated and shifted
    by (r_c, r_s, t_x, t_y) = affine(w) (normalized so r is a unit rotation) and by the user's
    `transform` (the inverse of the image-space transform), then mixed by a learned matrix (Sec. 3.2)."""

    def __init__(self, w_dim: int, channels: int, size: int, sampling_rate: float, bandwidth: float):
        super().__init__()
        self.w_dim, self.channels, self.size = w_dim, channels, size
        self.sampling_rate, self.bandwidth = sampling_rate, bandwidth
        freqs = torch.randn([channels, 2])
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth
        self.weight = nn.Parameter(torch.randn([channels, channels]))
        self.affine = FullyConnectedLayer(w_dim, 4)
        with torch.no_grad():  # the identity transform until trained
            self.affine.weight.zero_()
            self.affine.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0]))
        self.register_buffer("transform", torch.eye(3, 3))
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", torch.rand([channels]) - 0.5)
        self.resolution = size

    def modulated_layers(self) -> list:
        return [("input", self)]

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """t = affine(w) [N, 4] → features [N, C, size, size]."""
        batch, device = t.shape[0], t.device
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        rotation = torch.eye(3, device=device).repeat(batch, 1, 1)
        rotation[:, 0, 0], rotation[:, 0, 1], rotation[:, 1, 0], rotation[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        translation = torch.eye(3, device=device).repeat(batch, 1, 1)
        translation[:, 0, 2], translation[:, 1, 2] = -t[:, 2], -t[:, 3]
        transforms = rotation @ translation @ self.transform.unsqueeze(0)
        phases = self.phases.unsqueeze(0) + (self.freqs.unsqueeze(0) @ transforms[:, :2, 2:]).squeeze(2)
        freqs = self.freqs.unsqueeze(0) @ transforms[:, :2, :2]                            # [N, C, 2]
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)
        theta = torch.eye(2, 3, device=device)
        theta[0, 0] = theta[1, 1] = 0.5 * self.size / self.sampling_rate
        grid = F.affine_grid(theta.unsqueeze(0), [1, 1, self.size, self.size], align_corners=False)
        x = (grid.unsqueeze(3) @ freqs.permute(0, 2, 1).unsqueeze(1).unsqueeze(2)).squeeze(3)  # [N, H, W, C]
        x = torch.sin((x + phases.unsqueeze(1).unsqueeze(2)) * (2 * math.pi)) * amplitudes.unsqueeze(1).unsqueeze(2)
        x = x @ (self.weight / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)


class AliasFreeLayer(nn.Module):
    """Modulated conv → filtered leaky ReLU (or, for ToRGB, a 1×1 modulated conv without demodulation
    → bias and clamp), as the layer plan says."""

    def __init__(self, plan: LayerPlan, w_dim: int, settings: dict, conv_clamp: float | None):
        super().__init__()
        self.plan, self.conv_clamp = plan, conv_clamp
        self.is_torgb, self.in_channels, self.out_channels = plan.is_torgb, plan.in_channels, plan.out_channels
        self.resolution = plan.out_rate
        self.conv_kernel = 1 if plan.is_torgb else settings["conv_kernel"]
        rate = max(plan.in_rate, plan.out_rate) * (1 if plan.is_torgb else settings["lrelu_upsampling"])
        self.up_factor, self.down_factor = rate // plan.in_rate, rate // plan.out_rate
        if plan.in_rate * self.up_factor != rate or plan.out_rate * self.down_factor != rate:
            raise StyleforgeError(f"layer {plan.name}: sampling rates {plan.in_rate} → {plan.out_rate} are not "
                                  "integer factors of each other")
        up_taps = settings["filter_size"] * self.up_factor if self.up_factor > 1 and not plan.is_torgb else 1
        down_taps = settings["filter_size"] * self.down_factor if self.down_factor > 1 and not plan.is_torgb else 1
        radial = settings["use_radial_filters"] and not plan.is_critical
        self.affine = FullyConnectedLayer(w_dim, plan.in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([plan.out_channels, plan.in_channels, self.conv_kernel, self.conv_kernel]))
        self.bias = nn.Parameter(torch.zeros([plan.out_channels]))
        self.register_buffer("magnitude_ema", torch.ones([]))
        self.register_buffer("up_filter", lowpass_filter(up_taps, plan.in_cutoff, plan.in_half_width * 2, rate))
        self.register_buffer("down_filter", lowpass_filter(down_taps, plan.out_cutoff, plan.out_half_width * 2, rate,
                                                           radial))
        # Padding that maps the output grid onto the input's (the symmetric interpretation, App. C.3).
        total = (plan.out_size - 1) * self.down_factor + 1 - (plan.in_size + self.conv_kernel - 1) * self.up_factor
        total += up_taps + down_taps - 2
        low = (total + self.up_factor) // 2
        self.padding = [low, total - low, low, total - low]

    def modulated_layers(self) -> list:
        return [("to_rgb" if self.is_torgb else "conv", self)]

    def forward(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        if self.is_torgb:
            styles = styles / math.sqrt(self.in_channels * self.conv_kernel ** 2)
        x = modulated_conv2d(x, self.weight, styles, demodulate=not self.is_torgb, padding=self.conv_kernel - 1,
                             input_gain=self.magnitude_ema.rsqrt())
        return filtered_lrelu(x, self.up_filter, self.down_filter, self.bias.to(x.dtype), self.up_factor,
                              self.down_factor, self.padding, gain=1 if self.is_torgb else math.sqrt(2),
                              linear=self.is_torgb, clamp=self.conv_clamp)


class AliasFreeSynthesis(StyleSurface, nn.Module):
    """W+ [N, num_layers + 2, w_dim] → image: row 0 drives the Fourier input's transform, row i + 1 layer
    i. S holds the input's transform parameters (4) and each layer's styles."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, conv_clamp: float | None = 256, settings: dict | None = None):
        super().__init__()
        settings = {**ALIAS_FREE_DEFAULTS, **(settings or {})}
        unknown = sorted(set(settings) - set(ALIAS_FREE_DEFAULTS))
        if unknown:
            raise StyleforgeError(f"unknown alias-free synthesis setting(s): {', '.join(unknown)}")
        self.settings = settings
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.output_scale = settings["output_scale"]
        first, plans = layer_plan(img_resolution, img_channels, channel_base, channel_max, settings)
        self.input = FourierInput(w_dim, **first)
        self.layer_names = [plan.name for plan in plans]
        for plan in plans:
            setattr(self, plan.name, AliasFreeLayer(plan, w_dim, settings, conv_clamp))
        self.num_ws = len(plans) + 1
        self.style_layers = [StyleLayer("input", "input", first["size"], 4, first["channels"], 0)] + [
            StyleLayer(p.name, "to_rgb" if p.is_torgb else "conv", p.out_rate, p.in_channels, p.out_channels, p.index + 1)
            for p in plans]

    def blocks(self) -> list[nn.Module]:
        return [self.input] + [getattr(self, name) for name in self.layer_names]

    def set_transform(self, translate: tuple[float, float] = (0.0, 0.0), rotate: float = 0.0) -> None:
        """Translate (in units of the image: 1 = its width) and rotate (degrees) the generated image, as
        stylegan3's gen_images.py does: the input's transform is the inverse of that image transform."""
        angle = math.radians(rotate)
        image = torch.tensor([[math.cos(angle), math.sin(angle), translate[0]],
                              [-math.sin(angle), math.cos(angle), translate[1]],
                              [0.0, 0.0, 1.0]], dtype=torch.float64)
        self.input.transform.copy_(torch.linalg.inv(image).to(self.input.transform))

    def from_styles(self, styles: list[torch.Tensor], noise_mode: str = "const",
                    fused_modconv: bool | None = None, generator: torch.Generator | None = None,
                    features: dict | None = None) -> torch.Tensor:
        """S → image [N, C, R, R]. There is no per-pixel noise in this generator: `noise_mode` is checked
        and has no effect. `features`, when a dict, gets each layer's output (with its margin), named
        'b<sampling rate>.L<i>.conv' ('…to_rgb' for the last, 'b<rate>.input' for the Fourier features)."""
        if noise_mode not in NOISE_MODES:
            raise StyleforgeError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        if len(styles) != len(self.style_layers):
            raise StyleforgeError(f"expected {len(self.style_layers)} style tensors, got {len(styles)}")
        styles = [s.to(torch.float32) for s in styles]
        x = self.input(styles[0])
        if features is not None:  # named by sampling rate like the other families' blocks ('b16.L3.conv')
            features[f"b{int(self.input.sampling_rate)}.input"] = x
        for name, s in zip(self.layer_names, styles[1:]):
            layer = getattr(self, name)
            x = layer(x, s)
            if features is not None:
                features[f"b{layer.resolution}.{name.split('_')[0]}.{'to_rgb' if layer.is_torgb else 'conv'}"] = x
        return x * self.output_scale if self.output_scale != 1 else x

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", fused_modconv: bool | None = None,
                generator: torch.Generator | None = None, features: dict | None = None) -> torch.Tensor:
        """W+ [N, num_ws, w_dim] → image [N, C, R, R]."""
        return self.from_styles(self.styles(ws), noise_mode=noise_mode, features=features)
