"""styleforge: StyleGAN2 / StyleGAN toolkit — models, latent spaces, model files, CLI.

Public API: `load`, `save`, `build`, `Generator`, `Discriminator`, `presets`, `latents`.
"""

from . import latents
from .checkpoint import load, save
from .config import DiscriminatorConfig, GeneratorConfig, PRESETS as presets
from .errors import StyleforgeError
from .models import Discriminator, Generator, build, from_reference
from .version import __version__

__all__ = ["load", "save", "build", "from_reference", "Generator", "Discriminator", "GeneratorConfig",
           "DiscriminatorConfig", "presets", "latents", "StyleforgeError", "__version__"]
