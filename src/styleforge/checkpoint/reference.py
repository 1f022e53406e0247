"""Weights in the layout of NVIDIA's stylegan2-ada-pytorch (`training/networks.py`): constructor
kwargs ↔ our configs, and state-dict key names ↔ ours.

Both codebases store raw (unscaled) equalized-lr parameters, so the conversion is a renaming plus the
FIR filter buffers, which the reference stores in the state dict and we derive from the config.
"""

import re

import torch

from ..config import DiscriminatorConfig, GeneratorConfig
from ..errors import StyleforgeError
from ..models import build_from_config
from ..state_dict import load_state_strict

# (reference prefix, our prefix) templates; {res} matches digits, {layer} one of conv|fc|out.
# Applied in order, first match wins; the same table converts in both directions.
_G_KEYS = [
    ("mapping.fc{res}.", "mapping.layers.{res}."),
    ("synthesis.b{res}.conv0.", "synthesis.b{res}.conv_up."),
    ("synthesis.b{res}.conv1.", "synthesis.b{res}.conv."),
    ("synthesis.b{res}.torgb.", "synthesis.b{res}.to_rgb."),
]
_D_KEYS = [
    ("mapping.fc{res}.", "mapping.layers.{res}."),
    ("b4.fromrgb.", "epilogue.from_rgb."),
    ("b4.{layer}.", "epilogue.{layer}."),
    ("b{res}.fromrgb.", "b{res}.from_rgb."),
    ("b{res}.conv0.", "b{res}.conv."),
    ("b{res}.conv1.", "b{res}.conv_down."),
]
_KEY_RULES = {"G": _G_KEYS, "D": _D_KEYS}
_PLACEHOLDERS = {"res": r"(?P<res>\d+)", "layer": r"(?P<layer>conv|fc|out)"}

# Reference kwargs that change nothing in the computation we do (precision / memory-layout /
# training-only switches): accepted and dropped.
_IGNORED = {"fp16_channels_last", "channels_last", "fused_modconv_default", "freeze_layers"}


def _template_regex(template: str) -> str:
    pattern = re.escape(template)
    for name, group in _PLACEHOLDERS.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), group)
    return "^" + pattern


def _rename(key: str, rules, to_ours: bool) -> str:
    """Rename one state-dict key between the reference's names and ours."""
    for ref_prefix, our_prefix in rules:
        source, target = (ref_prefix, our_prefix) if to_ours else (our_prefix, ref_prefix)
        match = re.match(_template_regex(source), key)
        if match:
            return target.format(**match.groupdict()) + key[match.end():]
    return key


def _pop_dict(kwargs: dict, name: str) -> dict:
    value = kwargs.pop(name, None) or {}
    if not isinstance(value, dict):
        raise StyleforgeError(f"reference kwargs: {name} must be a dict")
    return dict(value)


def _one_activation(*values) -> str:
    chosen = {v for v in values if v is not None}
    if len(chosen) > 1:
        raise StyleforgeError(f"mixed activations {sorted(chosen)} are not supported")
    return chosen.pop() if chosen else "lrelu"


def _reject_unknown(where: str, leftover: dict) -> None:
    leftover = {k: v for k, v in leftover.items() if k not in _IGNORED}
    if leftover:
        raise StyleforgeError(f"unsupported reference {where} argument(s): {', '.join(sorted(leftover))}")


def _required(kwargs: dict, name: str, kind: str):
    if name not in kwargs:
        raise StyleforgeError(f"reference {'Generator' if kind == 'G' else 'Discriminator'} kwargs lack {name}")
    return kwargs.pop(name)


def _taps(value) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise StyleforgeError(f"resample_filter must be a list of numbers, got {value!r}")
    return tuple(value)


