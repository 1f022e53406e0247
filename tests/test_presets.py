"""Presets as data, with parameter counts equal to the reference (M1.6)."""

import pytest
import torch

import styleforge as sf
from styleforge.config import PRESETS
from styleforge.latents import space_sizes


def _params(model):
    return sum(p.numel() for p in model.parameters())


def test_config_f_parameter_counts_equal_the_reference():
    assert _params(sf.build("stylegan2", "G", resolution=1024)) == 30_370_060
    assert _params(sf.build("stylegan2", "D", resolution=1024)) == 29_012_513


def test_config_f_latent_space_sizes():
    sizes = space_sizes(sf.build("stylegan2", "G"))
    assert (sizes.num_ws, sizes.w_dim) == (18, 512)
    assert sizes.s_dim == 9088
    assert (len(sizes.s_channels), sizes.num_conv_layers, sizes.num_torgb_layers) == (26, 17, 9)


@pytest.mark.parametrize("preset", ["tiny", "small"])
def test_small_presets_build_and_run(preset):
    G, D = sf.build(preset, "G", resolution=16), sf.build(preset, "D", resolution=16)
    img = G(torch.randn(4, G.z_dim))
    assert img.shape == (4, 3, 16, 16)
    assert D(img).shape == (4, 1)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_builds_a_generator_and_discriminator(preset):
    G = sf.build(preset, "G", resolution=16)
    D = sf.build(preset, "D", resolution=16)
    assert G.img_resolution == D.img_resolution == 16


def test_overrides_and_unknown_names():
    G = sf.build("tiny", "G", resolution=32, c_dim=5, channels=1)
    assert (G.img_resolution, G.c_dim, G.img_channels) == (32, 5, 1)
    with pytest.raises(sf.StyleforgeError, match="unknown GeneratorConfig field"):
        sf.build("tiny", "G", colour=3)
    with pytest.raises(sf.StyleforgeError, match="unknown preset"):
        sf.build("nope", "G")
    with pytest.raises(sf.StyleforgeError, match="power of two"):
        sf.build("tiny", "G", resolution=48)
