"""The whole training state in one safetensors file: G, D, G_ema, both Adam states, the path-length
mean, counters and RNG state, plus every config needed to rebuild the networks (the training config
as its `to_dict()`). Written atomically; `checkpoint.formats` also reads its networks for export."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import torch

from ..config import DiscriminatorConfig, GeneratorConfig
from ..state_dict import load_state_strict
from ..tagged import json_field, read_tagged, read_tagged_metadata, write_tagged

FORMAT = "styleforge.training-state"
VERSION = 1
WHAT = "a styleforge training checkpoint"


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


def save_training_state(path: str | os.PathLike, config, G, D, G_ema, opt_G, opt_D,
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
        "training_config": config.to_dict(), "G_config": G.config.to_dict(), "D_config": D.config.to_dict(),
        "counters": counters.__dict__, "opt_G_groups": g_groups, "opt_D_groups": d_groups,
    }
    write_tagged(path, FORMAT, VERSION, tensors, metadata)


def read_training_state(path: str | os.PathLike, networks: tuple | None = None) -> tuple[dict, dict]:
    """(metadata, tensors) of a training checkpoint, with clear errors for other files; `networks`
    (e.g. ("D",)) reads only those networks' tensors."""
    keys = None if networks is None else (lambda name: name.split(".", 1)[0] in networks)
    return read_tagged(path, FORMAT, VERSION, WHAT, keys=keys)


def read_training_metadata(path: str | os.PathLike) -> dict:
    """The metadata of a training checkpoint (its header only)."""
    return read_tagged_metadata(path, FORMAT, VERSION, WHAT)


def model_configs_of(metadata: dict) -> tuple[GeneratorConfig, DiscriminatorConfig]:
    return (GeneratorConfig.from_dict(json_field("training checkpoint", metadata, "G_config")),
            DiscriminatorConfig.from_dict(json_field("training checkpoint", metadata, "D_config")))


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
