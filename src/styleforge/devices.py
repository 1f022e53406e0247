"""Which torch devices exist here: one check, one clear line for a device this machine lacks."""

import itertools

import torch

from .errors import StyleforgeError


def check_device(device) -> torch.device:
    """`device` ('cpu', 'cuda', 'cuda:1', 'mps' or a torch.device) as a torch.device if it exists here."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise StyleforgeError(f"{device!r} is not a torch device (e.g. cpu, cuda, cuda:1)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise StyleforgeError("CUDA is not available on this machine (this torch build or driver); use cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise StyleforgeError(f"{device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise StyleforgeError("MPS is not available on this machine; use cpu")
    return device


def device_of(module) -> torch.device:
    """Where a network lives (its first parameter or buffer): the one way to ask."""
    return next(itertools.chain(module.parameters(), module.buffers())).device
