"""Feature networks in our own code (Inception-v3 for FID/KID/IS, VGG16 for precision/recall and
LPIPS), with weight lookup, cache and download (see `weights.py`); used by metrics, projection
and analysis."""

from .inception import InceptionV3, load_inception
from .vgg import LPIPS, VGG16, load_lpips, load_vgg16

__all__ = ["InceptionV3", "load_inception", "VGG16", "LPIPS", "load_vgg16", "load_lpips"]
