"""TensorFlow StyleGAN2 network pickles (`stylegan2-ffhq-config-f.pkl` and the other official TF
releases, also NVlabs/stylegan2-ada's TF files) → our networks, with no TensorFlow (StyleGAN v1
generators: `tf_stylegan1`).

Such a file holds `(G, D, Gs)`, each a `dnnlib.tflib.network.Network` state: `static_kwargs`,
`components` (G: `mapping`, `synthesis`), `variables` as (name, numpy array) pairs. Every variable
is renamed to stylegan2-ada-pytorch's key names and every static kwarg to its constructor kwargs
(the correspondence NVIDIA's `legacy.py` uses: channel_base = 2·fmap_base, affine bias = mod_bias + 1,
HWIO → OIHW, the kernels of the transposed 'up' convolutions flipped), then `from_reference` builds
our network. A variable or kwarg without a counterpart is refused by name, never dropped.
"""

from __future__ import annotations

import re

import numpy as np
import torch

from ..errors import StyleforgeError
from .reference import from_reference
from .safe_pickle import TFNetworkRecord, plain
from .tf_stylegan1 import is_stylegan1, stylegan1_generator

# static_kwargs that only steer the TF graph at run or train time (no effect on the weights' meaning).
_RUNTIME_KWARGS = {"truncation_psi", "truncation_cutoff", "truncation_psi_val", "truncation_cutoff_val",
                   "style_mixing_prob", "structure", "dlatent_avg_beta", "randomize_noise",
                   "is_template_graph", "fused_modconv", "dtype", "freeze_layers"}


def _kwarg_reader(static_kwargs: dict):
    known: set = set()

    def kwarg(name, default=None):
        known.add(name)
        value = static_kwargs.get(name)
        return default if value is None else plain(value)

    def check(network: str):
        unknown = sorted(set(static_kwargs) - known - _RUNTIME_KWARGS)
        if unknown:
            raise StyleforgeError(f"TensorFlow {network} has settings styleforge cannot map: "
                                  f"{', '.join(unknown)}")
    return kwarg, check


def _collect(network: TFNetworkRecord, prefix: str = "") -> dict[str, np.ndarray]:
    """Every variable of a network and its components, named 'component/variable' as in the graph."""
    out = {}
    for item in network.variables:
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
            raise StyleforgeError("a TensorFlow network lists a variable that is not a (name, value) pair")
        name, value = item
        out[prefix + name] = np.asarray(value)
    for name, component in network.components.items():
        if not isinstance(component, TFNetworkRecord):
            raise StyleforgeError(f"TensorFlow component {name!r} is not a network")
        out.update(_collect(component, f"{prefix}{name}/"))
    return out


def _tensor(value: np.ndarray, transform: str) -> torch.Tensor:
    """HWIO conv kernels → OIHW (flipped for TF's transposed 'up' convs); [in, out] dense → [out, in]."""
    value = np.asarray(value, dtype=np.float32)
    if transform == "conv_flip":
        value = value[::-1, ::-1]
    if transform in ("conv", "conv_flip"):
        value = value.transpose(3, 2, 0, 1)
    elif transform == "dense":
        value = value.T
    elif transform == "plus1":
        value = value + 1
    elif transform == "first":
        value = value[0]
    elif transform == "noise":
        value = value[0, 0]
    return torch.from_numpy(np.array(value, dtype=np.float32, order="C"))  # 0-d stays 0-d


_G_LAYER = {"Conv": "conv1", "Conv0_up": "conv0", "Conv1": "conv1", "ToRGB": "torgb"}
_G_FIELD = {"weight": ("weight", "conv"), "mod_weight": ("affine.weight", "dense"),
            "mod_bias": ("affine.bias", "plus1"), "noise_strength": ("noise_strength", None),
            "bias": ("bias", None)}


