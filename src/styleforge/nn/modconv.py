"""Modulated convolution with weight demodulation (StyleGAN2 paper, Sec. 2.2, Eqs. 1–3)."""

import torch

from .conv_resample import conv2d_resample


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor,
                     noise: torch.Tensor | None = None, up: int = 1, padding: int = 0,
                     resample_filter: torch.Tensor | None = None, demodulate: bool = True,
                     flip_weight: bool = True, fused: bool = True) -> torch.Tensor:
    """w'_ijk = s_i·w_ijk (Eq. 1), w''_ijk = w'_ijk / sqrt(Σ w'² + 1e-8) (Eq. 3), then conv; + noise.

    x: [N, I, H, W]; weight: [O, I, kh, kw]; styles: [N, I]; noise broadcastable to the output.
    fused=True runs one grouped conv with per-sample weights; fused=False scales activations
    instead (same result, cheaper weight gradients for training).
    """
    batch = x.shape[0]
    out_channels, in_channels, kh, kw = weight.shape
    if x.dtype == torch.float16 and demodulate:  # pre-normalize to avoid fp16 overflow
        weight = weight * (1 / (in_channels * kh * kw) ** 0.5
                           / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)

    dcoefs = None
    if demodulate:  # Σ_i,k (s_i·w_oik)² = Σ_i s_i²·(Σ_k w_oik²): one [N, I] × [I, O] matmul, no [N, O, I, k, k]
        dcoefs = (styles.square() @ weight.square().sum(dim=[2, 3]).t() + 1e-8).rsqrt()  # [N, O]

    if not fused:
        x = x * styles.to(x.dtype).reshape(batch, -1, 1, 1)
        x = conv2d_resample(x, weight.to(x.dtype), f=resample_filter, up=up, padding=padding,
                            flip_weight=flip_weight)
        if demodulate and noise is not None:  # one kernel for x·d + noise
            return torch.addcmul(noise.to(x.dtype), x, dcoefs.to(x.dtype).reshape(batch, -1, 1, 1))
        if demodulate:
            x = x * dcoefs.to(x.dtype).reshape(batch, -1, 1, 1)
        if noise is not None:
            x = x + noise.to(x.dtype)
        return x

    w = weight.unsqueeze(0) * styles.reshape(batch, 1, -1, 1, 1)  # [N, O, I, kh, kw]
    if demodulate:
        w = w * dcoefs.reshape(batch, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])  # [1, N·I, H, W]
    w = w.reshape(-1, in_channels, kh, kw)  # [N·O, I, kh, kw]
    x = conv2d_resample(x, w.to(x.dtype), f=resample_filter, up=up, padding=padding, groups=batch,
                        flip_weight=flip_weight)
    x = x.reshape(batch, -1, *x.shape[2:])
    if noise is not None:
        x = x + noise.to(x.dtype)
    return x
