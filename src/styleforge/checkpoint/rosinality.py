"""rosinality/stylegan2-pytorch checkpoints (`.pt`: `g`, `d`, `g_ema`, `latent_avg`, `args`, ...).

The conversion to our networks, layer by layer (each verified on the recorded fixture):
- `style.{k+1}` (k = 0..7; index 0 is PixelNorm) → `mapping.layers.{k}`: same equalized-lr storage
  (weight randn/lr_mul, scaled by lr_mul/√in at run time; bias × lr_mul), same fused lrelu.
- `input.input [1, C, 4, 4]` → `synthesis.b4.const [C, 4, 4]` (drop the broadcast axis).
- StyledConv `conv1` → `b4.conv`; `convs.{2k}` → `b{R}.conv_up`, `convs.{2k+1}` → `b{R}.conv`
  with R = 2^(k+3): `conv.weight [1, O, I, k, k]` → `weight [O, I, k, k]` (drop the batch axis; its
  1/√fan_in scale cancels in demodulation up to where ε sits, ≤ 1.4e-6), `conv.modulation` →
  `affine`, `noise.weight [1]` → `noise_strength []`, `activate.bias` → `bias`. The upsampling conv is
  a transposed conv (in/out swapped, not flipped) + blur with kernel ×4 in both codebases, so its
  weight copies unchanged.
- ToRGB `to_rgb1` → `b4.to_rgb`, `to_rgbs.k` → `b{R}.to_rgb`: rosinality multiplies 1/√in into the
  *weight* with the style, we multiply it into the style; the product is the same, so the weight
  copies unchanged (S values, taken before that gain, agree too); `bias [1, 3, 1, 1]` → `[3]`.
- `noises.noise_0` → `b4.conv.noise_const`; `noise_{2k+1}` → `b{R}.conv_up.noise_const`;
  `noise_{2k+2}` → `b{R}.conv.noise_const`, dropping the [1, 1] axes.
- `latent_avg` (TF-converted files only) → `mapping.w_avg`; otherwise w_avg is estimated as the
  mean of w over 4096 fixed-seed z (rosinality's `mean_latent`).
- D: `convs.0` (1×1 conv + FusedLeakyReLU bias) → `b{size}.from_rgb`; `convs.j.conv1` → `b{R}.conv`,
  `convs.j.conv2` → `b{R}.conv_down`, `convs.j.skip` → `b{R}.skip` with R = size / 2^(j−1);
  `final_conv` → `epilogue.conv`, `final_linear.0/1` → `epilogue.fc/out`. Each conv's bias sits in
  the FusedLeakyReLU one Sequential index later.
- Blur / upsample kernels are buffers in rosinality and derived from the config here; the importer
  checks that they are the [1, 3, 3, 1] filter.
Channel widths are read from the tensor shapes, never from rosinality's table.
"""

from __future__ import annotations

import math
import re

import torch

from ..config import DiscriminatorConfig, GeneratorConfig
from ..errors import StyleforgeError
from ..models import Discriminator, Generator
from ..state_dict import load_state_strict

W_AVG_SAMPLES = 4096


def _fir_kernel(gain: float) -> torch.Tensor:
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = torch.outer(f, f)
    return k / k.sum() * gain


