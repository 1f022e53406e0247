"""Feature networks for metrics, in our own code, with weight loading (see `weights.py`)."""

from .vgg import LPIPS, VGG16, load_lpips, load_vgg16

__all__ = ["VGG16", "LPIPS", "load_vgg16", "load_lpips"]
