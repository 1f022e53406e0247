"""Every architecture × conditional/unconditional: forward, backward, fused path, reference layout."""

import pytest
import torch

from styleforge.checkpoint import from_reference, to_reference
from styleforge.config import ARCHITECTURES
from styleforge.errors import StyleforgeError

from helpers import tiny


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("c_dim", [0, 3])
def test_generator_architectures(architecture, c_dim):
    G = tiny("G", architecture=architecture, c_dim=c_dim)
    z = torch.randn(4, G.z_dim)
    c = torch.eye(3)[[0, 1, 2, 0]] if c_dim else None
    img = G(z, c)
    assert img.shape == (4, 3, 16, 16) and torch.isfinite(img).all()
    # Labels change the image of a conditional model.
    if c_dim:
        assert not torch.allclose(img, G(z, torch.eye(3)[[1, 2, 0, 1]]))
    # Fused (grouped) and non-fused modulated conv give the same numbers.
    ws = G.mapping(z, c)
    assert torch.allclose(G.synthesis(ws, fused_modconv=True), G.synthesis(ws, fused_modconv=False),
                          atol=1e-5)
    # Gradients reach every parameter.
    G.train()
    G(z, c, noise_mode="random").square().mean().backward()
    assert all(p.grad is not None for p in G.parameters())


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("c_dim", [0, 3])
def test_discriminator_architectures(architecture, c_dim):
    D = tiny("D", architecture=architecture, c_dim=c_dim)
    img = torch.randn(4, 3, 16, 16)
    c = torch.eye(3)[[0, 1, 2, 0]] if c_dim else None
    logits = D(img, c)
    assert logits.shape == (4, 1) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(p.grad is not None for p in D.parameters())


@pytest.mark.parametrize("kind", ["G", "D"])
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("c_dim", [0, 3])
def test_reference_layout_round_trip(kind, architecture, c_dim):
    """to_reference → from_reference rebuilds the same network (keys, kwargs and outputs)."""
    model = tiny(kind, architecture=architecture, c_dim=c_dim)
    state, kwargs = to_reference(model)
    assert all("." in k for k in state)
    if kind == "G":
        assert any(k.startswith("mapping.fc0.") for k in state)
        assert any(k.startswith("synthesis.b16.torgb.") for k in state)
    else:
        assert "b4.out.weight" in state and "b16.conv1.weight" in state
    rebuilt = from_reference(state, kwargs, kind)
    torch.manual_seed(5)
    if kind == "G":
        z = torch.randn(2, model.z_dim)
        c = torch.eye(3)[:2] if c_dim else None
        assert torch.equal(model(z, c), rebuilt(z, c))
    else:
        img = torch.randn(2, 3, 16, 16)
        c = torch.eye(3)[:2] if c_dim else None
        assert torch.equal(model(img, c), rebuilt(img, c))


@pytest.mark.parametrize("resolution", [4, 8, 32])
def test_generator_resolutions_and_grayscale(resolution):
    G = tiny("G", resolution=resolution, channels=1)
    assert G(torch.randn(2, G.z_dim)).shape == (2, 1, resolution, resolution)
    state, kwargs = to_reference(G)
    assert kwargs["img_resolution"] == resolution
    assert torch.equal(from_reference(state, kwargs, "G")(torch.zeros(1, G.z_dim)),
                       G(torch.zeros(1, G.z_dim)))


def test_from_reference_reads_nested_reference_kwargs():
    kwargs = {"z_dim": 16, "c_dim": 2, "w_dim": 24, "img_resolution": 8, "img_channels": 3,
              "mapping_kwargs": {"num_layers": 3},
              "synthesis_kwargs": {"channel_base": 128, "channel_max": 16, "num_fp16_res": 2,
                                   "conv_clamp": 256, "architecture": "resnet",
                                   "fp16_channels_last": False}}
    G = tiny("G")  # any model, only used to make a matching reference state dict below
    from styleforge.checkpoint.reference import config_from_reference_kwargs
    from styleforge.models import build_from_config

    config = config_from_reference_kwargs(kwargs, "G")
    assert (config.mapping_layers, config.w_dim, config.architecture, config.conv_clamp) == (3, 24, "resnet", 256)
    state, _ = to_reference(build_from_config(config))
    G = from_reference(state, kwargs, "G")
    assert G.num_ws == 4 and G.c_dim == 2
    d_kwargs = {"c_dim": 0, "img_resolution": 8, "img_channels": 1, "architecture": "skip",
                "channel_base": 64, "channel_max": 8,
                "epilogue_kwargs": {"mbstd_group_size": 2, "mbstd_num_channels": 2}}
    d_state, _ = to_reference(build_from_config(config_from_reference_kwargs(d_kwargs, "D")))
    D = from_reference(d_state, d_kwargs, "D")
    assert D(torch.randn(4, 1, 8, 8)).shape == (4, 1)


def test_from_reference_rejects_mismatched_weights_and_unknown_kwargs(reference_fixture):
    g_state, _, _, config = reference_fixture
    kwargs = dict(config["G_kwargs"], w_dim=64)
    with pytest.raises(StyleforgeError, match="do not fit"):
        from_reference(g_state, kwargs, "G")
    broken = dict(g_state)
    del broken["synthesis.b8.conv0.weight"]
    with pytest.raises(StyleforgeError, match="missing synthesis.b8.conv_up.weight"):
        from_reference(broken, config["G_kwargs"], "G")
    with pytest.raises(StyleforgeError, match="unsupported reference synthesis argument"):
        from_reference(g_state, dict(config["G_kwargs"], synthesis_kwargs={"warp": 1}), "G")


def test_discriminator_batch_must_fit_mbstd_group():
    D = tiny("D")
    with pytest.raises(StyleforgeError, match="multiple of its minibatch-stddev group"):
        D(torch.randn(6, 3, 16, 16))


def test_label_errors():
    G = tiny("G", c_dim=3)
    with pytest.raises(StyleforgeError, match="class labels are required"):
        G(torch.randn(2, G.z_dim))
    with pytest.raises(StyleforgeError, match="unconditional"):
        tiny("G")(torch.randn(2, 32), torch.ones(2, 3))