def _channel_layout(channels: dict[int, int]) -> tuple[int, int]:
    """(channel_base, channel_max) with min(base // r, max) == channels[r] for every r."""
    channel_max = max(channels.values())
    narrower = [c * r for r, c in channels.items() if c < channel_max]
    channel_base = min(narrower) if narrower else channel_max * max(channels)
    if any(min(channel_base // r, channel_max) != c for r, c in channels.items()):
        raise StyleforgeError(f"channel widths {channels} do not follow min(base / r, max); "
                              "this layout is not supported")
    return channel_base, channel_max


# ------------------------------------------------------------------------------------------ G

def _generator_config(state: dict) -> GeneratorConfig:
    mapping_layers = len([k for k in state if re.fullmatch(r"style\.\d+\.weight", k)])
    if mapping_layers == 0 or "input.input" not in state or "conv1.conv.weight" not in state:
        raise StyleforgeError("not a rosinality generator state dict (no style.*, input.input, conv1)")
    w_dim = state["style.1.weight"].shape[1]
    num_up = len([k for k in state if re.fullmatch(r"to_rgbs\.\d+\.conv\.weight", k)])
    resolution = 4 * 2 ** num_up
    channels = {4: state["conv1.conv.weight"].shape[1]}
    for k in range(num_up):
        channels[8 * 2 ** k] = state[f"convs.{2 * k}.conv.weight"].shape[1]
    channel_base, channel_max = _channel_layout(channels)
    return GeneratorConfig(z_dim=w_dim, w_dim=w_dim, img_resolution=resolution,
                           img_channels=state["to_rgb1.conv.weight"].shape[1],
                           mapping_layers=mapping_layers, channel_base=channel_base,
                           channel_max=channel_max, architecture="skip").validate()


def _styled_conv(state: dict, src: str, dst: str, noise: str) -> dict:
    out = {
        f"{dst}.weight": state[f"{src}.conv.weight"][0],
        f"{dst}.affine.weight": state[f"{src}.conv.modulation.weight"],
        f"{dst}.affine.bias": state[f"{src}.conv.modulation.bias"],
        f"{dst}.noise_strength": state[f"{src}.noise.weight"].reshape([]),
        f"{dst}.bias": state[f"{src}.activate.bias"],
    }
    if noise in state:
        out[f"{dst}.noise_const"] = state[noise][0, 0]
    return out


def _to_rgb(state: dict, src: str, dst: str) -> dict:
    return {
        f"{dst}.weight": state[f"{src}.conv.weight"][0],
        f"{dst}.affine.weight": state[f"{src}.conv.modulation.weight"],
        f"{dst}.affine.bias": state[f"{src}.conv.modulation.bias"],
        f"{dst}.bias": state[f"{src}.bias"].reshape(-1),
    }


def _check_kernels(state: dict) -> None:
    for key, value in state.items():
        if key.endswith(".kernel"):
            gain = 4.0 if (".upsample." in key or re.match(r"convs\.\d+\.conv\.blur", key)) else 1.0
            if value.shape != (4, 4) or not torch.allclose(value.float(), _fir_kernel(gain), atol=1e-6):
                raise StyleforgeError(f"{key} is not the [1, 3, 3, 1] filter; other blur kernels "
                                      "are not supported")


def generator_from_rosinality(state: dict, latent_avg: torch.Tensor | None = None):
    """Our Generator from a rosinality `g` / `g_ema` state dict (+ `latent_avg` if the file has one)."""
    state = {k: torch.as_tensor(v).float() for k, v in state.items()}
    _check_kernels(state)
    config = _generator_config(state)
    ours = {f"mapping.layers.{k}.{p}": state[f"style.{k + 1}.{p}"]
            for k in range(config.mapping_layers) for p in ("weight", "bias")}
    ours["synthesis.b4.const"] = state["input.input"][0]
    ours.update(_styled_conv(state, "conv1", "synthesis.b4.conv", "noises.noise_0"))
    ours.update(_to_rgb(state, "to_rgb1", "synthesis.b4.to_rgb"))
    for k in range(int(math.log2(config.img_resolution)) - 2):
        r = 8 * 2 ** k
        ours.update(_styled_conv(state, f"convs.{2 * k}", f"synthesis.b{r}.conv_up", f"noises.noise_{2 * k + 1}"))
        ours.update(_styled_conv(state, f"convs.{2 * k + 1}", f"synthesis.b{r}.conv", f"noises.noise_{2 * k + 2}"))
        ours.update(_to_rgb(state, f"to_rgbs.{k}", f"synthesis.b{r}.to_rgb"))
    G = Generator(config)
    ours["mapping.w_avg"] = torch.zeros(config.w_dim)  # set below, once the mapping weights are in
    for key, value in G.state_dict().items():  # files without noise buffers keep fresh ones
        if key.endswith("noise_const"):
            ours.setdefault(key, value)
    unused = sorted(k for k in state if not k.endswith(".kernel") and not _used(k))
    if unused:
        raise StyleforgeError(f"unexpected rosinality generator keys: {', '.join(unused[:5])}")
    load_state_strict(G, ours, "rosinality generator")
    with torch.no_grad():
        if latent_avg is not None:
            G.mapping.w_avg.copy_(torch.as_tensor(latent_avg).float().reshape(-1))
        else:
            G.mapping.w_avg.copy_(estimate_w_avg(G))
    return G.eval()


def _used(key: str) -> bool:
    return bool(re.match(r"(style\.\d+|input\.input|conv1|to_rgb1|convs\.\d+|to_rgbs\.\d+|noises\.noise_\d+)",
                         key))


@torch.no_grad()
def estimate_w_avg(G, samples: int = W_AVG_SAMPLES, seed: int = 0) -> torch.Tensor:
    """Mean of w over `samples` z from a fixed seed (what rosinality's `mean_latent` computes)."""
    z = torch.randn([samples, G.z_dim], generator=torch.Generator().manual_seed(seed))
    return G.mapping(z)[:, 0].mean(0)


def generator_to_rosinality(G, drop_clamp: bool = False) -> dict:
    """A rosinality `g_ema` state dict for our generator (skip architecture, z_dim == w_dim).

    rosinality has no conv_clamp; with drop_clamp=True a clamped model (the reference trains with
    conv_clamp=256 as fp16 overflow protection) is exported anyway, and its images differ only
    where an activation would exceed the clamp."""
    c = G.config
    if c.family != "stylegan2":
        raise StyleforgeError("rosinality checkpoints hold StyleGAN2 generators; a StyleGAN v1 model stays in "
                              "styleforge's own format")
    if (c.architecture != "skip" or c.z_dim != c.w_dim or c.c_dim != 0
            or tuple(c.resample_filter) != (1, 3, 3, 1) or not c.use_noise or c.activation != "lrelu"
            or c.mapping_lr_multiplier != 0.01 or c.layer_features not in (None, c.w_dim)):
        raise StyleforgeError("rosinality's generator can only hold unconditional 'skip' models with "
                              "z_dim = w_dim, lrelu, [1,3,3,1] filters and noise")
    if c.conv_clamp is not None and not drop_clamp:
        raise StyleforgeError(f"this model clamps conv outputs at {c.conv_clamp} and rosinality's "
                              "format has no clamp; export with drop_clamp=True to drop it")
    s = {k: v.detach().cpu() for k, v in G.state_dict().items()}
    out = {}
    for k in range(c.mapping_layers):
        out[f"style.{k + 1}.weight"] = s[f"mapping.layers.{k}.weight"]
        out[f"style.{k + 1}.bias"] = s[f"mapping.layers.{k}.bias"]
    out["input.input"] = s["synthesis.b4.const"][None]

    def styled(dst: str, src: str, noise: str, blur: bool):
        out[f"{dst}.conv.weight"] = s[f"{src}.weight"][None]
        out[f"{dst}.conv.modulation.weight"] = s[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = s[f"{src}.affine.bias"]
        out[f"{dst}.noise.weight"] = s[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = s[f"{src}.bias"]
        out[noise] = s[f"{src}.noise_const"][None, None]
        if blur:
            out[f"{dst}.conv.blur.kernel"] = _fir_kernel(4.0)

    def to_rgb(dst: str, src: str, upsample: bool):
        out[f"{dst}.conv.weight"] = s[f"{src}.weight"][None]
        out[f"{dst}.conv.modulation.weight"] = s[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = s[f"{src}.affine.bias"]
        out[f"{dst}.bias"] = s[f"{src}.bias"].reshape(1, -1, 1, 1)
        if upsample:
            out[f"{dst}.upsample.kernel"] = _fir_kernel(4.0)

    styled("conv1", "synthesis.b4.conv", "noises.noise_0", blur=False)
    to_rgb("to_rgb1", "synthesis.b4.to_rgb", upsample=False)
    for k in range(int(math.log2(c.img_resolution)) - 2):
        r = 8 * 2 ** k
        styled(f"convs.{2 * k}", f"synthesis.b{r}.conv_up", f"noises.noise_{2 * k + 1}", blur=True)
        styled(f"convs.{2 * k + 1}", f"synthesis.b{r}.conv", f"noises.noise_{2 * k + 2}", blur=False)
        to_rgb(f"to_rgbs.{k}", f"synthesis.b{r}.to_rgb", upsample=True)
    return {k: v.contiguous() for k, v in out.items()}


# ------------------------------------------------------------------------------------------ D

def _d_pairs(size: int, num_blocks: int) -> list[tuple[str, str]]:
    """(rosinality prefix, our prefix) for every D layer; biases handled by the caller."""
    pairs = [("convs.0.0", f"b{size}.from_rgb.weight"), ("convs.0.1", f"b{size}.from_rgb.bias")]
    for j in range(1, num_blocks + 1):
        r = size // 2 ** (j - 1)
        pairs += [(f"convs.{j}.conv1.0", f"b{r}.conv.weight"), (f"convs.{j}.conv1.1", f"b{r}.conv.bias"),
                  (f"convs.{j}.conv2.1", f"b{r}.conv_down.weight"),
                  (f"convs.{j}.conv2.2", f"b{r}.conv_down.bias"),
                  (f"convs.{j}.skip.1", f"b{r}.skip.weight")]
    pairs += [("final_conv.0", "epilogue.conv.weight"), ("final_conv.1", "epilogue.conv.bias"),
              ("final_linear.0", "epilogue.fc.weight"), ("final_linear.0", "epilogue.fc.bias"),
              ("final_linear.1", "epilogue.out.weight"), ("final_linear.1", "epilogue.out.bias")]
    return pairs


def _key(prefix: str, ours: str) -> str:
    return f"{prefix}.{ours.rsplit('.', 1)[1]}"


def discriminator_from_rosinality(state: dict):
    """Our Discriminator (resnet, mbstd group 4) from a rosinality `d` state dict."""
    state = {k: torch.as_tensor(v).float() for k, v in state.items()}
    if "convs.0.0.weight" not in state or "final_linear.1.weight" not in state:
        raise StyleforgeError("not a rosinality discriminator state dict (no convs.0, final_linear)")
    _check_kernels(state)
    num_blocks = len([k for k in state if re.fullmatch(r"convs\.\d+\.conv1\.0\.weight", k)])
    size = 4 * 2 ** num_blocks
    channels = {size: state["convs.0.0.weight"].shape[0], 4: state["final_conv.0.weight"].shape[0]}
    for j in range(1, num_blocks + 1):
        channels[size // 2 ** (j - 1)] = state[f"convs.{j}.conv1.0.weight"].shape[0]
    channel_base, channel_max = _channel_layout(channels)
    config = DiscriminatorConfig(img_resolution=size, img_channels=state["convs.0.0.weight"].shape[1],
                                 channel_base=channel_base, channel_max=channel_max,
                                 architecture="resnet", mbstd_group_size=4).validate()
    pairs = _d_pairs(size, num_blocks)
    ours = {dst: state[_key(src, dst)] for src, dst in pairs}
    used = {_key(src, dst) for src, dst in pairs}
    unused = sorted(k for k in state if k not in used and not k.endswith(".kernel"))
    if unused:
        raise StyleforgeError(f"unexpected rosinality discriminator keys: {', '.join(unused[:5])}")
    D = Discriminator(config)
    load_state_strict(D, ours, "rosinality discriminator")
    return D.eval()


def discriminator_to_rosinality(D, drop_clamp: bool = False) -> dict:
    """A rosinality `d` state dict for our discriminator (resnet, unconditional, mbstd 4×1)."""
    c = D.config
    if (c.architecture != "resnet" or c.c_dim != 0 or c.mbstd_group_size != 4 or c.mbstd_num_channels != 1
            or tuple(c.resample_filter) != (1, 3, 3, 1) or c.activation != "lrelu"):
        raise StyleforgeError("rosinality's discriminator can only hold unconditional 'resnet' models "
                              "with minibatch-stddev group 4, lrelu and [1,3,3,1] filters")
    if c.conv_clamp is not None and not drop_clamp:
        raise StyleforgeError(f"this discriminator clamps conv outputs at {c.conv_clamp} and "
                              "rosinality's format has no clamp; export with drop_clamp=True to drop it")
    s = {k: v.detach().cpu() for k, v in D.state_dict().items()}
    num_blocks = len(D.block_resolutions)
    out = {_key(src, dst): s[dst] for src, dst in _d_pairs(D.img_resolution, num_blocks)}
    for j in range(1, num_blocks + 1):
        out[f"convs.{j}.conv2.0.kernel"] = _fir_kernel(1.0)
        out[f"convs.{j}.skip.0.kernel"] = _fir_kernel(1.0)
    return {k: v.contiguous() for k, v in out.items()}


# ------------------------------------------------------------------------------------ files

def rosinality_args(G) -> dict:
    """The `args` a rosinality training script would have stored for this generator, as a plain dict
    (their script stores an argparse.Namespace, which torch.load refuses by default since torch 2.6)."""
    c = G.config
    multiplier = c.channels_at(64) / 256 if c.img_resolution >= 64 else None
    return dict(size=c.img_resolution, latent=c.w_dim, n_mlp=c.mapping_layers,
                channel_multiplier=int(multiplier) if multiplier and multiplier.is_integer() else 2)
