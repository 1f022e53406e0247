"""Typed, frozen model configurations (JSON round-trip) and the named presets.

Field names and defaults follow the constructor arguments of the reference (stylegan2-ada-pytorch),
so that presets reproduce its parameter counts exactly (e.g. config F at 1024: G 30,370,060,
D 29,012,513).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import ClassVar

from .errors import StyleforgeError
from .names import ACTIVATION_NAMES

ARCHITECTURES = ("orig", "skip", "resnet")
FAMILIES = ("stylegan2", "stylegan1", "stylegan3")  # modulated convs (v2), AdaIN (v1), alias-free (v3: T / R)
MODEL_KINDS = ("G", "D")


def block_channels(resolution: int, channel_base: int, channel_max: int) -> int:
    """Channels of the block at `resolution`: min(channel_base // resolution, channel_max) (StyleGAN2
    App. B; the rule of every StyleGAN2 / v1 generator and discriminator here)."""
    return min(channel_base // resolution, channel_max)


class _ConfigMethods:
    """What both network configs share: channel widths and JSON round trip."""

    def channels_at(self, resolution: int) -> int:
        """Channels of the block at `resolution` (`block_channels`)."""
        return block_channels(resolution, self.channel_base, self.channel_max)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["resample_filter"] = list(self.resample_filter)
        return data

    @classmethod
    def from_dict(cls, data: dict):
        """The config for a JSON dict; unknown fields are an error, not silently dropped."""
        return dataclass_from_dict(cls, data, f"{cls.__name__} field(s)", tuple_fields=("resample_filter",))


_JSON_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "tuple": (list, tuple),
               "dict": (dict,), "None": (type(None),)}


def _check_field_type(name: str, annotation: str, value, what: str) -> None:
    """`value` must have one of the types its (string) annotation names; bools are not numbers."""
    allowed = [t for part in annotation.split("|") for t in _JSON_TYPES.get(part.strip(), (object,))]
    if isinstance(value, bool) and bool not in allowed:
        allowed = []
    if not isinstance(value, tuple(allowed)):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise StyleforgeError(f"{what}: {name} must be {annotation}, got {shown}")
    if isinstance(value, float) and not math.isfinite(value):
        raise StyleforgeError(f"{what}: {name} must be finite, got {value}")


def dataclass_from_dict(cls, data: dict, what: str, tuple_fields: tuple = ()):
    """cls(**data).validate() for a frozen config dataclass read from JSON: unknown keys are an error
    naming them ("unknown <what>: ..."), values must have their field's type, and JSON lists become
    tuples in `tuple_fields`."""
    if not isinstance(data, dict):
        raise StyleforgeError(f"{what}: expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - {f.name for f in fields(cls)})
    if unknown:
        raise StyleforgeError(f"unknown {what}: {', '.join(unknown)}")
    for spec in fields(cls):
        if spec.name in data:
            _check_field_type(spec.name, str(spec.type), data[spec.name], what)
    data = {k: tuple(v) if k in tuple_fields and v is not None else v for k, v in data.items()}
    return cls(**data).validate()


@dataclass(frozen=True)
class GeneratorConfig(_ConfigMethods):
    """StyleGAN2 generator = mapping network (Z→W) + synthesis network (W+→image)."""

    z_dim: int = 512                        # Dimension of the input latent z.
    c_dim: int = 0                          # Dimension of the class label c; 0 = unconditional.
    w_dim: int = 512                        # Dimension of the intermediate latent w.
    img_resolution: int = 1024              # Output resolution (power of two, >= 4).
    img_channels: int = 3                   # Output channels (1 = grayscale, 3 = RGB).
    mapping_layers: int = 8                 # Fully connected layers in the mapping network.
    mapping_lr_multiplier: float = 0.01     # Learning-rate multiplier of the mapping network.
    embed_features: int | None = None       # Label embedding size; None = w_dim.
    layer_features: int | None = None       # Hidden width of the mapping network; None = w_dim.
    w_avg_beta: float = 0.995               # Decay of the running average of w (truncation centre).
    architecture: str = "skip"              # Synthesis architecture: orig, skip or resnet.
    channel_base: int = 32768               # Channels at resolution r = min(channel_base // r, channel_max).
    channel_max: int = 512                  # Upper bound on channels per layer.
    resample_filter: tuple = (1, 3, 3, 1)   # 1-D taps of the FIR resampling filter.
    conv_clamp: float | None = None         # Clamp on conv outputs (the reference uses 256 with fp16).
    num_fp16_res: int = 0                   # Highest-resolution blocks that may run in fp16 on GPU.
    use_noise: bool = True                  # Per-pixel noise inputs in every synthesis conv.
    activation: str = "lrelu"               # Activation of mapping and synthesis layers.
    family: str = "stylegan2"               # stylegan2 (modulated convs), stylegan1 (AdaIN) or stylegan3 (alias-free).
    alias_free: dict | None = None          # stylegan3 only: synthesis settings (models/synthesis_sg3.py).
    default_psi: float = 1.0                # the truncation a model was released with (v1: 0.7), used
    default_cutoff: int | None = None       # by the commands when --trunc is not given (cutoff None = all).

    kind = "G"

    @property
    def block_resolutions(self) -> list[int]:
        return [2 ** i for i in range(2, int(math.log2(self.img_resolution)) + 1)]

    def validate(self) -> "GeneratorConfig":
        _check_common(self)
        if self.z_dim < 0 or self.w_dim <= 0 or (self.z_dim == 0 and self.c_dim == 0):
            raise StyleforgeError("generator needs w_dim > 0 and z_dim > 0 or c_dim > 0")
        if self.mapping_layers < 1:
            raise StyleforgeError("mapping_layers must be at least 1")
        if self.family not in FAMILIES:
            raise StyleforgeError(f"family must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.family == "stylegan1" and (self.architecture != "orig" or self.conv_clamp is not None):
            raise StyleforgeError("the StyleGAN v1 generator has one ToRGB at the end and no clamp: "
                                  "it needs architecture 'orig' and conv_clamp None")
        if self.alias_free is not None and (self.family != "stylegan3" or not all(
                isinstance(k, str) and isinstance(v, (int, float)) for k, v in self.alias_free.items())):
            raise StyleforgeError("alias_free holds the numeric synthesis settings of a stylegan3 generator only")
        return self


@dataclass(frozen=True)
class DiscriminatorConfig(_ConfigMethods):
    """StyleGAN2 discriminator: FIR-downsampling blocks, minibatch stddev, projection conditioning."""

    c_dim: int = 0                          # Dimension of the class label c; 0 = unconditional.
    img_resolution: int = 1024              # Input resolution (power of two, >= 4).
    img_channels: int = 3                   # Input channels.
    architecture: str = "resnet"            # orig, skip or resnet.
    channel_base: int = 32768               # Channels at resolution r = min(channel_base // r, channel_max).
    channel_max: int = 512                  # Upper bound on channels per layer.
    cmap_dim: int | None = None             # Size of the projection embedding; None = channels at 4×4.
    mbstd_group_size: int | None = 4        # Minibatch-stddev group size; None = whole batch.
    mbstd_num_channels: int = 1             # Features of minibatch stddev; 0 = disabled.
    mapping_layers: int = 8                 # Layers of the label mapping network (conditional only).
    mapping_lr_multiplier: float = 0.01     # Learning-rate multiplier of that mapping network.
    resample_filter: tuple = (1, 3, 3, 1)   # 1-D taps of the FIR resampling filter.
    conv_clamp: float | None = None         # Clamp on conv outputs.
    num_fp16_res: int = 0                   # Highest-resolution blocks that may run in fp16 on GPU.
    activation: str = "lrelu"               # Activation of every layer but the last.

    kind = "D"
    family: ClassVar[str] = "stylegan2"     # every family trains against the StyleGAN2 discriminator

    @property
    def block_resolutions(self) -> list[int]:
        return [2 ** i for i in range(int(math.log2(self.img_resolution)), 2, -1)]

    def validate(self) -> "DiscriminatorConfig":
        _check_common(self)
        if self.mbstd_group_size is not None and self.mbstd_group_size < 1:
            raise StyleforgeError("mbstd_group_size must be >= 1 (or None for the whole batch)")
        return self


ModelConfig = GeneratorConfig | DiscriminatorConfig
CONFIG_CLASSES = {"G": GeneratorConfig, "D": DiscriminatorConfig}


# Upper bounds far beyond any published model; a file asking for more is damaged or hostile (its
# config alone could otherwise ask for hundreds of GB before a single weight is read).
LIMITS = {"img_resolution": 2 ** 14, "img_channels": 64, "channel_base": 2 ** 22, "channel_max": 2 ** 14,
          "z_dim": 2 ** 14, "w_dim": 2 ** 14, "c_dim": 2 ** 16, "mapping_layers": 64,
          "embed_features": 2 ** 14, "layer_features": 2 ** 14, "cmap_dim": 2 ** 14,
          "mbstd_group_size": 2 ** 16, "mbstd_num_channels": 2 ** 10}


def _check_common(config) -> None:
    res = config.img_resolution
    if not isinstance(res, int) or res < 4 or res & (res - 1):
        raise StyleforgeError(f"resolution must be a power of two >= 4, got {res}")
    for name, limit in LIMITS.items():
        value = getattr(config, name, None)
        if isinstance(value, int) and value > limit:
            raise StyleforgeError(f"{name} {value} is beyond {limit}, larger than any StyleGAN; refusing it")
    if len(config.resample_filter) > 64:
        raise StyleforgeError("resample_filter has more than 64 taps")
    if config.architecture not in ARCHITECTURES:
        raise StyleforgeError(f"architecture must be one of {', '.join(ARCHITECTURES)}, "
                              f"got {config.architecture!r}")
    if config.img_channels < 1 or config.c_dim < 0:
        raise StyleforgeError("img_channels must be >= 1 and c_dim >= 0")
    if config.channel_base < 1 or config.channel_max < 1 or config.channel_base // res < 1:
        raise StyleforgeError(f"channel_base {config.channel_base} gives no channels at {res}px")
    if config.activation not in ACTIVATION_NAMES:
        raise StyleforgeError(f"unknown activation {config.activation!r}")


# ----------------------------------------------------------------------------------------------
# Presets: data only. Values of the reference presets come from stylegan2-ada-pytorch's train.py
# (cfg_specs): fmaps → channel_base = fmaps·32768, map → mapping layers, mbstd → group size,
# plus num_fp16_res=4 and conv_clamp=256 for every reference config.

_REFERENCE_COMMON_G = dict(num_fp16_res=4, conv_clamp=256)
_REFERENCE_COMMON_D = dict(num_fp16_res=4, conv_clamp=256)

PRESETS: dict[str, dict] = {
    "stylegan2": {  # Config F of the StyleGAN2 paper (FFHQ 1024).
        "description": "StyleGAN2 config F (1024 px, 512-d latents, 30.4 M G params)",
        "G": dict(img_resolution=1024, channel_base=32768, **_REFERENCE_COMMON_G),
        "D": dict(img_resolution=1024, channel_base=32768, mbstd_group_size=4, **_REFERENCE_COMMON_D),
    },
    "paper256": {
        "description": "reference 'paper256' (256 px, half width, mbstd group 8)",
        "G": dict(img_resolution=256, channel_base=16384, **_REFERENCE_COMMON_G),
        "D": dict(img_resolution=256, channel_base=16384, mbstd_group_size=8, **_REFERENCE_COMMON_D),
    },
    "paper512": {
        "description": "reference 'paper512' (512 px, full width, mbstd group 8)",
        "G": dict(img_resolution=512, channel_base=32768, **_REFERENCE_COMMON_G),
        "D": dict(img_resolution=512, channel_base=32768, mbstd_group_size=8, **_REFERENCE_COMMON_D),
    },
    "paper1024": {
        "description": "reference 'paper1024' (1024 px, full width, mbstd group 4)",
        "G": dict(img_resolution=1024, channel_base=32768, **_REFERENCE_COMMON_G),
        "D": dict(img_resolution=1024, channel_base=32768, mbstd_group_size=4, **_REFERENCE_COMMON_D),
    },
    "cifar": {  # Reference 'cifar': 2 mapping layers, 'orig' discriminator, mbstd group 32.
        "description": "reference 'cifar' (32 px, 2 mapping layers, orig D)",
        "G": dict(img_resolution=32, channel_base=32768, mapping_layers=2, **_REFERENCE_COMMON_G),
        "D": dict(img_resolution=32, channel_base=32768, architecture="orig", mbstd_group_size=32,
                  **_REFERENCE_COMMON_D),
    },
    "small": {  # Ours: trains on a 2-core CPU (toyfaces at 32 px in minutes; 64 px works too).
        "description": "small CPU model (64 px, 128-d latents, 64 channels up to 16 px, then halving)",
        "G": dict(img_resolution=64, z_dim=128, w_dim=128, channel_base=1024, channel_max=64),
        "D": dict(img_resolution=64, channel_base=1024, channel_max=64),
    },
    "stylegan3-t": {  # StyleGAN3 config T at 1024 (Karras et al. 2021), as stylegan3's train.py --cfg=stylegan3-t.
        "description": "StyleGAN3 config T, 1024 px (alias-free, 3×3 convs); generation only",
        "G": dict(img_resolution=1024, family="stylegan3", mapping_layers=2, w_avg_beta=0.998, conv_clamp=256,
                  alias_free={"conv_kernel": 3}),
        "D": dict(img_resolution=1024, conv_clamp=256),
    },
    "stylegan3-r": {  # config R: 1×1 convs, radial filters, twice the channels.
        "description": "StyleGAN3 config R, 1024 px (alias-free, rotation equivariant); generation only",
        "G": dict(img_resolution=1024, family="stylegan3", mapping_layers=2, w_avg_beta=0.998, conv_clamp=256,
                  channel_base=65536, channel_max=1024, alias_free={"conv_kernel": 1, "use_radial_filters": True}),
        "D": dict(img_resolution=1024, conv_clamp=256),
    },
    "stylegan1": {  # StyleGAN v1 FFHQ 1024 (Karras et al. 2019): fmap_base 8192 = our channel_base 16384.
        "description": "StyleGAN v1 (AdaIN) FFHQ generator (1024 px, 26.2 M G params) with a StyleGAN2 D",
        "G": dict(img_resolution=1024, channel_base=16384, family="stylegan1", architecture="orig"),
        "D": dict(img_resolution=1024, channel_base=16384, mbstd_group_size=4),
    },
    "stylegan1-small": {  # `small` with the v1 generator: the side-by-side droplet comparison.
        "description": "small CPU model with the StyleGAN v1 (AdaIN) generator",
        "G": dict(img_resolution=64, z_dim=128, w_dim=128, channel_base=1024, channel_max=64,
                  family="stylegan1", architecture="orig"),
        "D": dict(img_resolution=64, channel_base=1024, channel_max=64),
    },
    "stylegan1-tiny": {
        "description": "tiny StyleGAN v1 (AdaIN) model for tests",
        "G": dict(img_resolution=16, z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32,
                  family="stylegan1", architecture="orig"),
        "D": dict(img_resolution=16, channel_base=512, channel_max=32, mapping_layers=2),
    },
    "tiny": {  # Ours: for tests and quick experiments.
        "description": "tiny model for tests (16 px, 32-d latents, 32 channels, 2 mapping layers)",
        "G": dict(img_resolution=16, z_dim=32, w_dim=32, mapping_layers=2, channel_base=512,
                  channel_max=32),
        "D": dict(img_resolution=16, channel_base=512, channel_max=32, mapping_layers=2),
    },
}

# Friendly override names accepted by build() and the CLI.
OVERRIDE_ALIASES = {"resolution": "img_resolution", "channels": "img_channels"}


def preset_config(preset: str, kind: str, **overrides) -> ModelConfig:
    """The config of a named preset for kind 'G' or 'D', with field overrides applied."""
    if kind not in MODEL_KINDS:
        raise StyleforgeError(f"kind must be 'G' or 'D', got {kind!r}")
    if preset not in PRESETS:
        raise StyleforgeError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    values = dict(PRESETS[preset][kind])
    for name, value in overrides.items():
        values[OVERRIDE_ALIASES.get(name, name)] = value
    if kind == "G" and overrides.get("family") == "stylegan1" and "architecture" not in overrides:
        values["architecture"] = "orig"  # v1 has one ToRGB at the end
        values["conv_clamp"] = None
    if kind == "D":  # the generator-only sizes and family are silently meaningless for D
        for name in ("z_dim", "w_dim", "family"):
            values.pop(name, None)
    return CONFIG_CLASSES[kind].from_dict(values)


def preset_names() -> list[str]:
    return list(PRESETS)


__all__ = [
    "GeneratorConfig", "DiscriminatorConfig", "ModelConfig", "PRESETS", "preset_config",
    "preset_names", "ARCHITECTURES", "FAMILIES", "CONFIG_CLASSES",
]
