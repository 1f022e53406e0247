"""Model files: the native safetensors format and converters from/to other codebases' layouts."""

from .native import FORMAT_NAME, FORMAT_VERSION, load, read_metadata, save
from .reference import config_from_reference_kwargs, from_reference, to_reference

__all__ = ["save", "load", "read_metadata", "FORMAT_NAME", "FORMAT_VERSION", "from_reference",
           "to_reference", "config_from_reference_kwargs"]
