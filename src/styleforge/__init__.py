"""styleforge: StyleGAN2 / StyleGAN toolkit — models, latent spaces, model files, CLI.

Public API: `load`, `save`, `build`, `Generator`, `Discriminator`, `presets`, `latents`, `render`,
`save_latents` / `read_latents`, and every subpackage (`sf.pipeline`, `sf.checkpoint`, `sf.projection`,
`sf.metrics`, ...). The names are resolved on first use (PEP 562), so `import styleforge` and the
command line's argument parsing do not wait for torch.
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
    "render": ("styleforge.pipeline", "render"),
    "save_latents": ("styleforge.latent_files", "save_latents"),
    "read_latents": ("styleforge.latent_files", "read_latents"),
    "LatentFile": ("styleforge.latent_files", "LatentFile"),
}
SUBMODULES = ("analysis", "checkpoint", "cli", "config", "data", "edit", "latent_files", "latents", "metrics", "models",
              "media", "nn", "perception", "pipeline", "projection", "tagged", "train", "web")

__all__ = [*_EXPORTS, "StyleforgeError", "__version__"]


def __getattr__(name: str):
    if name in SUBMODULES:
        return importlib.import_module(f"styleforge.{name}")  # the import system sets it as an attribute
    if name not in _EXPORTS:
        raise AttributeError(f"module 'styleforge' has no attribute {name!r}")
    module_name, attribute = _EXPORTS[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # resolved once
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | set(SUBMODULES))
