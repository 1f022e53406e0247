"""Network pickles of stylegan2-ada-pytorch (and the StyleGAN2 networks in stylegan3 pickles),
read without executing any code from the file.

Such a file is a plain pickle of a dict (`G`, `D`, `G_ema`, `augment_pipe`, `training_set_kwargs`).
Each network is stored through the reference's `torch_utils.persistence`: the global
`_reconstruct_persistent_obj(meta)` with meta = {type, version, module_src, class_name, state}, where
state is the module's `__dict__` (`_parameters`, `_buffers`, `_modules` recursively, `_init_kwargs`).
Our unpickler allows only the globals such files need, replaces `_reconstruct_persistent_obj` with a
stub that keeps `meta` as data (the `module_src` text is never executed), loads each nested tensor
storage with `torch.load(weights_only=True)`, and refuses every other global by name.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import StyleforgeError

NETWORK_KEYS = ("G", "D", "G_ema")
SUPPORTED_CLASSES = {
    "training.networks.Generator": "G", "training.networks.Discriminator": "D",
    "training.networks_stylegan2.Generator": "G", "training.networks_stylegan2.Discriminator": "D",
}


@dataclass
class PersistentRecord:
    """What `_reconstruct_persistent_obj(meta)` would have rebuilt, kept as plain data."""

    class_name: str
    state: dict
    version: int | None = None
    extra: dict = field(default_factory=dict)


class _EasyDict(dict):
    """Stand-in for dnnlib.util.EasyDict: a dict (attribute access is not needed here)."""


def _reconstruct_persistent_obj(meta: dict) -> PersistentRecord:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        raise StyleforgeError("unsupported persistent object in network pickle")
    return PersistentRecord(class_name=str(meta.get("class_name")), state=dict(meta.get("state") or {}),
                            version=meta.get("version"))


def _load_storage_from_bytes(data: bytes):
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def _numpy_scalar():
    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar
    return scalar


_ALLOWED = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): lambda: _reconstruct_persistent_obj,
    ("torch._utils", "_rebuild_parameter"): lambda: torch._utils._rebuild_parameter,
    ("torch._utils", "_rebuild_tensor_v2"): lambda: torch._utils._rebuild_tensor_v2,
    ("torch.storage", "_load_from_bytes"): lambda: _load_storage_from_bytes,
    ("torch", "Size"): lambda: torch.Size,
    ("collections", "OrderedDict"): lambda: __import__("collections").OrderedDict,
    ("numpy", "dtype"): lambda: np.dtype,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("dnnlib.util", "EasyDict"): lambda: _EasyDict,
    ("builtins", "set"): lambda: set,
    ("builtins", "frozenset"): lambda: frozenset,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the allow-listed globals; anything else is refused before it can run."""

    def find_class(self, module: str, name: str):
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise StyleforgeError(f"refusing to load: the pickle asks for {module}.{name}, which is not "
                                  "part of a StyleGAN2 network pickle (nothing was executed)")
        return factory()

    def persistent_load(self, pid):
        raise StyleforgeError("refusing to load: unexpected persistent id in network pickle")


def read_network_pickle(path) -> dict:
    """The top-level dict of a reference network pickle, with networks as PersistentRecords."""
    try:
        with open(path, "rb") as f:
            data = RestrictedUnpickler(f).load()
    except StyleforgeError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise StyleforgeError(f"{path} is not a readable network pickle ({error})") from None
    if not isinstance(data, dict):
        raise StyleforgeError(f"{path} is a pickle but not a network pickle (no dict with G / D / G_ema)")
    return data


def flatten_state(record: PersistentRecord, prefix: str = "") -> dict[str, torch.Tensor]:
    """A state dict (parameters and buffers, recursively) from a recorded module."""
    out = {}
    for group in ("_parameters", "_buffers"):
        for name, value in (record.state.get(group) or {}).items():
            if value is not None:
                out[prefix + name] = torch.as_tensor(value.detach() if hasattr(value, "detach") else value)
    for name, child in (record.state.get("_modules") or {}).items():
        if isinstance(child, PersistentRecord):
            out.update(flatten_state(child, f"{prefix}{name}."))
        elif child is not None:
            raise StyleforgeError(f"module {prefix}{name} was not stored as a network object")
    return out


def network_from_record(record, key: str):
    """Our G or D for one network of the pickle (built with `from_reference`)."""
    from .reference import from_reference

    if not isinstance(record, PersistentRecord):
        raise StyleforgeError(f"entry {key!r} of the pickle is not a network")
    kind = SUPPORTED_CLASSES.get(record.class_name)
    if kind is None:
        raise StyleforgeError(f"network {key!r} is a {record.class_name}; only StyleGAN2 generators and "
                              "discriminators are supported")
    kwargs = record.state.get("_init_kwargs")
    if not isinstance(kwargs, dict):
        raise StyleforgeError(f"network {key!r} has no constructor arguments (_init_kwargs)")
    return from_reference(flatten_state(record), _plain(kwargs), kind)


def _plain(value):
    """EasyDicts and numpy scalars → plain dicts and Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_network_pickle(path, keys=NETWORK_KEYS) -> dict:
    """{key: our network} for the networks of a reference pickle that are present."""
    data = read_network_pickle(path)
    found = {k: network_from_record(data[k], k) for k in keys if data.get(k) is not None}
    if not found:
        raise StyleforgeError(f"{path} holds none of {', '.join(keys)}")
    return found
