"""TensorFlow StyleGAN (v1) generators (NVlabs/stylegan `training/networks_stylegan.py`: `G_style` with
its `G_mapping` / `G_synthesis` components, network pickle version 3; `karras2019stylegan-*.pkl`) →
our `stylegan1` family, with no TensorFlow and nothing executed.

The v1 graph folds the activation gain √2 into each layer's weight scale and applies leaky ReLU
without a gain; ours scales weights by 1/√fan_in and multiplies the activation by √2. Since leaky ReLU
is positively homogeneous, dividing the mapping biases, and each synthesis layer's bias and noise
strength, by √2 gives our layers exactly the v1 activations (the 4×4 constant's layer has no conv, so
its constant is divided too, which keeps even its pre-normalization feature map exact). At ≥ 128 px
(`fused_scale`) the up-convolution is a transposed convolution with the 3×3 kernel's four shifted
copies summed: that equals nearest upsampling and a 3×3 convolution with the kernel flipped. Only the
fully grown network is read (`lod` 0; the `ToRGB_lod1..` layers of progressive growing are dropped).
The truncation the file was released with (ψ and cutoff of `G_style`, 0.7 and 8 by default) is
recorded as the model's defaults."""

from __future__ import annotations

import math
import re

import numpy as np
import torch

from ..config import GeneratorConfig
from ..errors import StyleforgeError
from ..models import build_from_config
from ..state_dict import load_state_strict
from .safe_pickle import TFNetworkRecord, plain

_SQRT2 = math.sqrt(2)
# G_style / G_synthesis / G_mapping settings whose v1 value is the only one this reader covers.
_REQUIRED = {"use_styles": True, "const_input_layer": True, "use_pixel_norm": False, "use_instance_norm": True,
             "use_wscale": True, "normalize_latents": True, "fmap_decay": 1.0, "nonlinearity": "lrelu",
             "mapping_nonlinearity": "lrelu", "blur_filter": [1, 2, 1], "label_size": 0, "dtype": "float32"}
_IGNORED = {"truncation_psi", "truncation_cutoff", "truncation_psi_val", "truncation_cutoff_val",
            "dlatent_avg_beta", "style_mixing_prob", "structure", "randomize_noise", "is_template_graph",
            "force_clean_graph", "is_training", "is_validation", "fused_scale", "latent_size", "dlatent_size",
            "num_channels", "resolution", "fmap_base", "fmap_max", "mapping_layers", "mapping_fmaps",
            "mapping_lrmul", "use_noise", "dlatent_broadcast"}


def is_stylegan1(variables: dict) -> bool:
    return any("StyleMod" in name or name.endswith("Noise/weight") for name in variables)


def _settings(network: TFNetworkRecord, key: str) -> dict:
    """G_style's static kwargs (they are passed on to its components), checked against what v1 means."""
    kwargs = {k: plain(v) for k, v in network.static_kwargs.items()}
    for name, value in kwargs.items():
        if name in _REQUIRED:
            wanted = _REQUIRED[name]
            same = (list(value) == wanted) if isinstance(wanted, list) and value is not None else value == wanted
            if not same:
                raise StyleforgeError(f"network {key!r}: StyleGAN v1 setting {name}={value!r} has no counterpart here "
                                      f"(it reads {name}={wanted!r})")
        elif name not in _IGNORED:
            raise StyleforgeError(f"network {key!r}: StyleGAN v1 setting {name!r} has no counterpart here")
    return kwargs


def _fused(fused_scale, resolution: int) -> bool:
    """Whether the up-convolution into `resolution` ran as one transposed convolution."""
    return resolution >= 128 if fused_scale in (None, "auto") else bool(fused_scale)


