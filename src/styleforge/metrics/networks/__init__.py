"""Feature networks for metrics, in our own code, with weight loading (see `weights.py`)."""

from .inception import InceptionV3, load_inception
from .vgg import LPIPS, VGG16, load_lpips, load_vgg16

__all__ = ["InceptionV3", "load_inception", "VGG16", "LPIPS", "load_vgg16", "load_lpips"]
