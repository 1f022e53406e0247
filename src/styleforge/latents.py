"""Latent spaces Z, W, W+ and S as explicit data: sampling, mapping, truncation, style mixing,
interpolation and sizes (StyleGAN paper Sec. 2–3; StyleSpace, Wu et al. 2021, Sec. 3).

Shapes: z [N, z_dim]; w [N, w_dim]; ws (W+) [N, num_ws, w_dim]; styles (S) a list with one
[N, C_l] tensor per modulated layer in synthesis order (ToRGB layers included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import StyleforgeError
from .seeds import MAX_LIST_LENGTH, parse_int_list, parse_seeds  # noqa: F401 (part of this API)


# ---------------------------------------------------------------------------------------------
# Seeds and labels

def z_from_seeds(seeds: list[int], z_dim: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """z [N, z_dim] with z[i] = RandomState(seeds[i]).randn(z_dim): the same z as the reference tools."""
    z = np.stack([np.random.RandomState(seed).randn(z_dim) for seed in seeds])
    return torch.from_numpy(z).to(device=device, dtype=torch.float32)


def check_labels(c: torch.Tensor | None, c_dim: int, batch: int, who: str = "this model") -> torch.Tensor | None:
    """Class labels validated against a model's c_dim (the one place this rule lives); None for an
    unconditional model."""
    if c_dim == 0:
        if c is not None and c.numel() > 0:
            raise StyleforgeError(f"{who} is unconditional (c_dim=0) but class labels were given")
        return None
    if c is None:
        raise StyleforgeError(f"{who} is conditional (c_dim={c_dim}): class labels are required")
    if c.ndim != 2 or c.shape[1] != c_dim or c.shape[0] != batch:
        raise StyleforgeError(f"{who} expects labels of shape [{batch}, {c_dim}], got {list(c.shape)}")
    return c


def one_hot(class_index: int | None, c_dim: int, batch: int, device: str | torch.device = "cpu",
            option: str = "a class") -> torch.Tensor | None:
    """Labels [batch, c_dim] for one class (None for an unconditional model); `option` names the
    class in messages (e.g. '--class' on the command line)."""
    if c_dim == 0:
        if class_index is not None:
            raise StyleforgeError(f"{option} given, but this model is unconditional")
        return None
    if class_index is None:
        raise StyleforgeError(f"this model is conditional ({c_dim} classes): give {option} (0..{c_dim - 1})")
    if not 0 <= class_index < c_dim:
        raise StyleforgeError(f"{option} must be in 0..{c_dim - 1}, got {class_index}")
    c = torch.zeros([batch, c_dim], device=device)
    c[:, class_index] = 1
    return c


# ---------------------------------------------------------------------------------------------
# W and W+

def w_to_ws(w: torch.Tensor, num_ws: int) -> torch.Tensor:
    """W [N, w_dim] → W+ [N, num_ws, w_dim] (the same w on every layer)."""
    return w.unsqueeze(1).repeat([1, num_ws, 1])


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """Truncation trick in W: w' = w_avg + ψ(w − w_avg) on W+ rows [0, cutoff) (StyleGAN Eq. 3)."""
    if ws.ndim == 2:
        return w_avg.lerp(ws, psi)
    num_ws = ws.shape[1]
    cutoff = num_ws if cutoff is None else cutoff
    if not 0 <= cutoff <= num_ws:
        raise StyleforgeError(f"truncation cutoff {cutoff} is beyond the {num_ws} W+ layers of this model "
                              f"(use 0..{num_ws})")
    if cutoff == num_ws:
        return w_avg.lerp(ws, psi)
    return torch.cat([w_avg.lerp(ws[:, :cutoff], psi), ws[:, cutoff:]], dim=1)


def crossover_mask(num_ws: int, crossover: int) -> torch.Tensor:
    """Bool [num_ws]: True for the rows taken from the second latent (rows ≥ crossover)."""
    if not 0 <= crossover <= num_ws:
        raise StyleforgeError(f"crossover {crossover} is outside 0..{num_ws}")
    return torch.arange(num_ws) >= crossover


def layers_mask(num_ws: int, layers: list[int]) -> torch.Tensor:
    """Bool [num_ws]: True for the listed W+ rows."""
    bad = [i for i in layers if not 0 <= i < num_ws]
    if bad:
        raise StyleforgeError(f"W+ layer {bad[0]} is outside 0..{num_ws - 1}")
    mask = torch.zeros(num_ws, dtype=torch.bool)
    mask[list(layers)] = True
    return mask


