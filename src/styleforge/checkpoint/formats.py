"""Every model file format in one place: detection, `load` of any of them, and the exporters.

Formats: `styleforge` (native safetensors), `training-checkpoint` (our training state: G, D, G_ema),
`reference-pickle` (stylegan2-ada-pytorch / stylegan3 network pickle, TensorFlow StyleGAN2 pickle),
`rosinality` (torch.save checkpoint of rosinality/stylegan2-pytorch) and `reference-export`
(safetensors with the reference's key names + constructor kwargs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import zipfile
from pathlib import Path

import torch

from . import native, training_state
from ..devices import check_device
from ..errors import StyleforgeError
from ..files import atomic_path, existing_file, write_failure
from ..models import Generator, build_from_config
from ..state_dict import load_state_strict
from ..tagged import json_field, read_header, read_tagged, read_tagged_metadata, write_tagged
from .reference import from_reference, to_reference
from .reference_sg3 import alias_free_from_reference, alias_free_to_reference
from .remote import resolve_model
from .reference_pickle import NETWORK_KEYS, load_network_pickle, network_from_pickle, read_network_pickle
from .rosinality import (discriminator_from_rosinality, discriminator_to_rosinality,
                         generator_from_rosinality, generator_to_rosinality, rosinality_args)

FORMATS = ("styleforge", "training-checkpoint", "reference-pickle", "rosinality", "reference-export")
REFERENCE_EXPORT_FORMAT = "stylegan2-ada-pytorch.state_dict"
REFERENCE_EXPORT_VERSION = 1
# torch.save's legacy (non-zip) files start with this pickled magic number.
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
_PICKLE_PROTOCOLS = range(2, 6)  # a pickle of protocol 2+ opens with PROTO (0x80) and its number


def detect_format(path: str | os.PathLike) -> str:
    """One of FORMATS, from what each format guarantees about its bytes (never from the name):
    safetensors first (a little-endian header length, then a JSON object that fits), then torch's zip
    or legacy magic, then a pickle's PROTO opcode. A URL or release name is fetched (cached) first."""
    path = existing_file(resolve_model(path))
    header = read_header(path)
    if header is not None:
        tag = header.metadata.get("format")
        if tag == REFERENCE_EXPORT_FORMAT:
            return "reference-export"
        if tag == training_state.FORMAT:
            return "training-checkpoint"
        return "styleforge"  # native.read_metadata gives the precise error for other safetensors
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(b"PK\x03\x04") and zipfile.is_zipfile(path):
        return "rosinality"
    if head.startswith(_LEGACY_TORCH_MAGIC):
        return "rosinality"
    if len(head) >= 2 and head[0] == 0x80 and head[1] in _PICKLE_PROTOCOLS:
        return "reference-pickle"
    raise StyleforgeError(f"{path}: unknown file format (not a styleforge model, network pickle or "
                          "rosinality checkpoint)")


def _torch_load_reason(error: Exception) -> str:
    """One line for a failed weights-only torch.load: the refused global by name, without PyTorch's
    advice to switch the protection off."""
    text = str(error)
    refused = re.search(r"GLOBAL ([\w.]+)", text)
    if refused:
        return (f"it asks for {refused.group(1)}, which is not part of a checkpoint's data "
                "(refused; nothing was executed)")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _load_torch_checkpoint(path) -> dict:
    """torch.load with weights_only=True, allowing argparse.Namespace (rosinality's `args`)."""
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError / RuntimeError variants
        raise StyleforgeError(f"{path} could not be read safely as a torch checkpoint: "
                              f"{_torch_load_reason(error)}") from None
    if not isinstance(data, dict):
        raise StyleforgeError(f"{path} is a torch file but not a checkpoint dict")
    return data


def _rosinality_networks(path) -> dict:
    data = _load_torch_checkpoint(path)
    networks = {}
    latent_avg = data.get("latent_avg")
    for ours, theirs in (("G_ema", "g_ema"), ("G", "g")):
        if isinstance(data.get(theirs), dict):
            networks[ours] = generator_from_rosinality(data[theirs], latent_avg)
    if isinstance(data.get("d"), dict):
        networks["D"] = discriminator_from_rosinality(data["d"])
    if not networks:
        raise StyleforgeError(f"{path} has none of the rosinality keys g_ema, g, d")
    return networks