def _generator_key(name: str):
    """(stylegan2-ada-pytorch key, transform) for a TF generator variable; None = no counterpart."""
    if name == "dlatent_avg":
        return "mapping.w_avg", None
    if match := re.fullmatch(r"mapping/Dense(\d+)/(weight|bias)", name):
        return f"mapping.fc{match[1]}.{match[2]}", "dense" if match[2] == "weight" else None
    if match := re.fullmatch(r"mapping/LabelEmbed/(weight|bias)", name):
        return f"mapping.embed.{match[1]}", "dense" if match[1] == "weight" else None
    if name == "synthesis/4x4/Const/const":
        return "synthesis.b4.const", "first"
    if match := re.fullmatch(r"synthesis/noise(\d+)", name):
        index = int(match[1])  # conv0 of res r is noise 2·log2(r) − 5, conv1 is 2·log2(r) − 4
        layer, log2 = ("conv0", (index + 5) // 2) if index % 2 else ("conv1", (index + 4) // 2)
        return f"synthesis.b{2 ** log2}.{layer}.noise_const", "noise"
    if match := re.fullmatch(r"synthesis/(\d+)x\1/(Conv|Conv0_up|Conv1|ToRGB)/(\w+)", name):
        res, layer, field = match[1], match[2], match[3]
        if field not in _G_FIELD or (layer == "Conv" and res != "4"):
            return None
        ours, transform = _G_FIELD[field]
        if field == "weight" and layer == "Conv0_up":
            transform = "conv_flip"
        return f"synthesis.b{res}.{_G_LAYER[layer]}.{ours}", transform
    if match := re.fullmatch(r"synthesis/(\d+)x\1/Skip/weight", name):
        return f"synthesis.b{match[1]}.skip.weight", "conv_flip"
    return None


def _discriminator_key(name: str):
    """(stylegan2-ada-pytorch key, transform) for a TF discriminator variable; None = no counterpart."""
    transform = lambda field: "dense" if field == "weight" else None  # noqa: E731 (dense layers)
    if match := re.fullmatch(r"(\d+)x\1/FromRGB/(weight|bias)", name):
        return f"b{match[1]}.fromrgb.{match[2]}", "conv" if match[2] == "weight" else None
    if match := re.fullmatch(r"(\d+)x\1/(Conv0|Conv1_down)/(weight|bias)", name):
        layer = "conv0" if match[2] == "Conv0" else "conv1"
        return f"b{match[1]}.{layer}.{match[3]}", "conv" if match[3] == "weight" else None
    if match := re.fullmatch(r"(\d+)x\1/Skip/weight", name):
        return f"b{match[1]}.skip.weight", "conv"
    if match := re.fullmatch(r"4x4/Conv/(weight|bias)", name):
        return f"b4.conv.{match[1]}", "conv" if match[1] == "weight" else None
    if match := re.fullmatch(r"4x4/Dense0/(weight|bias)", name):
        return f"b4.fc.{match[1]}", transform(match[1])
    if match := re.fullmatch(r"Output/(weight|bias)", name):
        return f"b4.out.{match[1]}", transform(match[1])
    if match := re.fullmatch(r"LabelEmbed/(weight|bias)", name):
        return f"mapping.embed.{match[1]}", transform(match[1])
    if match := re.fullmatch(r"Mapping(\d+)/(weight|bias)", name):
        return f"mapping.fc{match[1]}.{match[2]}", transform(match[2])
    return None


def _state_dict(variables: dict, rename, key: str) -> dict[str, torch.Tensor]:
    state, unmapped = {}, []
    for name, value in variables.items():
        if name == "lod":
            if float(np.asarray(value)) != 0:
                raise StyleforgeError(f"network {key!r} was saved mid progressive growing (lod "
                                      f"{float(np.asarray(value))}); only fully grown networks are read")
            continue
        target = rename(name)
        if target is None:
            unmapped.append(name)
            continue
        state[target[0]] = _tensor(value, target[1])
    if unmapped:
        more = f" and {len(unmapped) - 4} more" if len(unmapped) > 4 else ""
        raise StyleforgeError(f"network {key!r} has TensorFlow variables styleforge cannot map: "
                              f"{', '.join(unmapped[:4])}{more}")
    return state


def _generator_kwargs(network: TFNetworkRecord, key: str) -> dict:
    kwarg, check = _kwarg_reader(network.static_kwargs)
    kwargs = dict(
        z_dim=kwarg("latent_size", 512), c_dim=kwarg("label_size", 0), w_dim=kwarg("dlatent_size", 512),
        img_resolution=kwarg("resolution", 1024), img_channels=kwarg("num_channels", 3),
        mapping_kwargs=dict(num_layers=kwarg("mapping_layers", 8), embed_features=kwarg("label_fmaps"),
                            layer_features=kwarg("mapping_fmaps"),
                            activation=kwarg("mapping_nonlinearity", "lrelu"),
                            lr_multiplier=kwarg("mapping_lrmul", 0.01),
                            w_avg_beta=kwarg("w_avg_beta", 0.995)),
        synthesis_kwargs=dict(channel_base=kwarg("fmap_base", 16384) * 2, channel_max=kwarg("fmap_max", 512),
                              num_fp16_res=kwarg("num_fp16_res", 0), conv_clamp=kwarg("conv_clamp"),
                              architecture=kwarg("architecture", "skip"),
                              resample_filter=list(kwarg("resample_kernel", [1, 3, 3, 1])),
                              use_noise=kwarg("use_noise", True), activation=kwarg("nonlinearity", "lrelu")))
    check(f"generator {key!r}")
    return kwargs


def _discriminator_kwargs(network: TFNetworkRecord, key: str) -> dict:
    kwarg, check = _kwarg_reader(network.static_kwargs)
    activation = kwarg("nonlinearity", "lrelu")
    kwargs = dict(
        c_dim=kwarg("label_size", 0), img_resolution=kwarg("resolution", 1024),
        img_channels=kwarg("num_channels", 3), architecture=kwarg("architecture", "resnet"),
        channel_base=kwarg("fmap_base", 16384) * 2, channel_max=kwarg("fmap_max", 512),
        num_fp16_res=kwarg("num_fp16_res", 0), conv_clamp=kwarg("conv_clamp"), cmap_dim=kwarg("mapping_fmaps"),
        block_kwargs=dict(activation=activation, resample_filter=list(kwarg("resample_kernel", [1, 3, 3, 1]))),
        mapping_kwargs=dict(num_layers=kwarg("mapping_layers", 0), embed_features=kwarg("mapping_fmaps"),
                            layer_features=kwarg("mapping_fmaps"), activation=activation,
                            lr_multiplier=kwarg("mapping_lrmul", 0.1)),
        # The TF code's own default group size is 4 (legacy.py assumes None = whole batch; the two
        # agree for batches of at most 4).
        epilogue_kwargs=dict(mbstd_group_size=kwarg("mbstd_group_size", 4),
                             mbstd_num_channels=kwarg("mbstd_num_features", 1), activation=activation))
    check(f"discriminator {key!r}")
    return kwargs


def _check_resolution(kwargs: dict, key: str) -> None:
    res = kwargs["img_resolution"]
    if not isinstance(res, int) or res < 4 or res & (res - 1):
        raise StyleforgeError(f"network {key!r} has resolution {res!r}, not a power of two")


def tf_network(network: TFNetworkRecord, key: str):
    """Our G (for 'G' and 'G_ema' = TF Gs) or D (for 'D') from a TensorFlow network state."""
    if not isinstance(network, TFNetworkRecord):
        raise StyleforgeError(f"entry {key!r} is not a TensorFlow network")
    version = plain(network.state.get("version"))
    variables = _collect(network)
    if is_stylegan1(variables):  # NVlabs/stylegan: version 3 pickles of G_style / D_basic
        if key == "D":
            raise StyleforgeError("network 'D' is a StyleGAN v1 TensorFlow discriminator (D_basic, with "
                                  "progressive-growing blocks); only its generators (G, Gs) are read")
        return stylegan1_generator(network, variables, key)
    if not isinstance(version, int) or version < 4:
        raise StyleforgeError(f"network {key!r}: TensorFlow network pickle version {version!r} is too old "
                              "(version 4 or newer is read)")
    kind = "D" if key == "D" else "G"
    if kind == "G" and set(network.components) != {"mapping", "synthesis"}:
        raise StyleforgeError(f"network {key!r} is not a StyleGAN2 generator (components "
                              f"{sorted(network.components)}, expected mapping and synthesis)")
    kwargs = (_discriminator_kwargs if kind == "D" else _generator_kwargs)(network, key)
    _check_resolution(kwargs, key)
    label_variable, how = _LABEL_LAYOUTS[kind]
    if kwargs["c_dim"] > 0 and label_variable not in variables:
        raise StyleforgeError(f"network {key!r} is conditional in the original TF StyleGAN2 layout ({how}), "
                              "which has no stylegan2-ada counterpart; it cannot be read")
    rename = _discriminator_key if kind == "D" else _generator_key
    return from_reference(_state_dict(variables, rename, key), kwargs, kind)


# The label embedding stylegan2-ada (TF and PyTorch) uses; the original TF StyleGAN2 had none.
_LABEL_LAYOUTS = {"G": ("mapping/LabelEmbed/weight", "labels concatenated to z before normalization"),
                  "D": ("LabelEmbed/weight", "labels multiplied into the output layer")}


def describe_tf_pickle(entries: dict) -> dict:
    """{key: one line} for the networks of a TensorFlow pickle (for `inspect`)."""
    described = {}
    for key, network in entries.items():
        variables = _collect(network)
        kwargs = network.static_kwargs
        name = ("StyleGAN (v1)" if is_stylegan1(variables) else "StyleGAN2")
        res = kwargs.get("resolution", 1024)
        described[key] = (f"TensorFlow {name} {network.name} ({network.build_func_name}), {res}px, "
                          f"{len(variables)} variables")
    return described


