"""Which NVIDIA code wrote a PyTorch network pickle, and the constructor arguments its code would use.

Identified from data only: the stored module source is read with `ast.parse` (never compiled or run)
where a file carries it, and the pickled module state (each layer's own attributes) otherwise; fixture
files replace the source with a placeholder, real files carry it, and both are read the same way.

Families (see docs/formats.md):
- `stylegan2-ada-pytorch`: NVlabs/stylegan2-ada-pytorch `training/networks.py` (also the pickles its
  `legacy.py` writes from TensorFlow files: variant `legacy-converted`);
- `stylegan3-stylegan2`: NVlabs/stylegan3 `training/networks_stylegan2.py` — the same computation with
  other module defaults (conv_clamp 256, num_fp16_res 4, w_avg_beta 0.998) and flat G kwargs;
- `stylegan3-alias-free`: NVlabs/stylegan3 `training/networks_stylegan3.py` (configs T / R).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..errors import StyleforgeError
from .safe_pickle import PersistentRecord, plain

ADA = "stylegan2-ada-pytorch"
SG3_STYLEGAN2 = "stylegan3-stylegan2"
SG3_ALIAS_FREE = "stylegan3-alias-free"

FAMILY_SOURCES = {ADA: "stylegan2-ada-pytorch training/networks.py",
                  SG3_STYLEGAN2: "stylegan3 training/networks_stylegan2.py",
                  SG3_ALIAS_FREE: "stylegan3 training/networks_stylegan3.py (alias-free, config T/R)"}

# Module defaults of each family's constructors for the arguments that pickled kwargs may leave out,
# as (class, parameter) → value (from the two repositories' `__init__` signatures).
_DEFAULTS = {
    ADA: {("MappingNetwork", "w_avg_beta"): 0.995, ("SynthesisNetwork", "num_fp16_res"): 0,
          ("SynthesisBlock", "conv_clamp"): None, ("Discriminator", "num_fp16_res"): 0,
          ("Discriminator", "conv_clamp"): None},
    SG3_STYLEGAN2: {("MappingNetwork", "w_avg_beta"): 0.998, ("SynthesisNetwork", "num_fp16_res"): 4,
                    ("SynthesisBlock", "conv_clamp"): 256, ("Discriminator", "num_fp16_res"): 4,
                    ("Discriminator", "conv_clamp"): 256},
}
_DEFAULTS[SG3_ALIAS_FREE] = _DEFAULTS[SG3_STYLEGAN2]  # its file's D is networks_stylegan2's
_PLACEHOLDER_MARKERS = ("module source omitted",)
_G_TOP_LEVEL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs",
                "synthesis_kwargs", "class_name")


@dataclass
class Identity:
    """What a network record is: its family, how that was decided, and the source's own defaults."""

    family: str
    evidence: str                                   # "module source" or "module state"
    variant: str | None = None                      # e.g. "legacy-converted"
    source_defaults: dict = field(default_factory=dict)

    @property
    def description(self) -> str:
        text = FAMILY_SOURCES[self.family]
        if self.variant == "legacy-converted":
            text += ", converted from TensorFlow by legacy.py"
        return f"{text} (identified from the {self.evidence})"

    def default(self, cls: str, name: str):
        if (cls, name) in self.source_defaults:
            return self.source_defaults[(cls, name)]
        return _DEFAULTS[self.family][(cls, name)]


# ------------------------------------------------------------------------------ module source

def _signature_defaults(tree: ast.Module) -> dict:
    """{(class, parameter): literal default} of every class's __init__ in a parsed module."""
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                args = item.args.args[1:]
                for arg, default in zip(args[len(args) - len(item.args.defaults):], item.args.defaults):
                    try:
                        found[(node.name, arg.arg)] = ast.literal_eval(default)
                    except ValueError:  # not a literal (e.g. a name): leave it to the family table
                        pass
    return found


def _family_from_source(source: str) -> tuple[str, dict] | None:
    """(family, defaults) read from the module source text, or None when there is none to read."""
    if not source.strip() or any(m in source for m in _PLACEHOLDER_MARKERS):
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    defaults = _signature_defaults(tree)
    if "SynthesisInput" in classes:
        return SG3_ALIAS_FREE, defaults
    if ("SynthesisBlock", "fused_modconv_default") in defaults:
        return SG3_STYLEGAN2, defaults
    if {"SynthesisBlock", "DiscriminatorBlock", "MappingNetwork"} & classes:
        return ADA, defaults
    return None


# ------------------------------------------------------------------------------- module state

def _family_from_state(record: PersistentRecord) -> str | None:
    names = {r.short_name for _, r in record.walk()}
    kwargs = record.state.get("_init_kwargs") or {}
    if "SynthesisInput" in names or "magnitude_ema_beta" in kwargs:
        return SG3_ALIAS_FREE
    for _, rec in record.walk():
        if rec.short_name == "FullyConnectedLayer" and "in_features" in rec.state:
            return SG3_STYLEGAN2
        if rec.short_name in ("Conv2dLayer", "SynthesisLayer", "ToRGBLayer") and "in_channels" in rec.state:
            return SG3_STYLEGAN2
        if rec.short_name == "SynthesisNetwork" and "num_fp16_res" in rec.state:
            return SG3_STYLEGAN2
    if record.short_name == "Generator" and {"mapping", "synthesis"} <= set(record.children()):
        return ADA
    if record.short_name == "Discriminator" and record.child("b4") is not None:
        return ADA
    return None


def _is_legacy_converted(record: PersistentRecord) -> bool:
    """legacy.py writes every kwarg out, e.g. D mapping_kwargs with embed/layer features."""
    kwargs = record.state.get("_init_kwargs") or {}
    if record.short_name == "Discriminator":
        return {"embed_features", "layer_features"} <= set(kwargs.get("mapping_kwargs") or {})
    return {"use_noise", "resample_filter"} <= set(kwargs.get("synthesis_kwargs") or {})


