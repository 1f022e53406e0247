"""2-D convolution fused with FIR up/down-sampling, arranged so that the expensive convolution runs
at the lower resolution (StyleGAN2 paper, Appendix B: transposed conv for up, strided conv for down)."""

import torch
import torch.nn.functional as F

from . import fastpath
from .fir import upfirdn2d

_TAP_INDEX: dict = {}  # (kernel size, taps, device) -> gather index of the 1-D composition matrix


def _composition_1d(taps: torch.Tensor, k: int) -> torch.Tensor:
    """[k, k + t - 1] matrix C with C[i, j] = taps[j - i] (0 outside): the full 1-D convolution of a
    length-k kernel with `taps` is kernel @ C. Built by one gather, no host sync."""
    t = taps.numel()
    key = (k, t, taps.device)
    if key not in _TAP_INDEX:
        offset = torch.arange(k + t - 1).view(1, -1) - torch.arange(k).view(-1, 1)
        _TAP_INDEX[key] = torch.where((offset >= 0) & (offset < t), offset + 1, 0).to(taps.device)
    return F.pad(taps, [1, 0])[_TAP_INDEX[key]]  # index 0 is the zero in front


def fold_fir(w: torch.Tensor, taps: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """w [..., k, k] fully convolved with the separable filter outer(taps, taps)·gain: [..., k+t-1, k+t-1].
    One matmul with the Kronecker product of the two 1-D composition matrices."""
    k = w.shape[-1]
    c = _composition_1d(taps.to(w.dtype) * (gain ** 0.5), k)
    m = torch.kron(c, c)  # [k·k, (k+t-1)²], row-major over (y, x) on both sides
    size = k + taps.numel() - 1
    return (w.reshape(-1, k * k) @ m).reshape(*w.shape[:-2], size, size)


def _transposed_layout(w: torch.Tensor, groups: int) -> torch.Tensor:
    """[O, I/g, kh, kw] -> the [I, O/g, kh, kw] layout conv_transpose2d takes (per group)."""
    out_channels, in_per_group, kh, kw = w.shape
    if groups == 1:
        return w.transpose(0, 1)
    w = w.reshape(groups, out_channels // groups, in_per_group, kh, kw).transpose(1, 2)
    return w.reshape(groups * in_per_group, out_channels // groups, kh, kw)


def _crop_or_pad(x: torch.Tensor, start: int, end: int) -> torch.Tensor:
    """Removes `start`/`end` pixels from both spatial axes (negative values pad zeros)."""
    return upfirdn2d(x, None, padding=(-start, -end, -start, -end)) if start or end else x


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
    if f is not None and groups == 1 and (up > 1) != (down > 1) and fastpath.current(x.device).fold:
        return _folded(x, w, f, up, down, p0, p1, flip_weight)
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
        w = _transposed_layout(w, groups)
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


def _folded(x, w, f, up, down, p0, p1, flip_weight):
    """The FIR folded into the convolution's kernel (exact): FIR-then-strided-conv as one strided conv,
    transposed-conv-then-FIR as one transposed conv, each with the (k+t-1)² composed kernel."""
    taps = f.numel()
    if down > 1:  # correlation kernel w_c composed with the FIR's correlation taps (flipped f)
        w_c = w if flip_weight else w.flip([2, 3])
        kernel = fold_fir(w_c, f.flip(0))
        if p0 != p1 or p0 < 0:
            return F.conv2d(_crop_or_pad(x, -p0, -p1), kernel, stride=down)
        return F.conv2d(x, kernel, stride=down, padding=p0)
    w_t = _transposed_layout(w, 1)
    kernel = fold_fir(w_t.flip([2, 3]) if flip_weight else w_t, f, gain=up * up)
    kw = w.shape[3]
    start, end = (taps - 1) - (p0 - (kw - 1)), (taps - 1) - (p1 - (kw - up))  # of the full output
    if start == end and start >= 0:
        return F.conv_transpose2d(x, kernel, stride=up, padding=start)
    return _crop_or_pad(F.conv_transpose2d(x, kernel, stride=up), start, end)
