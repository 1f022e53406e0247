"""Projection of real images into W / W+ (StyleGAN2 Sec. 5, App. D; Image2StyleGAN) and attribution
of images to a generator by their projection distance (StyleGAN2 Sec. 5)."""

from .distance import ImageDistance, image_distance, pixel_distance
from .image2stylegan import Image2StyleGANSettings, image2stylegan
from .projector import (SPACES, Projection, ProjectionSettings, noise_layers, project, render_projection,
                        w_statistics)

__all__ = ["image2stylegan", "Image2StyleGANSettings", "project", "Projection", "ProjectionSettings", "SPACES", "render_projection", "noise_layers",
           "w_statistics", "image_distance", "ImageDistance", "pixel_distance"]
