"""Z / W / W+ / S conversions, truncation, mixing, interpolation and seeds (M3)."""

import numpy as np
import pytest
import torch

from styleforge import latents
from styleforge.errors import StyleforgeError

from helpers import tiny


def test_seed_syntax_like_the_reference_tools():
    assert latents.parse_seeds("0-7,12") == [0, 1, 2, 3, 4, 5, 6, 7, 12]
    assert latents.parse_seeds(" 3 ") == [3]
    for bad in ["", "a", "3-1", "1,,2", "-5", "1-x"]:
        with pytest.raises(StyleforgeError):
            latents.parse_seeds(bad)


def test_z_from_seed_matches_numpy_randomstate():
    z = latents.z_from_seeds([42, 7], 512)
    assert z.shape == (2, 512) and z.dtype == torch.float32
    expected = np.random.RandomState(42).randn(512).astype(np.float32)
    assert np.array_equal(z[0].numpy(), expected)


@torch.no_grad()
def test_truncation_psi_zero_gives_the_same_image_for_every_z():
    G = tiny("G")
    images = G(torch.randn(4, G.z_dim), psi=0.0)
    assert torch.allclose(images, images[:1].expand_as(images), atol=1e-6)
    assert not torch.allclose(G(torch.randn(2, G.z_dim)), G(torch.randn(2, G.z_dim)))


@torch.no_grad()
def test_truncation_function_equals_mapping_truncation():
    G = tiny("G")
    z = torch.randn(3, G.z_dim)
    ws = G.mapping(z)
    assert torch.allclose(latents.truncate(ws, G.w_avg, 0.6, cutoff=2), G.mapping(z, psi=0.6, cutoff=2))
    assert torch.equal(latents.truncate(ws, G.w_avg, 0.6, cutoff=2)[:, 2:], ws[:, 2:])
    with pytest.raises(StyleforgeError, match="beyond"):
        G.mapping(z, psi=0.5, cutoff=G.num_ws + 1)


@torch.no_grad()
def test_image_from_styles_equals_image_from_ws():
    G = tiny("G", architecture="resnet", c_dim=2)
    ws = G.mapping(torch.randn(3, G.z_dim), torch.eye(2)[[0, 1, 1]])
    styles = G.styles(ws)
    assert [s.shape[1] for s in styles] == [layer.channels for layer in G.style_layers]
    assert torch.equal(G.synthesis(ws), G.synthesis_from_styles(styles))
    # Editing one S channel changes the image (S is a real entry point, not a copy of ws).
    styles[2] = styles[2].clone()
    styles[2][:, 0] += 5
    assert not torch.allclose(G.synthesis(ws), G.synthesis_from_styles(styles))


def test_style_vector_round_trip():
    G = tiny("G")
    sizes = latents.space_sizes(G)
    styles = G.styles(G.mapping(torch.randn(2, G.z_dim)))
    vector = latents.styles_to_vector(styles)
    assert vector.shape == (2, sizes.s_dim)
    assert all(torch.equal(a, b) for a, b in zip(latents.vector_to_styles(vector, sizes), styles))


def test_w_to_ws_matches_mapping_broadcast():
    G = tiny("G")
    ws = G.mapping(torch.randn(2, G.z_dim))
    assert torch.equal(latents.w_to_ws(ws[:, 0], G.num_ws), ws)


def test_mixing_by_crossover_and_by_mask():
    a, b = torch.zeros(2, 6, 4), torch.ones(2, 6, 4)
    mixed = latents.mix(a, b, crossover=2)
    assert mixed[:, :2].eq(0).all() and mixed[:, 2:].eq(1).all()
    masked = latents.mix(a, b, mask=[1, 4])
    assert masked[:, [1, 4]].eq(1).all() and masked[:, [0, 2, 3, 5]].eq(0).all()
    with pytest.raises(StyleforgeError):
        latents.mix(a, b, crossover=7)
    with pytest.raises(StyleforgeError):
        latents.mix(a, b, mask=[6])


def test_rows_for_resolutions():
    G = tiny("G", resolution=32)
    assert latents.rows_for_resolutions(G, 4, 8) == [0, 1, 2, 3]
    assert latents.rows_for_resolutions(G, 32, 32)[-1] == G.num_ws - 1


def test_lerp_and_slerp():
    a, b = torch.randn(5, 8), torch.randn(5, 8)
    assert torch.allclose(latents.lerp(a, b, 0.25), 0.75 * a + 0.25 * b)
    assert torch.allclose(latents.slerp(a, b, 0.0), a, atol=1e-5)
    assert torch.allclose(latents.slerp(a, b, 1.0), b, atol=1e-5)
    mid = latents.slerp(a, b, 0.5)
    expected_norm = (a.norm(dim=1) + b.norm(dim=1)) / 2
    assert torch.allclose(mid.norm(dim=1), expected_norm, atol=1e-4)
    # The direction is halfway in angle between both ends.
    cos = torch.nn.functional.cosine_similarity
    assert torch.allclose(cos(mid, a), cos(mid, b), atol=1e-4)


def test_one_hot_labels():
    c = latents.one_hot(2, 4, 3)
    assert c.shape == (3, 4) and c[:, 2].eq(1).all() and c.sum() == 3
    with pytest.raises(StyleforgeError, match="unconditional"):
        latents.one_hot(1, 0, 2)
    with pytest.raises(StyleforgeError, match="conditional"):
        latents.one_hot(None, 4, 2)
    with pytest.raises(StyleforgeError, match="0..3"):
        latents.one_hot(4, 4, 2)
