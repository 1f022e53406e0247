"""Building blocks of the StyleGAN networks: equalized layers, bias + activation, FIR resampling,
modulated convolution and minibatch standard deviation. Pure PyTorch. `fastpath` chooses how the FIR
resampling runs (depthwise conv, shifted multiply-adds, or folded into the neighbouring convolution)."""

from . import fastpath
from .bias_act import ACTIVATIONS, bias_act
from .equalized import Conv2dLayer, FullyConnectedLayer
from .fir import downsample2d, setup_filter, upfirdn2d, upsample2d
from .conv_resample import conv2d_resample
from .modconv import modulated_conv2d
from .mbstd import MinibatchStdLayer, normalize_2nd_moment

__all__ = [
    "ACTIVATIONS", "bias_act", "Conv2dLayer", "FullyConnectedLayer", "downsample2d", "setup_filter",
    "upfirdn2d", "upsample2d", "conv2d_resample", "modulated_conv2d", "MinibatchStdLayer",
    "normalize_2nd_moment", "fastpath",
]
