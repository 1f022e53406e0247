"""Exact parity with NVIDIA's stylegan2-ada-pytorch on the recorded fixture (M1.7)."""

import pytest
import torch

from styleforge.checkpoint import from_reference

ATOL = 1e-4


@pytest.fixture(scope="module")
def nets(reference_fixture):
    g_state, d_state, io, config = reference_fixture
    G = from_reference(g_state, config["G_kwargs"], "G")
    D = from_reference(d_state, config["D_kwargs"], "D")
    return G, D, io


def _close(actual, expected):
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= ATOL


@torch.no_grad()
def test_mapping_matches_reference(nets):
    G, _, io = nets
    _close(G.mapping(io["z"], io["c"]), io["ws"])


@torch.no_grad()
def test_truncation_matches_reference(nets):
    G, _, io = nets
    _close(G.mapping(io["z"], psi=0.7), io["ws_psi0.7"])


@torch.no_grad()
def test_truncation_cutoff_matches_reference(nets):
    G, _, io = nets
    _close(G.mapping(io["z"], psi=0.5, cutoff=2), io["ws_psi0.5_cutoff2"])


@torch.no_grad()
@pytest.mark.parametrize("fused", [True, False])
def test_synthesis_const_noise_matches_reference(nets, fused):
    G, _, io = nets
    _close(G.synthesis(io["ws"], noise_mode="const", fused_modconv=fused), io["img_const"])


@torch.no_grad()
def test_synthesis_without_noise_matches_reference(nets):
    G, _, io = nets
    _close(G.synthesis(io["ws"], noise_mode="none"), io["img_none"])


@torch.no_grad()
def test_full_generator_with_truncation_matches_reference(nets):
    G, _, io = nets
    _close(G(io["z"], psi=0.7, noise_mode="const"), io["img_psi0.7_const"])


@torch.no_grad()
def test_style_mixing_matches_reference(nets):
    G, _, io = nets
    from styleforge.latents import mix

    ws = io["ws"]
    mixed = mix(ws, ws.roll(-1, dims=0), crossover=3)
    _close(mixed, io["ws_mixed_at3"])
    _close(G.synthesis(mixed), io["img_mixed_at3_const"])


@torch.no_grad()
def test_styles_match_reference_affine_outputs(nets):
    G, _, io = nets
    ours_to_reference = {"conv_up": "conv0", "conv": "conv1", "to_rgb": "torgb"}
    styles = G.styles(io["ws"])
    assert len(styles) == 11 and sum(s.shape[1] for s in styles) == 640
    for layer, s in zip(G.style_layers, styles):
        block, name = layer.name.split(".")
        _close(s, io[f"styles.{block}.{ours_to_reference[name]}.affine"])


@torch.no_grad()
def test_discriminator_logits_match_reference(nets):
    _, D, io = nets
    _close(D(io["reals"]), io["d_logits_real"])
    _close(D(io["img_const"]), io["d_logits_fake"])


def test_r1_input_gradients_match_reference(nets):
    _, D, io = nets
    reals = io["reals"].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(reals).sum(), reals)
    expected = io["r1_grad_sq_sum"]
    actual = grad.square().sum(dim=[1, 2, 3])
    assert (actual - expected).abs().max().item() <= ATOL * expected.abs().max().item()
