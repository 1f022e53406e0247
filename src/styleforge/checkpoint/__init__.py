"""Model files: the native safetensors format and converters from/to other codebases' layouts."""

from .formats import (FORMATS, detect_format, export_reference, export_rosinality, load,
                      load_networks, network_keys)
from .native import FORMAT_NAME, FORMAT_VERSION, read_metadata, save
from .reference import config_from_reference_kwargs, from_reference, to_reference
from .reference_pickle import describe_pickle, load_mapping, load_network_pickle
from .rosinality import (discriminator_from_rosinality, discriminator_to_rosinality,
                         generator_from_rosinality, generator_to_rosinality)

__all__ = ["save", "load", "load_networks", "network_keys", "detect_format", "read_metadata", "FORMATS",
           "FORMAT_NAME", "FORMAT_VERSION", "from_reference", "to_reference",
           "config_from_reference_kwargs", "export_reference", "export_rosinality",
           "load_network_pickle", "load_mapping", "describe_pickle", "generator_from_rosinality",
           "generator_to_rosinality", "discriminator_from_rosinality", "discriminator_to_rosinality"]
