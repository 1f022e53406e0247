"""FIR up/down-sampling (upfirdn2d) with the [1, 3, 3, 1] binomial filter
(StyleGAN2 paper, Sec. 2 and Appendix B; Zhang 2019, "Making convolutional networks shift-invariant
again"). Pure PyTorch: zero insertion, pad or crop, true convolution with the filter, decimation. The
filtering runs as a depthwise convolution or as shifted multiply-adds, as `fastpath` says."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from . import fastpath

DEFAULT_FILTER = (1, 3, 3, 1)


def setup_filter(taps: Sequence[float] = DEFAULT_FILTER) -> torch.Tensor:
    """A 1-D filter normalized to unit sum; its outer product with itself is the 2-D filter."""
    f = torch.as_tensor(list(taps), dtype=torch.float32)
    if f.ndim != 1 or f.numel() == 0:
        raise ValueError("resample filter must be a non-empty 1-D list of taps")
    return f / f.sum()


def _padding4(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1) from an int, a pair (x, y) or four values."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    padding = [int(p) for p in padding]
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    return tuple(padding)  # type: ignore[return-value]


def upfirdn2d(x: torch.Tensor, f: torch.Tensor | None, up: int = 1, down: int = 1,
              padding: int | Sequence[int] = 0, gain: float = 1.0) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative = crop), convolve with the separable FIR filter, decimate.

    x: [N, C, H, W]; f: 1-D separable filter, 2-D filter (e.g. StyleGAN3's radial ones) or None
    (identity); padding (x0, x1, y0, y1); gain multiplies the whole 2-D response.
    """
    px0, px1, py0, py1 = _padding4(padding)
    n, c, h, w = x.shape
    if up > 1:  # zero insertion: [N, C, H, 1, W, 1] -> [N, C, H·up, W·up]
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    if f is None:
        return x[:, :, ::down, ::down] if down > 1 else x
    if f.ndim == 2:  # a non-separable filter: one depthwise pass
        kernel = (f.to(x.dtype).flip([0, 1]) * gain).view(1, 1, *f.shape)
        return F.conv2d(x, kernel.repeat(c, 1, 1, 1), stride=down, groups=c)
    taps = f.to(x.dtype).flip(0)  # flip: true convolution
    if fastpath.current(x.device).fir == "shift":
        return _filter_shift(x, taps, down, gain)
    if taps.numel() < 8:  # one 2-D depthwise pass (3× faster on CPU than two 1-D passes for 4 taps)
        kernel = (torch.outer(taps, taps) * gain).view(1, 1, taps.numel(), taps.numel())
        return F.conv2d(x, kernel.repeat(c, 1, 1, 1), stride=down, groups=c)
    taps = taps * (gain ** 0.5)  # long filters: two 1-D passes, the gain split over the axes
    x = F.conv2d(x, taps.view(1, 1, 1, -1).repeat(c, 1, 1, 1), stride=(1, down), groups=c)
    return F.conv2d(x, taps.view(1, 1, -1, 1).repeat(c, 1, 1, 1), stride=(down, 1), groups=c)


def _filter_shift(x: torch.Tensor, taps: torch.Tensor, down: int, gain: float) -> torch.Tensor:
    """The separable filter as shifted multiply-adds, rows then columns, decimating as it goes:
    elementwise kernels only (one fused kernel under torch.compile). taps: correlation order."""
    for dim, scale in ((2, gain), (3, 1.0)):
        length = (x.shape[dim] - taps.numel()) // down + 1
        span = down * (length - 1) + 1
        weights = taps * scale if scale != 1 else taps
        out = None
        for t in range(taps.numel()):
            shifted = x.narrow(dim, t, span)
            if down > 1:
                shifted = shifted[:, :, ::down] if dim == 2 else shifted[:, :, :, ::down]
            out = shifted * weights[t] if out is None else torch.addcmul(out, shifted, weights[t])
        x = out
    return x


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2, padding: int = 0) -> torch.Tensor:
    """2× FIR upsampling that keeps the image aligned (output H·up)."""
    taps = f.numel()
    p = [padding + (taps + up - 1) // 2, padding + (taps - up) // 2]
    return upfirdn2d(x, f, up=up, padding=(p[0], p[1], p[0], p[1]), gain=up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2, padding: int = 0) -> torch.Tensor:
    """2× FIR downsampling that keeps the image aligned (output H/down)."""
    taps = f.numel()
    p = [padding + (taps - down + 1) // 2, padding + (taps - down) // 2]
    return upfirdn2d(x, f, down=down, padding=(p[0], p[1], p[0], p[1]))
