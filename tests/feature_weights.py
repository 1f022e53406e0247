"""Weight files in the published layouts, written by the tests (no download here): a randomly
initialized FID Inception whose batch-norm statistics come from one batch of toyfaces, so its
features on them are neither zero, constant nor huge, saved as pytorch-fid's state dict and as
stylegan2-ada-pytorch's TorchScript archive; torchvision's VGG16 state dict."""

import warnings

import numpy as np
import torch
from torch import nn

from styleforge.data import ToyFaces

from styleforge.perception.inception import NVIDIA_NAMES, InceptionV3
from styleforge.perception.vgg import VGG16


def calibrated_inception(seed: int = 0) -> InceptionV3:
    torch.manual_seed(seed)
    model = InceptionV3()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # cumulative average over the calibration batch
            module.reset_running_stats()
    model.train()
    with torch.no_grad():  # calibrated on the images the tests feed it
        data = ToyFaces(16, seed=99)
        model.features(torch.from_numpy(np.stack([data.image(i) for i in range(16)])))
    return model.eval()


def save_pytorch_fid(model: InceptionV3, path) -> None:
    """pytorch-fid's pt_inception-2015-12-05 layout: torchvision names, no num_batches_tracked."""
    torch.save({k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}, path)


class _Holder(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def save_nvidia_torchscript(model: InceptionV3, path) -> None:
    """A TorchScript archive with the tensor names of stylegan2-ada-pytorch's inception-2015-12-05.pt
    (layers.<conv>.weight/beta/mean/var, output.weight/bias; no batch-norm scale)."""
    root, state = _Holder(), model.state_dict()
    for theirs, ours in NVIDIA_NAMES.items():
        *parents, leaf = theirs.split(".")
        module = root
        for name in parents:
            if not hasattr(module, name):
                module.add_module(name, _Holder())
            module = getattr(module, name)
        module.register_parameter(leaf, nn.Parameter(state[ours].clone(), requires_grad=False))
    with warnings.catch_warnings():  # torch.jit is deprecated; NVIDIA's published file is TorchScript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(root).save(str(path))


def save_vgg16(path, seed: int = 0) -> None:
    torch.manual_seed(seed)
    torch.save(VGG16().state_dict(), path)