def config_from_reference_kwargs(kwargs: dict, kind: str) -> GeneratorConfig | DiscriminatorConfig:
    """Our config for the reference's Generator(**kwargs) or Discriminator(**kwargs)."""
    if kind not in ("G", "D"):
        raise StyleforgeError(f"kind must be 'G' or 'D', got {kind!r}")
    if not isinstance(kwargs, dict):
        raise StyleforgeError(f"reference kwargs must be a dict, got {type(kwargs).__name__}")
    kw = dict(kwargs)
    kw.pop("class_name", None)
    if kind == "G":
        mapping, synthesis = _pop_dict(kw, "mapping_kwargs"), _pop_dict(kw, "synthesis_kwargs")
        # Layer kwargs may also sit at the top level (they are forwarded as **synthesis_kwargs).
        for name in list(kw):
            if name not in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"):
                synthesis.setdefault(name, kw.pop(name))
        activation = _one_activation(mapping.pop("activation", None), synthesis.pop("activation", None))
        if mapping.get("w_avg_beta", 0.995) is None:
            raise StyleforgeError("generators without w_avg (w_avg_beta=None) are not supported")
        config = GeneratorConfig.from_dict(dict(
            z_dim=_required(kw, "z_dim", kind), c_dim=kw.pop("c_dim", 0), w_dim=_required(kw, "w_dim", kind),
            img_resolution=_required(kw, "img_resolution", kind), img_channels=kw.pop("img_channels", 3),
            mapping_layers=mapping.pop("num_layers", 8),
            mapping_lr_multiplier=mapping.pop("lr_multiplier", 0.01),
            embed_features=mapping.pop("embed_features", None),
            layer_features=mapping.pop("layer_features", None),
            w_avg_beta=mapping.pop("w_avg_beta", 0.995),
            architecture=synthesis.pop("architecture", "skip"),
            channel_base=synthesis.pop("channel_base", 32768),
            channel_max=synthesis.pop("channel_max", 512),
            resample_filter=_taps(synthesis.pop("resample_filter", (1, 3, 3, 1))),
            conv_clamp=synthesis.pop("conv_clamp", None),
            num_fp16_res=synthesis.pop("num_fp16_res", 0),
            use_noise=synthesis.pop("use_noise", True),
            activation=activation))
        _reject_unknown("mapping", mapping)
        _reject_unknown("synthesis", synthesis)
        return config

    block, mapping, epilogue = (_pop_dict(kw, "block_kwargs"), _pop_dict(kw, "mapping_kwargs"),
                                _pop_dict(kw, "epilogue_kwargs"))
    activation = _one_activation(block.pop("activation", None), epilogue.pop("activation", None),
                                 mapping.pop("activation", None))
    config = DiscriminatorConfig.from_dict(dict(
        c_dim=kw.pop("c_dim", 0), img_resolution=_required(kw, "img_resolution", kind),
        img_channels=kw.pop("img_channels", 3), architecture=kw.pop("architecture", "resnet"),
        channel_base=kw.pop("channel_base", 32768), channel_max=kw.pop("channel_max", 512),
        cmap_dim=kw.pop("cmap_dim", None),
        mbstd_group_size=epilogue.pop("mbstd_group_size", 4),
        mbstd_num_channels=epilogue.pop("mbstd_num_channels", 1),
        mapping_layers=mapping.pop("num_layers", 8),
        mapping_lr_multiplier=mapping.pop("lr_multiplier", 0.01),
        resample_filter=_taps(block.pop("resample_filter", (1, 3, 3, 1))),
        conv_clamp=kw.pop("conv_clamp", None), num_fp16_res=kw.pop("num_fp16_res", 0),
        activation=activation))
    # The label mapping's widths are cmap_dim unless given otherwise (legacy.py writes them out).
    cmap_dim = config.cmap_dim if config.cmap_dim is not None else config.channels_at(4)
    for name in ("embed_features", "layer_features"):
        value = mapping.pop(name, None)
        if value is not None and config.c_dim > 0 and value != cmap_dim:
            raise StyleforgeError(f"discriminator mapping {name}={value} differs from cmap_dim {cmap_dim}; "
                                  "not supported")
    if mapping.pop("w_avg_beta", None) is not None:
        raise StyleforgeError("a discriminator's label mapping has no w_avg (w_avg_beta must be None)")
    for where, leftover in (("discriminator", kw), ("block", block), ("mapping", mapping),
                            ("epilogue", epilogue)):
        _reject_unknown(where, leftover)
    return config


