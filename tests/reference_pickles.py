"""Writes network pickles with the exact structure of stylegan2-ada-pytorch's, for tests only.

A throwaway `torch_utils.persistence` (and `dnnlib.util`) package is written to a temporary folder,
imported just long enough to pickle, then removed from sys.path and sys.modules, so the importer
under test must read the file without it.
"""

import collections
import importlib
import pickle
import sys
from pathlib import Path

import numpy as np
import torch

PERSISTENCE_SRC = '''
def _reconstruct_persistent_obj(meta):
    raise RuntimeError("this stand-in only writes test files")


class Persistent:
    def __init__(self, meta):
        self.meta = meta

    def __reduce__(self):
        return (_reconstruct_persistent_obj, (self.meta,))
'''
EASYDICT_SRC = "class EasyDict(dict):\n    pass\n"
BUFFER_NAMES = ("noise_const", "w_avg", "resample_filter")


def _module_tree(state: dict) -> dict:
    tree: dict = {}
    for key, value in state.items():
        *path, name = key.split(".")
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[name] = value
    return tree


def _record(persistence, class_name: str, tree: dict, marker: Path, init_kwargs=None):
    params, buffers, modules = collections.OrderedDict(), collections.OrderedDict(), collections.OrderedDict()
    for name, value in tree.items():
        if isinstance(value, dict):
            modules[name] = _record(persistence, "training.networks.Layer", value, marker)
        elif name in BUFFER_NAMES:
            buffers[name] = value.clone()
        else:
            params[name] = torch.nn.Parameter(value.clone(), requires_grad=False)
    state = {"training": False, "_parameters": params, "_buffers": buffers, "_modules": modules,
             "_init_args": (), "_init_kwargs": init_kwargs if init_kwargs is not None else {},
             "w_avg_beta": np.float64(0.995), "dtype": np.dtype("float32"),
             "_non_persistent_buffers_set": set()}
    # If anything ever executed module_src, the marker file would appear.
    source = f"open({str(marker)!r}, 'w').write('executed')\n"
    return persistence.Persistent({"type": "class", "version": 6, "module_src": source,
                                   "class_name": class_name, "state": state})


def write_reference_pickle(path: Path, networks: dict, workdir: Path, marker: Path) -> None:
    """networks: {'G': (state, kwargs), 'D': (...), 'G_ema': (...)} in the reference layout."""
    package = workdir / "refpkgs"
    (package / "torch_utils").mkdir(parents=True, exist_ok=True)
    (package / "dnnlib").mkdir(parents=True, exist_ok=True)
    (package / "torch_utils" / "__init__.py").write_text("")
    (package / "torch_utils" / "persistence.py").write_text(PERSISTENCE_SRC)
    (package / "dnnlib" / "__init__.py").write_text("")
    (package / "dnnlib" / "util.py").write_text(EASYDICT_SRC)
    sys.path.insert(0, str(package))
    try:
        persistence = importlib.import_module("torch_utils.persistence")
        util = importlib.import_module("dnnlib.util")
        data = {"augment_pipe": None,
                "training_set_kwargs": util.EasyDict(path="ffhq.zip", resolution=np.int64(32))}
        for key, (state, kwargs) in networks.items():
            kind = "Discriminator" if key == "D" else "Generator"
            data[key] = _record(persistence, f"training.networks.{kind}", _module_tree(state), marker,
                                util.EasyDict(kwargs))
        with open(path, "wb") as f:
            pickle.dump(data, f)
    finally:
        sys.path.remove(str(package))
        for name in list(sys.modules):
            if name.split(".")[0] in ("torch_utils", "dnnlib"):
                del sys.modules[name]
