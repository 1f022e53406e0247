"""2-D convolution fused with FIR up/down-sampling, arranged so that the expensive convolution runs
at the lower resolution (StyleGAN2 paper, Appendix B: transposed conv for up, strided conv for down)."""

import torch
import torch.nn.functional as F

from .fir import upfirdn2d


def _conv(x, w, stride=1, padding=0, groups=1, transpose=False, flip_weight=True):
    """conv2d computes correlation; flip_weight=False flips the kernel to compute true convolution."""
    if not flip_weight and (w.shape[2] > 1 or w.shape[3] > 1):
        w = w.flip([2, 3])
    if transpose:
        return F.conv_transpose2d(x, w, stride=stride, padding=padding, groups=groups)
    return F.conv2d(x, w, stride=stride, padding=padding, groups=groups)


def conv2d_resample(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor | None = None, up: int = 1,
                    down: int = 1, padding: int = 0, groups: int = 1,
                    flip_weight: bool = True) -> torch.Tensor:
    """Conv of x [N, I, H, W] with w [O, I/groups, kh, kw], with FIR up (×up) or down (÷down) sampling."""
    out_channels, in_per_group, kh, kw = w.shape
    taps = f.numel() if f is not None else 1
    p0 = p1 = padding
    if up > 1:
        p0 += (taps + up - 1) // 2
        p1 += (taps - up) // 2
    if down > 1:
        p0 += (taps - down + 1) // 2
        p1 += (taps - down) // 2
    if kh == 1 and kw == 1 and down > 1 and up == 1:
        x = upfirdn2d(x, f, down=down, padding=(p0, p1, p0, p1))
        return _conv(x, w, groups=groups, flip_weight=flip_weight)
    if kh == 1 and kw == 1 and up > 1 and down == 1:
        x = _conv(x, w, groups=groups, flip_weight=flip_weight)
        return upfirdn2d(x, f, up=up, padding=(p0, p1, p0, p1), gain=up * up)
    if down > 1 and up == 1:
        x = upfirdn2d(x, f, padding=(p0, p1, p0, p1))
        return _conv(x, w, stride=down, groups=groups, flip_weight=flip_weight)
    if up > 1:
        # Transposed convolution: swap in/out channels (per group), then FIR-filter the result.
        if groups == 1:
            w = w.transpose(0, 1)
        else:
            w = w.reshape(groups, out_channels // groups, in_per_group, kh, kw).transpose(1, 2)
            w = w.reshape(groups * in_per_group, out_channels // groups, kh, kw)
        q0, q1 = p0 - (kw - 1), p1 - (kw - up)
        crop = max(min(-q0, -q1), 0)
        x = _conv(x, w, stride=up, padding=crop, groups=groups, transpose=True, flip_weight=not flip_weight)
        x = upfirdn2d(x, f, padding=(q0 + crop, q1 + crop, q0 + crop, q1 + crop), gain=up * up)
        if down > 1:
            x = upfirdn2d(x, f, down=down)
        return x
    if p0 == p1 and p0 >= 0:
        return _conv(x, w, padding=p0, groups=groups, flip_weight=flip_weight)
    x = upfirdn2d(x, None, padding=(p0, p1, p0, p1))
    x = _conv(x, w, groups=groups, flip_weight=flip_weight)
    return upfirdn2d(x, f, down=down) if down > 1 else x
