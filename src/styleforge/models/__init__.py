"""The networks: `build(preset, kind)` for new models, `from_reference` for reference weights."""

from ..config import DiscriminatorConfig, GeneratorConfig, preset_config
from .discriminator import Discriminator
from .generator import Generator
from .mapping import MappingNetwork
from .synthesis import NOISE_MODES, StyleLayer, SynthesisNetwork


def build_from_config(config: GeneratorConfig | DiscriminatorConfig) -> Generator | Discriminator:
    """An untrained network for a config (the kind follows from the config's type)."""
    return Generator(config) if isinstance(config, GeneratorConfig) else Discriminator(config)


def build(preset: str, kind: str = "G", **overrides) -> Generator | Discriminator:
    """An untrained 'G' or 'D' from a preset name, e.g. build("stylegan2", "G", resolution=1024)."""
    return build_from_config(preset_config(preset, kind, **overrides))


def from_reference(state_dict: dict, kwargs: dict, kind: str) -> Generator | Discriminator:
    """A network with the weights of a stylegan2-ada-pytorch state dict and its constructor kwargs."""
    from ..checkpoint.reference import from_reference as _from_reference

    return _from_reference(state_dict, kwargs, kind)


__all__ = ["build", "build_from_config", "from_reference", "Generator", "Discriminator",
           "MappingNetwork", "SynthesisNetwork", "StyleLayer", "NOISE_MODES"]
