"""Bias, activation, gain and clamp in one step, as every StyleGAN2 layer applies them."""

import math

import torch
import torch.nn.functional as F

# name -> (function, default gain). Gains follow the reference: √2 for ReLU-like activations so
# that activations keep unit variance with equalized weights (StyleGAN2 paper, Appendix B).
ACTIVATIONS = {
    "linear": (lambda x: x, 1.0),
    "relu": (F.relu, math.sqrt(2)),
    "lrelu": (lambda x: F.leaky_relu(x, 0.2), math.sqrt(2)),
    "tanh": (torch.tanh, 1.0),
    "sigmoid": (torch.sigmoid, 1.0),
    "elu": (F.elu, 1.0),
    "selu": (F.selu, 1.0),
    "softplus": (F.softplus, 1.0),
    "swish": (lambda x: torch.sigmoid(x) * x, math.sqrt(2)),
}


def default_gain(activation: str) -> float:
    """Default output gain of an activation (√2 for lrelu)."""
    return ACTIVATIONS[activation][1]


def bias_act(x: torch.Tensor, b: torch.Tensor | None = None, act: str = "linear",
             gain: float | None = None, clamp: float | None = None) -> torch.Tensor:
    """y = clamp(act(x + b) · gain): bias along dim 1, then activation, gain and optional clamp."""
    if b is not None:
        x = x + b.reshape([1, -1] + [1] * (x.ndim - 2))
    function, def_gain = ACTIVATIONS[act]
    x = function(x)
    gain = def_gain if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp > 0:
        x = F.hardtanh(x, -clamp, clamp)  # = clamp; one backward kernel where autograd's clamp takes four
    elif clamp is not None and clamp == 0:
        x = x.clamp(0, 0)
    return x
