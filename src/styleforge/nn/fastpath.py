"""How the FIR resampling runs: which implementation, and whether it is folded into the neighbouring
convolution. Every choice computes the same function (parity tests ≤ 1e-5 in fp32); they differ in
the kernels a device launches.

- fir="conv": one depthwise (groups = C) 4×4 convolution per filter. Fastest on CPU; on CUDA the
  cuDNN depthwise kernels were the main cost of a training step (issue 14's profile: 4,441 calls,
  3.7 s of 4.0 s of convolution time per paper256 step).
- fir="shift": separable passes of shifted multiply-adds (4 + 4 for [1, 3, 3, 1]); no convolution
  kernel at all, and one fused kernel under `torch.compile`.
- fold=True: a FIR next to a convolution becomes part of that convolution's kernel (StyleGAN2
  Appendix B's up/down convs): transposed conv then FIR = one transposed conv with the 6×6 composed
  kernel; FIR then strided conv = one strided conv with the composed kernel. One dense kernel instead
  of two, at 4× the FLOPs of the 3×3 resampling convs (16× for the 1×1 skips).

"auto" (the default) picks per device: CPU keeps fir="conv" without folding (measured fastest here),
CUDA folds and uses "shift" for the FIRs left alone, so that no depthwise kernel runs.
"""

import contextlib
import os
from dataclasses import dataclass

import torch

CHOICES = ("auto", "conv", "shift", "fold")  # what users name: auto, or one fixed policy


@dataclass(frozen=True)
class FastPath:
    """One resampling policy; None = decided per device (see `resolve`)."""

    fir: str | None = None
    fold: bool | None = None

    def resolve(self, device: torch.device) -> "FastPath":
        """The concrete policy on `device`."""
        cuda = device.type == "cuda"
        return FastPath(fir=self.fir or ("shift" if cuda else "conv"),
                        fold=cuda if self.fold is None else self.fold)


def _from_environment() -> FastPath:
    """STYLEFORGE_RESAMPLE=auto|conv|shift|fold sets the starting policy (e.g. to run a test suite on
    every path); unset means auto."""
    name = os.environ.get("STYLEFORGE_RESAMPLE", "auto").strip() or "auto"
    if name not in CHOICES:
        raise SystemExit(f"error: STYLEFORGE_RESAMPLE must be one of {', '.join(CHOICES)}, got {name!r}")
    return policy(name)


def policy(name: str) -> FastPath:
    """The policy a user names: auto | conv (depthwise, no folding) | shift (no folding) |
    fold (folded where a convolution is next to the FIR, shift elsewhere: no depthwise kernel)."""
    if name not in CHOICES:
        raise ValueError(f"resampling path must be one of {', '.join(CHOICES)}, got {name!r}")
    return {"auto": FastPath(), "conv": FastPath("conv", False), "shift": FastPath("shift", False),
            "fold": FastPath("shift", True)}[name]


_current = _from_environment()


def current(device: torch.device) -> FastPath:
    """The policy in force for tensors on `device`."""
    return _current.resolve(device)


def configure(path: FastPath | str) -> None:
    """Sets the policy for the whole process (e.g. `configure("fold")`)."""
    global _current
    _current = policy(path) if isinstance(path, str) else path


@contextlib.contextmanager
def use(path: FastPath | str):
    """`with use("shift"):` — the policy inside the block, restored afterwards."""
    global _current
    saved = _current
    configure(path)
    try:
        yield _current
    finally:
        _current = saved
