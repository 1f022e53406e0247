"""Mapping network Z→W (StyleGAN paper, Sec. 2) with the truncation trick in W (Sec. 3.3 / Eq. 3)."""

import torch
from torch import nn

from ..errors import StyleforgeError
from ..latents import check_labels, truncate
from ..nn import FullyConnectedLayer, normalize_2nd_moment


class MappingNetwork(nn.Module):
    """z → w: normalize z's 2nd moment, concat the normalized label embedding, 8 FC layers (lr×0.01)."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int | None, num_layers: int = 8,
                 embed_features: int | None = None, layer_features: int | None = None,
                 activation: str = "lrelu", lr_multiplier: float = 0.01,
                 w_avg_beta: float | None = 0.995):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.w_avg_beta = w_avg_beta
        embed_features = w_dim if embed_features is None else embed_features
        embed_features = embed_features if c_dim > 0 else 0
        layer_features = w_dim if layer_features is None else layer_features
        widths = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        self.embed = FullyConnectedLayer(c_dim, embed_features) if c_dim > 0 else None
        self.layers = nn.ModuleList(
            FullyConnectedLayer(widths[i], widths[i + 1], activation=activation,
                                lr_multiplier=lr_multiplier)
            for i in range(num_layers))
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z: torch.Tensor | None, c: torch.Tensor | None = None, psi: float = 1.0,
                cutoff: int | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] (or w [N, w_dim] when num_ws is None), truncated toward w_avg."""
        batch = z.shape[0] if z is not None else c.shape[0]
        x = None
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                shape = None if z is None else list(z.shape)
                raise StyleforgeError(f"z must have shape [N, {self.z_dim}], got {shape}")
            x = normalize_2nd_moment(z.to(torch.float32))
        c = check_labels(c, self.c_dim, batch, "this model")
        if self.embed is not None:
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        for layer in self.layers:
            x = layer(x)
        if self.num_ws is None:
            return x
        ws = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        return self.truncate(ws, psi, cutoff) if psi != 1 else ws

    def truncate(self, ws: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
        """w' = w_avg + ψ·(w − w_avg) on W+ rows [0, cutoff) (all rows when cutoff is None)."""
        return truncate(ws, self.w_avg, psi, cutoff)

    @torch.no_grad()
    def track_w_avg(self, w: torch.Tensor) -> None:
        """w_avg ← lerp(mean(w), w_avg, β): the running average used as the truncation centre."""
        w = w[:, 0] if w.ndim == 3 else w
        self.w_avg.copy_(w.detach().mean(0).lerp(self.w_avg, self.w_avg_beta))
