"""Minibatch standard deviation (ProGAN paper, Sec. 3) and pixel-norm of latents (StyleGAN, Sec. 2)."""

import torch
from torch import nn

from ..errors import StyleforgeError


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """x / sqrt(mean(x²) + eps): the input normalization of the mapping network."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


class MinibatchStdLayer(nn.Module):
    """Appends the std of features over groups of samples as extra channels (ProGAN, Sec. 3)."""

    def __init__(self, group_size: int | None, num_channels: int = 1):
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n) if self.group_size is not None else n
        if n % g != 0:
            raise StyleforgeError(
                f"discriminator batch size {n} is not a multiple of its minibatch-stddev group "
                f"size {g}; use a batch that is")
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)  # [G, M, F, c, H, W]: members of a group are m, m+M, ...
        y = y - y.mean(dim=0)
        y = y.square().mean(dim=0)
        y = (y + 1e-8).sqrt()
        y = y.mean(dim=[2, 3, 4])  # [M, F]
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)  # [N, F, H, W]
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"
