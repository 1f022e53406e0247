"""A restricted unpickler for NVIDIA's network pickles (PyTorch and TensorFlow layouts): the data in
them, and never any code.

What such files need, and all they get:
- `torch_utils.persistence._reconstruct_persistent_obj(meta)` (stylegan2-ada-pytorch, stylegan3): kept
  as a `PersistentRecord`; the `module_src` text stored with it is kept as text, never compiled.
- `dnnlib.tflib.network.Network` (TensorFlow StyleGAN / StyleGAN2): its `__setstate__` dict is kept as
  a `TFNetworkRecord`; `build_module_src` is kept as text, never compiled.
- tensors: `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter`, each storage a nested legacy
  `torch.save` blob read by `torch.load(weights_only=True)`.
- numpy: `dtype`, `scalar` and `ndarray` reconstruction of plain (non-object) arrays only, under the
  numpy 1.x (`numpy.core`) and ≥ 2 (`numpy._core`) module names.
- `dnnlib.util.EasyDict` (a dict), `collections.OrderedDict`, `builtins.set` / `frozenset`, `torch.Size`.
Every other global is refused by its full name before anything is called.
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import StyleforgeError, first_line


@dataclass
class PersistentRecord:
    """What `torch_utils.persistence._reconstruct_persistent_obj(meta)` would rebuild, as data."""

    class_name: str                 # bare ('Generator') in real files; qualified in some forks
    state: dict                     # the module's __dict__: _parameters, _buffers, _modules, ...
    module_src: str = ""            # source text of the defining module (never executed)
    version: int | None = None

    @property
    def short_name(self) -> str:
        return self.class_name.rsplit(".", 1)[-1]

    def child(self, name: str):
        """The sub-module record `name`, or None."""
        child = (self.state.get("_modules") or {}).get(name)
        return child if isinstance(child, PersistentRecord) else None

    def children(self) -> dict:
        return {k: v for k, v in (self.state.get("_modules") or {}).items() if isinstance(v, PersistentRecord)}

    def walk(self, prefix: str = ""):
        """(qualified name, record) for this record and every descendant, depth first."""
        yield prefix, self
        for name, child in self.children().items():
            yield from child.walk(f"{prefix}.{name}" if prefix else name)


@dataclass
class TFNetworkRecord:
    """The pickled state of a `dnnlib.tflib.network.Network` (TensorFlow StyleGAN / StyleGAN2)."""

    state: dict = field(default_factory=dict)

    def __setstate__(self, state) -> None:
        if not isinstance(state, dict):
            raise StyleforgeError("refusing to load: a TensorFlow network entry has no dict state")
        self.state = dict(state)

    @property
    def name(self) -> str:
        return str(self.state.get("name"))

    @property
    def build_func_name(self) -> str:
        return str(self.state.get("build_func_name"))

    @property
    def static_kwargs(self) -> dict:
        return dict(self.state.get("static_kwargs") or {})

    @property
    def components(self) -> dict:
        return {k: v for k, v in (self.state.get("components") or {}).items()}

    @property
    def variables(self) -> list:
        return list(self.state.get("variables") or [])


class _EasyDict(dict):
    """Stand-in for dnnlib.util.EasyDict: a plain dict."""


def _reconstruct_persistent_obj(meta) -> PersistentRecord:
    if not isinstance(meta, dict) or meta.get("type") != "class":
        kind = meta.get("type") if isinstance(meta, dict) else type(meta).__name__
        raise StyleforgeError(f"refusing to load: persistent object of type {kind!r} (only 'class' "
                              "records of networks are read)")
    state = meta.get("state")
    if not isinstance(state, dict):
        raise StyleforgeError(f"persistent object {meta.get('class_name')!r} has no dict state")
    source = meta.get("module_src")
    return PersistentRecord(class_name=str(meta.get("class_name")), state=dict(state),
                            module_src=source if isinstance(source, str) else "",
                            version=meta.get("version"))


def _load_storage_from_bytes(data: bytes):
    if not isinstance(data, (bytes, bytearray)):
        raise StyleforgeError("refusing to load: a tensor storage is not stored as bytes")
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def _checked_dtype(dtype, what: str) -> np.dtype:
    if not isinstance(dtype, np.dtype):
        raise StyleforgeError(f"refusing to load: {what} without a numpy dtype")
    if dtype.hasobject:
        raise StyleforgeError(f"refusing to load: {what} of Python objects (dtype {dtype}); only plain "
                              "numeric arrays are read")
    return dtype


def _numpy_scalar(dtype, data=None):
    """numpy's `scalar(dtype, bytes)` for plain dtypes only."""
    dtype = _checked_dtype(dtype, "a numpy scalar")
    if not isinstance(data, (bytes, bytearray)) or len(data) != dtype.itemsize:
        raise StyleforgeError("refusing to load: a numpy scalar without its raw bytes")
    return np.frombuffer(bytes(data), dtype=dtype)[0]


