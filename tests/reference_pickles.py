"""Writes network pickles in the real layout of NVIDIA's code, for the cases the real files in
tests/fixtures/nvidia-pickles do not cover (a module source that must never run, hostile payloads).

Throwaway `torch_utils.persistence`, `dnnlib.util` and `dnnlib.tflib.network` modules are put in
sys.modules just long enough to pickle, then removed, so the importer under test must read the files
without them. Records carry bare class names (`'Generator'`, `'SynthesisLayer'`, ...) as
`torch_utils.persistence` writes them.
"""

import collections
import contextlib
import pickle
import re
import sys
import types
from pathlib import Path

import numpy as np
import torch

BUFFER_NAMES = ("noise_const", "w_avg", "resample_filter")
PLACEHOLDER = b"# module source omitted in this fixture\n"


def _reconstruct_persistent_obj(meta):
    raise RuntimeError("this stand-in only writes test files")


class Persistent:
    """What torch_utils.persistence pickles: `_reconstruct_persistent_obj(meta)`."""

    def __init__(self, meta):
        self.meta = meta

    def __reduce__(self):
        return (_reconstruct_persistent_obj, (self.meta,))


class EasyDict(dict):
    pass


class Network:
    """What dnnlib.tflib.network.Network pickles: the class, then its state dict."""

    def __init__(self, state):
        self._state = state

    def __getstate__(self):
        return self._state


@contextlib.contextmanager
def nvidia_modules():
    """Registers the stand-in modules under NVIDIA's module names while pickling."""
    made = {}
    for name, members in {"torch_utils.persistence": (_reconstruct_persistent_obj, Persistent),
                          "dnnlib.util": (EasyDict,), "dnnlib.tflib.network": (Network,)}.items():
        module = types.ModuleType(name)
        for member in members:
            setattr(module, member.__name__, member)
            member.__module__ = name
        made[name] = module
    for parent in ("torch_utils", "dnnlib", "dnnlib.tflib"):
        made[parent] = types.ModuleType(parent)
    sys.modules.update(made)
    try:
        yield
    finally:
        for name in made:
            sys.modules.pop(name, None)


def _class_name(path: str, kind: str) -> str:
    """The class NVIDIA's code uses for the module at `path` of a G or D."""
    leaf = path.rsplit(".", 1)[-1]
    if kind == "G":
        if leaf == "mapping":
            return "MappingNetwork"
        if leaf == "synthesis":
            return "SynthesisNetwork"
        if re.fullmatch(r"b\d+", leaf):
            return "SynthesisBlock"
        if leaf in ("conv0", "conv1"):
            return "SynthesisLayer"
        if leaf == "torgb":
            return "ToRGBLayer"
        return "Conv2dLayer" if leaf == "skip" else "FullyConnectedLayer"
    if leaf == "b4":
        return "DiscriminatorEpilogue"
    if re.fullmatch(r"b\d+", leaf):
        return "DiscriminatorBlock"
    if leaf == "mapping":
        return "MappingNetwork"
    return "FullyConnectedLayer" if leaf in ("fc", "out", "embed") or leaf.startswith("fc") else "Conv2dLayer"


def _module_tree(state: dict) -> dict:
    tree: dict = {}
    for key, value in state.items():
        *path, name = key.split(".")
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[name] = value
    return tree


def _record(class_name: str, tree: dict, kind: str, source: str, path: str = "", init_kwargs=None):
    params, buffers, modules = collections.OrderedDict(), collections.OrderedDict(), collections.OrderedDict()
    for name, value in tree.items():
        if isinstance(value, dict):
            child = f"{path}.{name}" if path else name
            modules[name] = _record(_class_name(child, kind), value, kind, source, child)
        elif name in BUFFER_NAMES:
            buffers[name] = value.clone()
        else:
            params[name] = torch.nn.Parameter(value.clone(), requires_grad=False)
    state = {"training": False, "_parameters": params, "_buffers": buffers, "_modules": modules,
             "_init_args": (), "_init_kwargs": EasyDict(init_kwargs or {}),
             "dtype": np.dtype("float32"), "_non_persistent_buffers_set": set()}
    return Persistent({"type": "class", "version": 6, "module_src": source,
                       "class_name": class_name, "state": state})


def write_reference_pickle(path: Path, networks: dict, marker: Path, source: str | None = None) -> None:
    """networks: {'G': (state, kwargs), 'D': (...), 'G_ema': (...)} in stylegan2-ada-pytorch's key
    layout. The module source, by default, would write `marker` if anything ever executed it."""
    source = source if source is not None else f"open({str(marker)!r}, 'w').write('executed')\n"
    data = {"augment_pipe": None}
    with nvidia_modules():
        data["training_set_kwargs"] = EasyDict(path="ffhq.zip", resolution=np.int64(32))
        for key, (state, kwargs) in networks.items():
            kind = "D" if key == "D" else "G"
            record = _record("Discriminator" if kind == "D" else "Generator", _module_tree(state), kind,
                             source, init_kwargs=kwargs)
            if kind == "D":  # the parameter-free minibatch-stddev layer is a record of its own
                epilogue = (kwargs or {}).get("epilogue_kwargs") or {}
                mbstd = _record("MinibatchStdLayer", {}, kind, source)
                mbstd.meta["state"].update(group_size=epilogue.get("mbstd_group_size", 4),
                                           num_channels=epilogue.get("mbstd_num_channels", 1))
                record.meta["state"]["_modules"]["b4"].meta["state"]["_modules"]["mbstd"] = mbstd
            data[key] = record
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=3)


def write_tf_pickle(path: Path, networks) -> None:
    """A TensorFlow-layout pickle: a tuple of dnnlib.tflib.network.Network states (dicts whose
    `components` values are states too)."""
    def build(state):
        state = dict(state)
        state["components"] = {k: build(v) for k, v in (state.get("components") or {}).items()}
        return Network(state)

    with nvidia_modules():
        data = tuple(build(state) for state in networks)
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=4)


def with_module_source(pickle_bytes: bytes, source: str) -> bytes:
    """A protocol-3 fixture pickle with its placeholder module source replaced by `source`."""
    encoded = source.encode()
    old = b"X" + len(PLACEHOLDER).to_bytes(4, "little") + PLACEHOLDER
    new = b"X" + len(encoded).to_bytes(4, "little") + encoded
    assert pickle_bytes.count(old) >= 1
    return pickle_bytes.replace(old, new)