def mix(ws_a: torch.Tensor, ws_b: torch.Tensor, crossover: int | None = None,
        mask: torch.Tensor | list[int] | None = None) -> torch.Tensor:
    """Style mixing (StyleGAN Sec. 3.1): rows from ws_b where the mask is True, else from ws_a.

    Give either `crossover` (rows ≥ crossover from b) or `mask` (a bool [num_ws] mask or a list of rows).
    """
    if ws_a.shape != ws_b.shape:
        raise StyleforgeError(f"cannot mix W+ of shapes {list(ws_a.shape)} and {list(ws_b.shape)}")
    num_ws = ws_a.shape[1]
    if (crossover is None) == (mask is None):
        raise StyleforgeError("give exactly one of crossover or mask")
    if crossover is not None:
        mask = crossover_mask(num_ws, crossover)
    elif not isinstance(mask, torch.Tensor):
        mask = layers_mask(num_ws, list(mask))
    mask = mask.to(ws_a.device).reshape(1, num_ws, 1)
    return torch.where(mask, ws_b, ws_a)


def rows_for_resolutions(G, lo: int, hi: int) -> list[int]:
    """W+ rows of the layers whose output resolution is in [lo, hi] (coarse 4–8, middle 16–32, fine 64+)."""
    return sorted({layer.w_index for layer in G.style_layers if lo <= layer.resolution <= hi})


LAYER_GROUPS = {"coarse": (4, 8), "middle": (16, 32), "fine": (64, 1 << 30)}  # resolutions, StyleGAN Sec. 3.1


def layer_groups(G) -> dict[str, list[int]]:
    """{'coarse': W+ rows of the 4–8 px layers, 'middle': 16–32 px, 'fine': 64+ px} — the groups this
    model has (StyleGAN Sec. 3.1: pose / features / colour)."""
    groups = {name: rows_for_resolutions(G, lo, hi) for name, (lo, hi) in LAYER_GROUPS.items()}
    return {name: rows for name, rows in groups.items() if rows}


# ---------------------------------------------------------------------------------------------
# Interpolation

def lerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Linear interpolation: for W, W+ and S (StyleGAN Sec. 4.2: PPL in W uses lerp)."""
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the last axis (for Z): directions on the great circle, norms lerped."""
    norm_a, norm_b = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    ua, ub = a / norm_a.clamp_min(eps), b / norm_b.clamp_min(eps)
    cos = (ua * ub).sum(dim=-1, keepdim=True).clamp(-1 + eps, 1 - eps)
    angle = torch.acos(cos)
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device)
    direction = (torch.sin((1 - t) * angle) * ua + torch.sin(t * angle) * ub) / torch.sin(angle)
    return direction * lerp(norm_a, norm_b, t)


# ---------------------------------------------------------------------------------------------
# Sizes of the spaces

@dataclass(frozen=True)
class SpaceSizes:
    """Dimensions of Z, W, W+ and S for one generator."""

    z_dim: int
    w_dim: int
    num_ws: int               # W+ rows
    s_channels: tuple         # S channels per modulated layer, synthesis order
    num_conv_layers: int
    num_torgb_layers: int

    @property
    def s_dim(self) -> int:
        """Total S channels (9088 for config F at 1024)."""
        return sum(self.s_channels)

    @property
    def ws_dim(self) -> int:
        return self.num_ws * self.w_dim


def space_sizes(G) -> SpaceSizes:
    """The sizes of every latent space of a generator."""
    layers = G.style_layers
    return SpaceSizes(
        z_dim=G.z_dim, w_dim=G.w_dim, num_ws=G.num_ws,
        s_channels=tuple(layer.channels for layer in layers),
        num_conv_layers=sum(layer.kind == "conv" for layer in layers),
        num_torgb_layers=sum(layer.kind == "to_rgb" for layer in layers))


def styles_to_vector(styles: list[torch.Tensor]) -> torch.Tensor:
    """S as a list → one flat [N, s_dim] tensor (for analysis); inverse of `vector_to_styles`."""
    return torch.cat(styles, dim=1)


def vector_to_styles(vector: torch.Tensor, sizes: SpaceSizes) -> list[torch.Tensor]:
    """A flat [N, s_dim] tensor → S as a list of [N, C_l] tensors."""
    if vector.ndim != 2 or vector.shape[1] != sizes.s_dim:
        raise StyleforgeError(f"S vector must be [N, {sizes.s_dim}], got {list(vector.shape)}")
    return list(torch.split(vector, list(sizes.s_channels), dim=1))
