"""The reference's mixed-precision policy (Karras et al. 2020, StyleGAN2-ADA, Appendix D): the
`num_fp16_res` highest-resolution blocks of G and D compute in fp16 (bf16 as an option) with
`conv_clamp` bounding their activations; lower blocks, the mapping network, the image sums of the
skip generator and the discriminator's epilogue stay fp32. fp32 everywhere (the default) is exact."""

import math

import torch

from ..devices import device_of
from ..errors import StyleforgeError
from ..names import INFERENCE_PRECISIONS

LOW_PRECISION_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}
FP32_ONLY_FAMILIES = ("stylegan1", "stylegan3")  # their blocks have no low-precision path here


def lowest_low_precision_resolution(img_resolution: int, num_fp16_res: int) -> int | None:
    """The smallest block resolution that runs in low precision: max(2^(log2 R + 1 − n), 8) as in the
    reference; None when num_fp16_res is 0."""
    if num_fp16_res <= 0:
        return None
    return max(2 ** (int(math.log2(img_resolution)) + 1 - num_fp16_res), 8)


def _blocks(network) -> tuple[list, object]:
    """(resolution blocks, config) of a Generator or a Discriminator."""
    if hasattr(network, "synthesis"):
        return network.synthesis.blocks(), network.config
    return network.blocks(), network.config


def set_mixed_precision(*networks, dtype: torch.dtype | None) -> list[int]:
    """Runs the low-precision blocks of each network (G or D) in `dtype` (fp16 / bf16), or every block in
    fp32 with None. Returns the block resolutions switched in any of them, highest first."""
    switched = set()
    for network in networks:
        blocks, config = _blocks(network)
        lowest = lowest_low_precision_resolution(config.img_resolution, config.num_fp16_res)
        for block in blocks:
            low = dtype is not None and lowest is not None and block.resolution >= lowest
            if low and config.family in FP32_ONLY_FAMILIES:
                raise StyleforgeError(f"mixed precision is not available for {config.family} models "
                                      "(they run in fp32 here)")
            block.compute_dtype = dtype if low else torch.float32
            if low:
                switched.add(block.resolution)
    return sorted(switched, reverse=True)


def compute_dtypes(network) -> dict[int, torch.dtype]:
    """{block resolution: dtype it computes in}."""
    blocks, _ = _blocks(network)
    return {block.resolution: getattr(block, "compute_dtype", torch.float32) for block in blocks}


def apply_precision(network, precision: str = "auto") -> list[int]:
    """Inference precision of a loaded network: "auto" follows the model's own num_fp16_res on CUDA (as
    the reference runs its pickles) and fp32 elsewhere; "fp32" is exact; "mixed" / "mixed-bf16" switch
    the num_fp16_res highest blocks to fp16 / bf16. Returns the resolutions switched."""
    if precision not in INFERENCE_PRECISIONS:
        raise StyleforgeError(f"precision must be one of {', '.join(INFERENCE_PRECISIONS)}, got {precision!r}")
    on_cuda = device_of(network).type == "cuda"
    if precision == "fp32" or (precision == "auto" and not on_cuda):
        return set_mixed_precision(network, dtype=None)
    if precision == "auto" and network.config.family in FP32_ONLY_FAMILIES:
        return []
    return set_mixed_precision(network, dtype=LOW_PRECISION_DTYPES["bf16" if precision == "mixed-bf16" else "fp16"])
