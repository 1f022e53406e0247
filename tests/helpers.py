"""Small helpers shared by tests."""

import torch

import styleforge as sf


def perturbed(model, seed: int = 1):
    """Give biases, noise strengths, constants and w_avg random values so every part shows in the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or name.endswith("noise_strength"):
                p.add_(torch.randn(p.shape, generator=g) * 0.2)
        for name, b in model.named_buffers():
            if name.endswith("w_avg"):
                b.copy_(torch.randn(b.shape, generator=g))
    return model.eval()


def tiny(kind: str = "G", **overrides):
    return perturbed(sf.build("tiny", kind, **overrides))