def identify(record: PersistentRecord, key: str) -> Identity:
    """The family of one network of a pickle; a clear refusal when it is none we know."""
    if not isinstance(record, PersistentRecord):
        raise StyleforgeError(f"entry {key!r} of the pickle is not a network object")
    if record.short_name not in ("Generator", "Discriminator"):
        raise StyleforgeError(f"entry {key!r} is a {record.class_name}; only StyleGAN2 generators and "
                              "discriminators are read")
    from_source = _family_from_source(record.module_src)
    if from_source is not None:
        family, defaults = from_source
        identity = Identity(family, "module source", source_defaults=defaults)
    else:
        family = _family_from_state(record)
        if family is None:
            raise StyleforgeError(f"network {key!r} ({record.class_name}) was written by code we do not "
                                  "recognize: neither its module source nor its layers match "
                                  "stylegan2-ada-pytorch or stylegan3")
        identity = Identity(family, "module state")
    if identity.family == ADA and _is_legacy_converted(record):
        identity.variant = "legacy-converted"
    return identity


# ----------------------------------------------------------------------- effective kwargs

def _state_values(record: PersistentRecord, classes: tuple, attr: str, skip_names=()) -> set:
    """Distinct values of `attr` over the descendants of the given classes (as their code holds them)."""
    values = set()
    for name, rec in record.walk():
        if rec.short_name in classes and attr in rec.state and name.rsplit(".", 1)[-1] not in skip_names:
            value = plain(rec.state[attr])
            values.add(tuple(value) if isinstance(value, list) else value)
    return values


def _one(values: set, what: str, key: str):
    """The single value in `values`; None when empty; a refusal when the layers disagree."""
    if len(values) > 1:
        raise StyleforgeError(f"network {key!r} uses several {what} values ({sorted(map(str, values))}); "
                              "styleforge models have one per network")
    return next(iter(values)) if values else None


def _effective_clamp(record: PersistentRecord, classes: tuple, key: str, fallback):
    """The conv_clamp the layers hold (resnet skips and the epilogue's FromRGB never clamp)."""
    if not _state_values(record, classes, "conv_clamp"):
        return fallback
    return _one(_state_values(record, classes, "conv_clamp") - {None}, "conv_clamp", key)


def generator_kwargs(record: PersistentRecord, identity: Identity, key: str) -> dict:
    """stylegan2-ada-pytorch-style Generator kwargs with every value the file's own code would use."""
    kwargs = plain(dict(record.state.get("_init_kwargs") or {}))
    mapping = dict(kwargs.pop("mapping_kwargs", None) or {})
    synthesis = dict(kwargs.pop("synthesis_kwargs", None) or {})
    for name in [k for k in kwargs if k not in _G_TOP_LEVEL]:  # stylegan3: layer kwargs at top level
        synthesis.setdefault(name, kwargs.pop(name))
    synthesis.setdefault("num_fp16_res", identity.default("SynthesisNetwork", "num_fp16_res"))
    synthesis.setdefault("conv_clamp", identity.default("SynthesisBlock", "conv_clamp"))
    mapping.setdefault("w_avg_beta", identity.default("MappingNetwork", "w_avg_beta"))
    # What the constructed modules hold wins over kwargs and defaults.
    layers = ("SynthesisLayer", "ToRGBLayer")
    synthesis["conv_clamp"] = _effective_clamp(record, layers, key, synthesis["conv_clamp"])
    mapping_record = record.child("mapping")
    if mapping_record is not None:
        for name in ("w_avg_beta", "num_layers"):
            if name in mapping_record.state:
                mapping[name] = plain(mapping_record.state[name])
    architecture = _one(_state_values(record, ("SynthesisBlock",), "architecture"), "architecture", key)
    if architecture is not None:
        synthesis["architecture"] = architecture
    use_noise = _one(_state_values(record, ("SynthesisLayer",), "use_noise"), "use_noise", key)
    if use_noise is not None:
        synthesis["use_noise"] = use_noise
    return dict(kwargs, mapping_kwargs=mapping, synthesis_kwargs=synthesis)


def discriminator_kwargs(record: PersistentRecord, identity: Identity, key: str) -> dict:
    """stylegan2-ada-pytorch-style Discriminator kwargs with every value its own code would use."""
    kwargs = plain(dict(record.state.get("_init_kwargs") or {}))
    kwargs.setdefault("num_fp16_res", identity.default("Discriminator", "num_fp16_res"))
    kwargs.setdefault("conv_clamp", identity.default("Discriminator", "conv_clamp"))
    kwargs["conv_clamp"] = _effective_clamp(record, ("Conv2dLayer",), key, kwargs["conv_clamp"])
    architecture = _one(_state_values(record, ("DiscriminatorBlock",), "architecture"), "architecture", key)
    if architecture is not None:
        kwargs["architecture"] = architecture
    epilogue = dict(kwargs.get("epilogue_kwargs") or {})
    mbstd = record.child("b4").child("mbstd") if record.child("b4") is not None else None
    if mbstd is not None:
        epilogue["mbstd_group_size"] = plain(mbstd.state.get("group_size", epilogue.get("mbstd_group_size", 4)))
        epilogue["mbstd_num_channels"] = plain(mbstd.state.get("num_channels", 1))
    elif record.child("b4") is not None and "mbstd" in record.child("b4").state:
        epilogue["mbstd_num_channels"] = 0  # the reference stores `self.mbstd = None` when disabled
    kwargs["epilogue_kwargs"] = epilogue
    return kwargs