def _reference_export(path) -> dict:
    metadata, state = read_tagged(path, REFERENCE_EXPORT_FORMAT, REFERENCE_EXPORT_VERSION, "a reference export")
    kind = metadata.get("kind")
    if kind not in ("G", "D"):
        raise StyleforgeError(f"{path}: reference export without a valid kind (G or D) in its metadata")
    kwargs = json_field(path, metadata, "init_kwargs")
    if not isinstance(kwargs, dict):
        raise StyleforgeError(f"{path}: the constructor kwargs in its metadata are not a JSON object")
    if metadata.get("family") == "stylegan3":
        return {kind: alias_free_from_reference(state, kwargs)}
    return {kind: from_reference(state, kwargs, kind)}


def _training_networks(path, keys=NETWORK_KEYS) -> dict:
    """{key: network} for the requested networks (G, D, G_ema) of one of our training checkpoints;
    only their tensors are read."""
    metadata, tensors = training_state.read_training_state(path, networks=tuple(keys))
    G_config, D_config = training_state.model_configs_of(metadata)
    networks = {}
    for key in keys:
        network = build_from_config(D_config if key == "D" else G_config)
        own = {name[len(key) + 1:]: value for name, value in tensors.items() if name.startswith(key + ".")}
        load_state_strict(network, own, f"{path} {key}")
        networks[key] = network.eval()
    return networks


def load_networks(path: str | os.PathLike) -> dict:
    """{key: network} for every network in a file: 'G' or 'D' for single-network files,
    'G', 'D', 'G_ema' (those present) for reference pickles and rosinality checkpoints."""
    path = resolve_model(path)
    fmt = detect_format(path)
    if fmt == "styleforge":
        model = native.load(path)
        return {model.config.kind: model}
    if fmt == "reference-pickle":
        return load_network_pickle(path)
    if fmt == "training-checkpoint":
        return _training_networks(path)
    if fmt == "rosinality":
        return _rosinality_networks(path)
    return _reference_export(path)


def network_keys(path: str | os.PathLike) -> list[str]:
    """The networks a file holds ('G', 'D', 'G_ema', or the one kind of a single-network file),
    listed without converting any of them."""
    path = resolve_model(path)
    fmt = detect_format(path)
    if fmt == "reference-pickle":
        return read_network_pickle(path).keys
    if fmt == "rosinality":
        data = _load_torch_checkpoint(path)
        return [ours for ours, theirs in (("G", "g"), ("D", "d"), ("G_ema", "g_ema"))
                if isinstance(data.get(theirs), dict)]
    if fmt == "styleforge":
        return [native.read_metadata(path)["kind"]]
    if fmt == "training-checkpoint":
        training_state.read_training_metadata(path)
        return list(NETWORK_KEYS)
    return [read_tagged_metadata(path, REFERENCE_EXPORT_FORMAT, REFERENCE_EXPORT_VERSION, "a reference export")
            .get("kind")]


def load(path: str | os.PathLike, network_key: str | None = None, device: str | torch.device = "cpu"):
    """Load a G or D from any supported file; from files with several networks, `network_key`
    picks one (default: G_ema, then G)."""
    if network_key is not None and network_key not in NETWORK_KEYS:
        raise StyleforgeError(f"network_key must be one of {', '.join(NETWORK_KEYS)}, got {network_key!r}")
    device = check_device(device)
    path = resolve_model(path)
    fmt = detect_format(path)
    if fmt == "reference-pickle":  # convert only the network asked for
        pkl = read_network_pickle(path)
        key = network_key or next(k for k in ("G_ema", "G", "D") if k in pkl.entries)
        return network_from_pickle(pkl, key).to(device).eval()
    if fmt == "training-checkpoint":  # read only the network asked for
        return _training_networks(path, (network_key or "G_ema",))[network_key or "G_ema"].to(device)
    networks = load_networks(path)
    if network_key is None:
        network_key = next((k for k in ("G_ema", "G", "D") if k in networks))
    if network_key not in networks:
        raise StyleforgeError(f"{path} has no network {network_key!r}; it has {', '.join(networks)}")
    return networks[network_key].to(device).eval()


