"""The networks: `build(preset, kind)` and `build_from_config(config)` for new models (weights from
other codebases: `styleforge.checkpoint`)."""

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


__all__ = ["build", "build_from_config", "Generator", "Discriminator",
           "MappingNetwork", "SynthesisNetwork", "StyleLayer", "NOISE_MODES"]
