"""NVIDIA network pickles → our networks, without executing anything stored in them.

Two layouts (both read by `safe_pickle.read_pickle`):
- PyTorch (stylegan2-ada-pytorch, stylegan3): a dict `G, D, G_ema, augment_pipe, training_set_kwargs`,
  each network a `torch_utils.persistence` record (bare class name, module source, module state). The
  family is identified from data (`reference_families`), every constructor argument the pickle leaves
  out is filled from that family's defaults and the layers' own attributes, then the weights load via
  `from_reference`.
- TensorFlow (StyleGAN2): a tuple `(G, D, Gs)` of `dnnlib.tflib.network.Network` states, converted by
  `tf_pickle` (Gs → our G_ema).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import StyleforgeError
from ..models.mapping import MappingNetwork
from .reference import from_reference
from .reference_families import (SG3_ALIAS_FREE, Identity, discriminator_kwargs, generator_kwargs,
                                 identify)
from .safe_pickle import PersistentRecord, TFNetworkRecord, flatten_state, plain, read_pickle
from ..state_dict import load_state_strict
from .reference_sg3 import alias_free_generator
from .tf_pickle import describe_tf_pickle, tf_network

NETWORK_KEYS = ("G", "D", "G_ema")
TF_KEYS = {"G": 0, "D": 1, "G_ema": 2}


@dataclass
class NetworkPickle:
    """A read network pickle: its layout ('pytorch' or 'tensorflow') and its entries as data."""

    path: str
    layout: str
    entries: dict           # {key: PersistentRecord | TFNetworkRecord} for the keys present

    @property
    def keys(self) -> list[str]:
        return [k for k in NETWORK_KEYS if self.entries.get(k) is not None]


def read_network_pickle(path) -> NetworkPickle:
    """Read a PyTorch or TensorFlow network pickle as data (nothing in it is executed)."""
    data = read_pickle(path)
    if isinstance(data, tuple) and len(data) == 3 and all(isinstance(n, TFNetworkRecord) for n in data):
        return NetworkPickle(str(path), "tensorflow", {k: data[i] for k, i in TF_KEYS.items()})
    if isinstance(data, dict) and any(isinstance(data.get(k), PersistentRecord) for k in NETWORK_KEYS):
        return NetworkPickle(str(path), "pytorch", {k: data[k] for k in NETWORK_KEYS if data.get(k) is not None})
    raise StyleforgeError(f"{path} is a pickle but not a network pickle (neither a dict with G / D / G_ema "
                          "networks nor a TensorFlow (G, D, Gs) tuple)")


def _pytorch_network(pkl: NetworkPickle, key: str):
    record = pkl.entries[key]
    identity = identify(record, key)
    if record.short_name == "Discriminator":
        return from_reference(flatten_state(record), discriminator_kwargs(record, identity, key), "D")
    if identity.family == SG3_ALIAS_FREE:
        return alias_free_generator(record, key)
    return from_reference(flatten_state(record), generator_kwargs(record, identity, key), "G")


def network_from_pickle(pkl: NetworkPickle, key: str):
    """Our G or D for entry `key` (G, D or G_ema) of a read pickle; only that entry is converted."""
    if key not in NETWORK_KEYS:
        raise StyleforgeError(f"network key must be one of {', '.join(NETWORK_KEYS)}, got {key!r}")
    if key not in pkl.entries:
        raise StyleforgeError(f"{pkl.path} has no network {key!r}; it has {', '.join(pkl.keys) or 'none'}")
    if pkl.layout == "tensorflow":
        return tf_network(pkl.entries[key], key)
    return _pytorch_network(pkl, key)


def load_network_pickle(path, keys=NETWORK_KEYS) -> dict:
    """{key: our network} for the requested networks of a reference pickle that are present."""
    pkl = read_network_pickle(path)
    found = {k: network_from_pickle(pkl, k) for k in keys if k in pkl.entries}
    if not found:
        raise StyleforgeError(f"{path} holds none of {', '.join(keys)}")
    return found


def describe_pickle(path) -> dict:
    """{layout, networks: {key: description}} without converting anything (for `inspect`)."""
    pkl = read_network_pickle(path)
    if pkl.layout == "tensorflow":
        return {"layout": "tensorflow", "networks": describe_tf_pickle(pkl.entries)}
    described = {}
    for key in pkl.keys:
        record = pkl.entries[key]
        try:
            identity: Identity = identify(record, key)
            described[key] = f"{record.short_name}: {identity.description}"
        except StyleforgeError as error:
            described[key] = f"not readable: {error}"
    return {"layout": "pytorch", "networks": described}


def load_mapping(path, network_key: str = "G_ema") -> MappingNetwork:
    """The mapping network Z→W+ of a generator in a PyTorch network pickle, alias-free ones included."""
    pkl = read_network_pickle(path)
    if pkl.layout != "pytorch":
        raise StyleforgeError(f"{path}: load_mapping reads PyTorch network pickles; load the whole "
                              "generator of a TensorFlow pickle with load()")
    if network_key not in ("G", "G_ema") or network_key not in pkl.entries:
        raise StyleforgeError(f"{path} has no generator {network_key!r}")
    generator = pkl.entries[network_key]
    identify(generator, network_key)
    record = generator.child("mapping")
    if record is None or record.short_name != "MappingNetwork":
        raise StyleforgeError(f"generator {network_key!r} has no mapping network")
    attrs = {k: plain(record.state.get(k)) for k in ("z_dim", "c_dim", "w_dim", "num_ws", "num_layers",
                                                    "w_avg_beta")}
    state = flatten_state(record)
    fc0 = record.child("fc0")
    if fc0 is None or attrs["num_layers"] is None:
        raise StyleforgeError(f"the mapping network of {network_key!r} has no layers")
    lr_multiplier = float(plain(fc0.state.get("bias_gain", 0.01)))
    activation = str(plain(fc0.state.get("activation", "lrelu")))
    embed = state.get("embed.weight")
    mapping = MappingNetwork(
        attrs["z_dim"], attrs["c_dim"], attrs["w_dim"], attrs["num_ws"], num_layers=attrs["num_layers"],
        embed_features=embed.shape[0] if embed is not None else None,
        layer_features=state["fc0.weight"].shape[0] if attrs["num_layers"] > 1 else None,
        activation=activation, lr_multiplier=lr_multiplier, w_avg_beta=attrs["w_avg_beta"])
    renamed = {("layers." + k[2:] if k.startswith("fc") else k): v for k, v in state.items()}
    load_state_strict(mapping, renamed, f"{path} mapping")
    return mapping.eval()
