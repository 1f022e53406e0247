"""StyleGAN3 alias-free generators (stylegan3 `training/networks_stylegan3.py`, configs T and R) from
their pickled module state: the settings come from what the file's modules hold (every layer's
sizes, sampling rates, cutoffs and filters), our layer plan is rebuilt from them and checked against
every layer, then the weights and filters load as they are. Nothing stored in the file is executed."""

from __future__ import annotations

import numpy as np

from ..config import GeneratorConfig
from ..errors import StyleforgeError
from ..models import build_from_config
from ..models.synthesis_sg3 import ALIAS_FREE_DEFAULTS
from ..state_dict import load_state_strict
from .safe_pickle import PersistentRecord, flatten_state, plain

_SYNTHESIS_SETTINGS = ("num_layers", "num_critical", "margin_size", "output_scale")


def _value(record: PersistentRecord, name: str, what: str):
    if name not in record.state:
        raise StyleforgeError(f"{what} lacks {name!r}: not a stylegan3 alias-free network we know")
    value = plain(record.state[name])
    return value.tolist() if isinstance(value, np.ndarray) else value


def alias_free_config(record: PersistentRecord, key: str) -> GeneratorConfig:
    """Our config of an alias-free generator record, from its kwargs and its modules' own attributes."""
    kwargs = plain(dict(record.state.get("_init_kwargs") or {}))
    synthesis, mapping = record.child("synthesis"), record.child("mapping")
    if synthesis is None or mapping is None:
        raise StyleforgeError(f"network {key!r}: an alias-free generator without synthesis or mapping network")
    layers = [synthesis.child(name) for name in _value(synthesis, "layer_names", f"{key}.synthesis")]
    if not layers or any(layer is None for layer in layers):
        raise StyleforgeError(f"network {key!r}: the synthesis network's layers are missing")
    first = layers[0]
    settings = {name: _value(synthesis, name, f"{key}.synthesis") for name in _SYNTHESIS_SETTINGS}
    settings["conv_kernel"] = int(_value(first, "conv_kernel", f"{key} layer 0"))
    settings["use_radial_filters"] = any(bool(_value(layer, "down_radial", key)) for layer in layers)
    settings["magnitude_ema_beta"] = float(_value(first, "magnitude_ema_beta", key))
    settings["lrelu_upsampling"] = int(round(_value(first, "tmp_sampling_rate", key)
                                             / max(_value(first, "in_sampling_rate", key),
                                                   _value(first, "out_sampling_rate", key))))
    # Settings the modules do not hold: the kwargs when they give them, else stylegan3's defaults; the
    # layer-by-layer check below catches a file built with other values.
    for name in ("filter_size", "first_cutoff", "first_stopband", "last_stopband_rel"):
        settings[name] = kwargs.get(name, ALIAS_FREE_DEFAULTS[name])
    channel_base, channel_max = kwargs.get("channel_base", 32768), kwargs.get("channel_max", 512)
    conv_clamp = _value(first, "conv_clamp", key)
    return GeneratorConfig(
        z_dim=kwargs["z_dim"], c_dim=kwargs.get("c_dim", 0), w_dim=kwargs["w_dim"],
        img_resolution=kwargs["img_resolution"], img_channels=kwargs["img_channels"],
        mapping_layers=int(_value(mapping, "num_layers", f"{key}.mapping")),
        w_avg_beta=float(_value(mapping, "w_avg_beta", f"{key}.mapping")), channel_base=channel_base,
        channel_max=channel_max, conv_clamp=None if conv_clamp is None else float(conv_clamp),
        num_fp16_res=int(kwargs.get("num_fp16_res", 4)), family="stylegan3", alias_free=settings).validate()


