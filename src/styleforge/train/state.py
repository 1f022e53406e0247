"""The whole training state in one safetensors file: G, D, G_ema, both Adam states, the path-length
mean, counters and RNG state, plus every config needed to rebuild the networks. Written atomically."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..config import DiscriminatorConfig, GeneratorConfig
from ..errors import StyleforgeError
from ..files import atomic_path, existing_file
from ..state_dict import check_finite, load_state_strict
from ..version import __version__
from .config import TrainingConfig

FORMAT = "styleforge.training-state"
VERSION = 1


@dataclass
class Counters:
    cur_nimg: int = 0    # real images shown so far
    step: int = 0        # optimizer steps (minibatches) so far


def _optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict, list]:
    state = optimizer.state_dict()
    tensors = {}
    for index, values in state["state"].items():
        for name, value in values.items():
            tensors[f"{prefix}.{index}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous().clone()
    return tensors, state["param_groups"]


def _restore_optimizer(prefix: str, optimizer, tensors: dict, param_groups: list) -> None:
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            index, name = key[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})


def save_training_state(path: str | os.PathLike, config: TrainingConfig, G, D, G_ema, opt_G, opt_D,
                        pl_mean: torch.Tensor, counters: Counters) -> None:
    tensors = {}
    for prefix, module in (("G", G), ("D", D), ("G_ema", G_ema)):
        tensors.update({f"{prefix}.{k}": v.detach().cpu().contiguous().clone()
                        for k, v in module.state_dict().items()})
    g_opt, g_groups = _optimizer_tensors("opt_G", opt_G)
    d_opt, d_groups = _optimizer_tensors("opt_D", opt_D)
    tensors.update(g_opt)
    tensors.update(d_opt)
    tensors["pl_mean"] = pl_mean.detach().cpu().reshape(1).clone()
    tensors["rng.torch"] = torch.get_rng_state()
    metadata = {
        "format": FORMAT, "format_version": str(VERSION), "styleforge_version": __version__,
        "training_config": json.dumps(config.to_dict()),
        "G_config": json.dumps(G.config.to_dict()), "D_config": json.dumps(D.config.to_dict()),
        "counters": json.dumps(counters.__dict__),
        "opt_G_groups": json.dumps(g_groups), "opt_D_groups": json.dumps(d_groups),
    }
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def read_training_state(path: str | os.PathLike) -> tuple[dict, dict]:
    """(metadata, tensors) of a training checkpoint, with clear errors for other files."""
    path = existing_file(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            if metadata.get("format") != FORMAT:
                raise StyleforgeError(f"{path} is not a styleforge training checkpoint")
            if int(metadata.get("format_version", "0")) > VERSION:
                raise StyleforgeError(f"{path} was written by a newer styleforge; upgrade to resume it")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except StyleforgeError:
        raise
    except Exception as error:  # safetensors' own error types for corrupt or foreign files
        raise StyleforgeError(f"{path} is not a readable training checkpoint "
                              f"({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None
    check_finite(tensors, str(path))
    return metadata, tensors


def model_configs_of(metadata: dict) -> tuple[GeneratorConfig, DiscriminatorConfig]:
    return (GeneratorConfig.from_dict(json.loads(metadata["G_config"])),
            DiscriminatorConfig.from_dict(json.loads(metadata["D_config"])))


def restore_training_state(metadata: dict, tensors: dict, G, D, G_ema, opt_G, opt_D,
                           pl_mean: torch.Tensor) -> Counters:
    for prefix, module in (("G", G), ("D", D), ("G_ema", G_ema)):
        own = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
        load_state_strict(module, own, f"checkpoint {prefix}")
    _restore_optimizer("opt_G", opt_G, tensors, json.loads(metadata["opt_G_groups"]))
    _restore_optimizer("opt_D", opt_D, tensors, json.loads(metadata["opt_D_groups"]))
    pl_mean.copy_(tensors["pl_mean"].reshape(pl_mean.shape))
    torch.set_rng_state(tensors["rng.torch"])
    return Counters(**json.loads(metadata["counters"]))