def reference_kwargs_from_config(config: GeneratorConfig | DiscriminatorConfig) -> dict:
    """The reference constructor kwargs equivalent to one of our configs (inverse of the above)."""
    if isinstance(config, GeneratorConfig):
        return dict(
            z_dim=config.z_dim, c_dim=config.c_dim, w_dim=config.w_dim,
            img_resolution=config.img_resolution, img_channels=config.img_channels,
            mapping_kwargs=dict(num_layers=config.mapping_layers,
                                lr_multiplier=config.mapping_lr_multiplier,
                                embed_features=config.embed_features,
                                layer_features=config.layer_features,
                                w_avg_beta=config.w_avg_beta, activation=config.activation),
            synthesis_kwargs=dict(channel_base=config.channel_base, channel_max=config.channel_max,
                                  num_fp16_res=config.num_fp16_res, conv_clamp=config.conv_clamp,
                                  architecture=config.architecture,
                                  resample_filter=list(config.resample_filter),
                                  use_noise=config.use_noise, activation=config.activation))
    return dict(
        c_dim=config.c_dim, img_resolution=config.img_resolution, img_channels=config.img_channels,
        architecture=config.architecture, channel_base=config.channel_base,
        channel_max=config.channel_max, num_fp16_res=config.num_fp16_res,
        conv_clamp=config.conv_clamp, cmap_dim=config.cmap_dim,
        block_kwargs=dict(activation=config.activation, resample_filter=list(config.resample_filter)),
        mapping_kwargs=dict(num_layers=config.mapping_layers,
                            lr_multiplier=config.mapping_lr_multiplier),
        epilogue_kwargs=dict(mbstd_group_size=config.mbstd_group_size,
                             mbstd_num_channels=config.mbstd_num_channels,
                             activation=config.activation))


def reference_filter(taps) -> torch.Tensor:
    """The reference's stored `resample_filter` buffer: normalized 2-D outer product (1-D if ≥ 8 taps)."""
    f = torch.as_tensor(list(taps), dtype=torch.float32)
    if f.numel() < 8:
        f = torch.outer(f, f)
    return f / f.sum()


def from_reference(state_dict: dict, kwargs: dict, kind: str):
    """Build our network from a reference state dict (reference key names) and constructor kwargs."""
    config = config_from_reference_kwargs(kwargs, kind)
    model = build_from_config(config)
    expected_filter = reference_filter(config.resample_filter)
    rules = _KEY_RULES[kind]
    ours = {}
    for key, value in state_dict.items():
        tensor = torch.as_tensor(value)
        if key.endswith("resample_filter"):
            if tensor.shape != expected_filter.shape or not torch.allclose(tensor.float(), expected_filter):
                raise StyleforgeError(f"{key} does not match resample_filter {list(config.resample_filter)}")
            continue
        ours[_rename(key, rules, to_ours=True)] = tensor
    load_state_strict(model, ours, "reference")
    return model.eval()


def to_reference(model) -> tuple[dict, dict]:
    """(state dict with the reference's key names, reference constructor kwargs) for our network."""
    kind = model.config.kind
    family = model.config.family
    if family != "stylegan2":
        name = {"stylegan1": "StyleGAN v1", "stylegan3": "StyleGAN3 (alias-free)"}.get(family, family)
        raise StyleforgeError(f"the reference (stylegan2-ada-pytorch) layout holds StyleGAN2 generators; "
                              f"a {name} model stays in styleforge's own format")
    rules = _KEY_RULES[kind]
    state = {_rename(k, rules, to_ours=False): v.detach().clone()
             for k, v in model.state_dict().items()}
    ref_filter = reference_filter(model.config.resample_filter)
    for name, buffer in model.named_buffers():
        if name.endswith("resample_filter"):
            state[_rename(name, rules, to_ours=False)] = ref_filter.clone()
    return state, reference_kwargs_from_config(model.config)
