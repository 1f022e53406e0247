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


class RandomReals:
    """Stands in for RealImages: uniform random images in [-1, 1] and empty labels, on any device."""

    def __init__(self, resolution: int, channels: int = 3):
        self.shape = (channels, resolution, resolution)

    def batch(self, start: int, count: int, device):
        return torch.rand(count, *self.shape, device=device) * 2 - 1, torch.zeros(count, 0, device=device)


def training_step(config, resolution: int, device: str = "cpu"):
    """The public TrainingStep for `config`, set up as the training loop sets it up (one process)."""
    from styleforge.train.distributed import Context
    from styleforge.train.step import TrainingStep, build_networks

    G, D = build_networks(*config.model_configs(resolution, 3, 0), config.seed)
    return TrainingStep.create(config, G, D, Context(device=torch.device(device)))