def _rename(name: str, value: np.ndarray, fused_scale, torgb: str):
    """(our key, tensor) for a v1 variable; None = dropped (progressive-growing leftovers); raises for
    a variable without a counterpart."""
    value = np.asarray(value, dtype=np.float32)
    if name in ("lod", "synthesis/lod"):
        if float(value) != 0:
            raise StyleforgeError(f"saved mid progressive growing (lod {float(value)}); only fully grown networks "
                                  "are read")
        return None
    if name == "dlatent_avg":
        return "mapping.w_avg", value
    if match := re.fullmatch(r"mapping/Dense(\d+)/(weight|bias)", name):
        return f"mapping.layers.{match[1]}.{match[2]}", value.T if match[2] == "weight" else value / _SQRT2
    if match := re.fullmatch(r"synthesis/noise(\d+)", name):
        index = int(match[1])
        resolution = 2 ** (index // 2 + 2)
        layer = "conv" if index % 2 else ("input" if resolution == 4 else "conv_up")
        return f"synthesis.b{resolution}.{layer}.noise_const", value[0, 0]
    if match := re.fullmatch(r"synthesis/ToRGB_lod(\d+)/(weight|bias)", name):
        if name.split("/")[1] != torgb:
            return None  # a lower-resolution output of progressive growing
        return f"synthesis.{{last}}.to_rgb.{match[2]}", value.transpose(3, 2, 0, 1) if match[2] == "weight" else value
    if match := re.fullmatch(r"synthesis/(\d+)x\1/(Const|Conv|Conv0_up|Conv1)/(.+)", name):
        resolution, layer, field = int(match[1]), match[2], match[3]
        ours = {"Const": "input", "Conv": "conv", "Conv0_up": "conv_up", "Conv1": "conv"}[layer]
        prefix = f"synthesis.b{resolution}"
        if field == "const":
            return f"{prefix}.const", value[0] / _SQRT2
        if field == "weight":
            if layer == "Conv0_up" and _fused(fused_scale, resolution):
                value = value[::-1, ::-1]
            return f"{prefix}.{ours}.weight", value.transpose(3, 2, 0, 1)
        if field in ("bias", "Noise/weight"):
            return f"{prefix}.{ours}.{'bias' if field == 'bias' else 'noise_strength'}", value / _SQRT2
        if field in ("StyleMod/weight", "StyleMod/bias"):
            return f"{prefix}.{ours}.affine.{field.split('/')[1]}", value.T if field.endswith("weight") else value
    raise StyleforgeError(f"the TensorFlow variable {name} has no counterpart in the StyleGAN v1 synthesis")


def stylegan1_generator(network: TFNetworkRecord, variables: dict, key: str):
    """Our stylegan1 Generator for a TF `G_style` network (`Gs` → G_ema, `G` → G)."""
    if set(network.components) != {"mapping", "synthesis"}:
        raise StyleforgeError(f"network {key!r} is not a StyleGAN v1 generator (components "
                              f"{sorted(network.components)}, expected mapping and synthesis)")
    kwargs = _settings(network, key)
    resolution = int(kwargs.get("resolution", 1024))
    if resolution < 4 or resolution & (resolution - 1):
        raise StyleforgeError(f"network {key!r} has resolution {resolution}, not a power of two")
    psi, cutoff = kwargs.get("truncation_psi", 0.7), kwargs.get("truncation_cutoff", 8)
    if psi is None or cutoff is None or cutoff <= 0:  # G_style truncates only with both set
        psi, cutoff = 1.0, None
    config = GeneratorConfig(
        z_dim=int(kwargs.get("latent_size", 512)), w_dim=int(kwargs.get("dlatent_size", 512)),
        img_resolution=resolution, img_channels=int(kwargs.get("num_channels", 3)),
        mapping_layers=int(kwargs.get("mapping_layers", 8)), layer_features=int(kwargs.get("mapping_fmaps", 512)),
        mapping_lr_multiplier=float(kwargs.get("mapping_lrmul", 0.01)),
        w_avg_beta=float(kwargs.get("dlatent_avg_beta", 0.995) or 0.995),
        channel_base=2 * int(kwargs.get("fmap_base", 8192)), channel_max=int(kwargs.get("fmap_max", 512)),
        use_noise=bool(kwargs.get("use_noise", True)), family="stylegan1", architecture="orig",
        default_psi=float(psi), default_cutoff=None if cutoff is None else int(cutoff)).validate()
    torgb = f"ToRGB_lod{0}"
    state = {}
    for name, value in variables.items():
        try:
            renamed = _rename(name, value, kwargs.get("fused_scale", "auto"), torgb)
        except StyleforgeError as error:
            raise StyleforgeError(f"network {key!r}: {error}") from None
        if renamed is not None:
            state[renamed[0].replace("{last}", f"b{resolution}")] = torch.from_numpy(
                np.array(renamed[1], dtype=np.float32, order="C"))
    model = build_from_config(config)
    load_state_strict(model, state, f"network {key!r}")
    return model.eval()
