"""Data-parallel training across processes started by torchrun (NCCL on GPUs, gloo on CPU).

Gradients are summed with all_reduce after each phase (every process holds the same weights, so
this is DDP without the module wrapper, which lets the lazy regularizers run on their own schedule).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: str | None = None) -> Context:
    """Join the process group when started by torchrun; otherwise a single-process context."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    if world == 1:
        return Context(device=torch.device(device or ("cuda" if cuda else "cpu")))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Context(rank=rank, world_size=world,
                   device=torch.device(f"cuda:{local_rank}" if cuda else "cpu"))


def all_reduce_sum(tensors: list[torch.Tensor], context: Context) -> None:
    """In-place sum over processes, flattened into one call."""
    if context.world_size == 1 or not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].reshape(t.shape))
        offset += t.numel()


def broadcast_module(module: torch.nn.Module, context: Context) -> None:
    if context.world_size > 1:
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)


def barrier(context: Context) -> None:
    if context.world_size > 1:
        dist.barrier()


def teardown(context: Context) -> None:
    if context.world_size > 1 and dist.is_initialized():
        dist.destroy_process_group()
