"""styleforge: StyleGAN2 / StyleGAN toolkit — models, latent spaces, model files, CLI.

Public API: `load`, `save`, `build`, `Generator`, `Discriminator`, `presets`, `latents`.
The names are resolved on first use (PEP 562), so `import styleforge` and the command line's
argument parsing do not wait for torch.
"""

import importlib

from .errors import StyleforgeError
from .version import __version__

_EXPORTS = {  # public name → (module, attribute); None = the module itself
    "load": ("styleforge.checkpoint", "load"), "save": ("styleforge.checkpoint", "save"),
    "build": ("styleforge.models", "build"), "from_reference": ("styleforge.checkpoint", "from_reference"),
    "Generator": ("styleforge.models", "Generator"), "Discriminator": ("styleforge.models", "Discriminator"),
    "GeneratorConfig": ("styleforge.config", "GeneratorConfig"),
    "DiscriminatorConfig": ("styleforge.config", "DiscriminatorConfig"),
    "presets": ("styleforge.config", "PRESETS"), "latents": ("styleforge.latents", None),
    "edit": ("styleforge.edit", None),
}

__all__ = [*_EXPORTS, "StyleforgeError", "__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'styleforge' has no attribute {name!r}")
    module_name, attribute = _EXPORTS[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # resolved once
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