# ---------------------------------------------------------------------------------- exporters

def reference_sidecar(path: str | os.PathLike) -> Path:
    """The JSON file `export_reference` writes beside the weights."""
    return Path(path).with_suffix(".json")


def export_reference(model, path: str | os.PathLike) -> Path:
    """Write the reference's state-dict layout: `path` (safetensors, reference key names, kwargs in
    its metadata) and `path` with suffix .json ({"kind", "init_kwargs", "init_kwargs_stylegan3"}), so
    that `from_reference(state, kwargs, kind)` — or the reference's own constructor: `Generator(**init_kwargs)`
    in stylegan2-ada-pytorch, `Generator(**init_kwargs_stylegan3)` in stylegan3 — rebuilds it. An
    alias-free G is written in stylegan3's `networks_stylegan3` layout ({"kind", "family", "init_kwargs"})."""
    path = Path(path)
    if reference_sidecar(path) == path:
        raise StyleforgeError(f"{path}: the reference export writes its kwargs to <name>.json beside the "
                              "weights; give the weights file another suffix (e.g. .safetensors)")
    if model.config.family == "stylegan3":  # stylegan3's networks_stylegan3 layout
        state, kwargs = alias_free_to_reference(model)
        sidecar = {"kind": "G", "family": "stylegan3", "init_kwargs": kwargs}
    else:
        state, kwargs = to_reference(model)
        sidecar = {"kind": model.config.kind, "init_kwargs": kwargs, "init_kwargs_stylegan3": stylegan3_kwargs(kwargs)}
    write_tagged(path, REFERENCE_EXPORT_FORMAT, REFERENCE_EXPORT_VERSION, state,
                 {k: v for k, v in sidecar.items() if k != "init_kwargs_stylegan3"})
    with atomic_path(reference_sidecar(path)) as tmp:
        tmp.write_text(json.dumps(sidecar, indent=2))
    return path


def stylegan3_kwargs(kwargs: dict) -> dict:
    """The reference kwargs as stylegan3's `training/networks_stylegan2.py` takes them: its Generator
    takes the synthesis settings flat (`**synthesis_kwargs`), not as one `synthesis_kwargs` dict."""
    flat = {k: v for k, v in kwargs.items() if k != "synthesis_kwargs"}
    flat.update(kwargs.get("synthesis_kwargs") or {})
    return flat


def export_rosinality(path: str | os.PathLike, G=None, D=None, drop_clamp: bool = False, G_train=None) -> Path:
    """Write a rosinality checkpoint: `g_ema` (from G) + `latent_avg` + `args` for G, `g` for the
    training generator G_train (what their train.py --ckpt continues from), `d` for D (drop_clamp: see
    `generator_to_rosinality`). Only plain types: a default `torch.load` opens it."""
    if G is None and D is None and G_train is None:
        raise StyleforgeError("nothing to export")
    checkpoint = {}
    for name, generator in (("g_ema", G), ("g", G_train)):
        if generator is None:
            continue
        if not isinstance(generator, Generator):
            raise StyleforgeError(f"export_rosinality: {name} must be a generator")
        checkpoint[name] = generator_to_rosinality(generator, drop_clamp)
    if G is not None:
        checkpoint.update(latent_avg=G.w_avg.detach().cpu().clone(), args=rosinality_args(G))
    if D is not None:
        checkpoint["d"] = discriminator_to_rosinality(D, drop_clamp)
    path = Path(path)
    with atomic_path(path) as tmp:
        try:
            torch.save(checkpoint, tmp)
        except RuntimeError as error:  # torch reports a failed write (e.g. a full disk) as RuntimeError
            raise write_failure(path, error) from None
    return path