class _NdarrayToken:
    """What the global `numpy.ndarray` resolves to: a marker for `_reconstruct`, not callable."""


class PlainArray:
    """An ndarray being rebuilt: `_reconstruct(ndarray, ...)` makes one, BUILD's state fills it."""

    def __init__(self):
        self.array: np.ndarray | None = None

    def __setstate__(self, state) -> None:
        if not isinstance(state, tuple) or len(state) != 5:
            raise StyleforgeError("refusing to load: unexpected numpy array state")
        _version, shape, dtype, fortran, raw = state
        dtype = _checked_dtype(dtype, "a numpy array")
        if not isinstance(raw, (bytes, bytearray)):
            raise StyleforgeError("refusing to load: numpy array data is not raw bytes")
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise StyleforgeError("refusing to load: numpy array with an invalid shape")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if count * dtype.itemsize != len(raw):
            raise StyleforgeError("refusing to load: numpy array data does not match its shape")
        flat = np.frombuffer(bytes(raw), dtype=dtype, count=count)
        self.array = flat.reshape(shape, order="F" if fortran else "C").copy()


def _numpy_reconstruct(cls, shape=(0,), code=b"b"):
    if cls is not _NdarrayToken:
        raise StyleforgeError(f"refusing to load: numpy reconstruction of {cls!r} (only ndarray)")
    return PlainArray()


_NUMPY_CORES = ("numpy.core.multiarray", "numpy._core.multiarray")
_ALLOWED = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("dnnlib.tflib.network", "Network"): TFNetworkRecord,
    ("dnnlib.util", "EasyDict"): _EasyDict,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch.storage", "_load_from_bytes"): _load_storage_from_bytes,
    ("torch", "Size"): torch.Size,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): _NdarrayToken,
    **{(core, "scalar"): _numpy_scalar for core in _NUMPY_CORES},
    **{(core, "_reconstruct"): _numpy_reconstruct for core in _NUMPY_CORES},
}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the allow-listed globals; anything else is refused by name before it can run."""

    def find_class(self, module: str, name: str):
        allowed = _ALLOWED.get((module, name))
        if allowed is None:
            raise StyleforgeError(f"refusing to load: the pickle asks for {module}.{name}, which is not "
                                  "part of a StyleGAN network pickle (nothing was executed)")
        return allowed

    def persistent_load(self, pid):
        raise StyleforgeError("refusing to load: unexpected persistent id in network pickle")


def _materialize(value):
    """PlainArray → ndarray everywhere in the loaded structure (records included)."""
    if isinstance(value, PlainArray):
        if value.array is None:
            raise StyleforgeError("refusing to load: a numpy array without data")
        return value.array
    if isinstance(value, PersistentRecord):
        value.state = _materialize(value.state)
        return value
    if isinstance(value, TFNetworkRecord):
        value.state = _materialize(value.state)
        return value
    if isinstance(value, dict):
        for key in list(value):
            value[key] = _materialize(value[key])
        return value
    if isinstance(value, list):
        value[:] = [_materialize(v) for v in value]
        return value
    if isinstance(value, tuple):
        return tuple(_materialize(v) for v in value)
    return value


def read_pickle(path):
    """The object stored in an NVIDIA network pickle, read with `RestrictedUnpickler`."""
    try:
        with open(path, "rb") as f:
            data = RestrictedUnpickler(f).load()
    except StyleforgeError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, RuntimeError, MemoryError, RecursionError) as error:
        raise StyleforgeError(f"{path} is not a readable network pickle ({first_line(error)})") from None
    return _materialize(data)


def plain(value):
    """EasyDicts → dicts, numpy scalars → Python numbers, recursively (for constructor kwargs)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


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