def _check_plan(model, record: PersistentRecord, key: str) -> None:
    """Every layer of our rebuilt plan must match what the file's layers hold."""
    synthesis = record.child("synthesis")
    for name in model.synthesis.layer_names:
        theirs = synthesis.child(name)
        if theirs is None:
            raise StyleforgeError(f"network {key!r}: layer {name} of the rebuilt plan is not in the file "
                                  "(a fork with other layer rules?)")
        ours = getattr(model.synthesis, name)
        plan = ours.plan
        for attribute, value in (("up_factor", ours.up_factor), ("down_factor", ours.down_factor),
                                 ("padding", ours.padding), ("conv_kernel", ours.conv_kernel),
                                 ("in_size", plan.in_size), ("out_size", plan.out_size),
                                 ("in_sampling_rate", plan.in_rate), ("out_sampling_rate", plan.out_rate),
                                 ("in_cutoff", plan.in_cutoff), ("out_cutoff", plan.out_cutoff),
                                 ("in_half_width", plan.in_half_width), ("out_half_width", plan.out_half_width)):
            stored = _value(theirs, attribute, f"{key} {name}")
            if not np.allclose(np.atleast_1d(stored).astype(float), np.atleast_1d(value).astype(float), rtol=1e-9):
                raise StyleforgeError(f"network {key!r}: layer {name} has {attribute} {stored}, the alias-free "
                                      f"design gives {value} (a fork with other layer rules?)")


def alias_free_generator(record: PersistentRecord, key: str):
    """Our alias-free Generator for a pickled stylegan3 `networks_stylegan3.Generator`."""
    model = build_from_config(alias_free_config(record, key))
    _check_plan(model, record, key)
    state = {}
    for name, value in flatten_state(record).items():
        if name.startswith("mapping.fc"):
            name = "mapping.layers." + name[len("mapping.fc"):]
        state[name] = value
    load_state_strict(model, state, f"network {key!r}")
    return model.eval()


def _stylegan3_name(key: str) -> str:
    return "mapping.fc" + key[len("mapping.layers."):] if key.startswith("mapping.layers.") else key


def alias_free_to_reference(model) -> tuple[dict, dict]:
    """(state dict in stylegan3's key names, `networks_stylegan3.Generator` kwargs) for our alias-free G:
    the kwargs take the synthesis and layer settings flat, as stylegan3's Generator does."""
    config = model.config
    state = {_stylegan3_name(k): v.detach().clone() for k, v in model.state_dict().items()}
    kwargs = dict(z_dim=config.z_dim, c_dim=config.c_dim, w_dim=config.w_dim, img_resolution=config.img_resolution,
                  img_channels=config.img_channels,
                  mapping_kwargs=dict(num_layers=config.mapping_layers, w_avg_beta=config.w_avg_beta,
                                      lr_multiplier=config.mapping_lr_multiplier),
                  channel_base=config.channel_base, channel_max=config.channel_max, conv_clamp=config.conv_clamp,
                  num_fp16_res=config.num_fp16_res, **model.synthesis.settings)
    return state, kwargs


def alias_free_from_reference(state: dict, kwargs: dict):
    """Our alias-free G from stylegan3's key names and `networks_stylegan3.Generator` kwargs."""
    kwargs = dict(kwargs)
    mapping = dict(kwargs.pop("mapping_kwargs", None) or {})
    top = {k: kwargs.pop(k) for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels") if k in kwargs}
    config = GeneratorConfig(
        **top, mapping_layers=int(mapping.get("num_layers", 2)), w_avg_beta=float(mapping.get("w_avg_beta", 0.998)),
        mapping_lr_multiplier=float(mapping.get("lr_multiplier", 0.01)),
        channel_base=int(kwargs.pop("channel_base", 32768)), channel_max=int(kwargs.pop("channel_max", 512)),
        conv_clamp=kwargs.pop("conv_clamp", 256), num_fp16_res=int(kwargs.pop("num_fp16_res", 4)),
        family="stylegan3", alias_free=kwargs).validate()
    model = build_from_config(config)
    ours = {("mapping.layers." + k[len("mapping.fc"):] if k.startswith("mapping.fc") else k): v
            for k, v in state.items()}
    load_state_strict(model, ours, "stylegan3 export")
    return model.eval()
