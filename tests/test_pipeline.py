"""One path from latents to pixels: every entry point (seeds, z, w, W+, S, latent files) gives the
same images as the networks called directly; per-layer feature maps without hooks (M3)."""

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import styleforge as sf
from styleforge.latents import z_from_seeds
from styleforge.pipeline import render, render_batches, to_ws

from helpers import tiny


@pytest.fixture(scope="module")
def G():
    return tiny("G")


def _close(a, b):  # different batch splits may change the last float bits (conv kernels per batch size)
    assert a.shape == b.shape and torch.allclose(a, b, atol=1e-4, rtol=0)


def test_every_source_gives_the_same_images(G, tmp_path):
    seeds = [3, 1, 4, 1, 5]
    z = z_from_seeds(seeds, G.z_dim)
    with torch.no_grad():
        ws = G.mapping(z, psi=0.7, cutoff=2)
        expected = G.synthesis(ws)
    assert torch.equal(render(G, seeds=seeds, psi=0.7, cutoff=2), expected)
    _close(render(G, seeds=seeds, psi=0.7, cutoff=2, batch_size=2), expected)
    assert torch.equal(render(G, z=z, psi=0.7, cutoff=2), expected)
    assert torch.equal(render(G, ws=ws), expected)
    assert torch.equal(render(G, styles=G.styles(ws)), expected)
    _close(render(G, styles=G.styles(ws), batch_size=4), expected)
    np.savez(tmp_path / "projected_w.npz", w=ws.numpy())
    assert torch.equal(render(G, latent_file=tmp_path / "projected_w.npz"), expected)
    save_file({"ws": ws.contiguous()}, str(tmp_path / "latent.safetensors"))
    _close(render(G, latent_file=tmp_path / "latent.safetensors"), expected)
    w = ws[:, 0]
    assert torch.equal(render(G, w=w), G.synthesis(w[:, None].repeat(1, G.num_ws, 1)))
    assert torch.equal(to_ws(G, seeds=seeds, psi=0.7, cutoff=2), ws)


def test_batches_stream_in_order_with_progress(G):
    seen = []
    batches = list(render_batches(G, seeds=list(range(7)), batch_size=3, progress=seen.append))
    assert [b.start for b in batches] == [0, 3, 6] and seen == [3, 3, 1]
    _close(torch.cat([b.images for b in batches]), render(G, seeds=list(range(7))))


def test_feature_maps_of_every_layer_without_hooks(G):
    images, features = render(G, seeds=[0, 1], features=True)
    assert torch.equal(images, render(G, seeds=[0, 1]))
    for layer in G.style_layers:
        assert layer.name in features
        size = layer.resolution
        channels = layer.out_channels
        assert tuple(features[layer.name].shape) == (2, channels, size, size), layer.name
    for r in G.synthesis.block_resolutions:
        assert f"b{r}" in features
    assert torch.equal(features["b4.conv"], features["b4"])  # the 4×4 block's output is its conv's
    assert features[f"b{G.img_resolution}.to_rgb"].shape == images.shape


def test_labels_and_sources_are_checked_in_one_place(tmp_path):
    cond = tiny("G", c_dim=3)
    with pytest.raises(sf.StyleforgeError, match="conditional"):
        render(cond, seeds=[0])
    labels = torch.eye(3)[[0, 2]]
    _close(render(cond, seeds=[5, 6], labels=labels)[1], render(cond, seeds=[6], class_index=2)[0])
    with pytest.raises(sf.StyleforgeError, match="labels of shape"):
        render(cond, seeds=[5, 6], labels=torch.eye(3)[:1])
    plain = tiny("G")
    with pytest.raises(sf.StyleforgeError, match="exactly one latent source"):
        render(plain, seeds=[0], z=torch.zeros(1, plain.z_dim))
    with pytest.raises(sf.StyleforgeError, match="class labels only apply"):
        render(plain, ws=torch.zeros(1, plain.num_ws, plain.w_dim), class_index=0)
    np.savez(tmp_path / "bad.npz", w=np.zeros([1, 3, 7], np.float32))
    with pytest.raises(sf.StyleforgeError, match="this model takes"):
        render(plain, latent_file=tmp_path / "bad.npz")
    np.savez(tmp_path / "nokey.npz", x=np.zeros([1]))
    with pytest.raises(sf.StyleforgeError, match="no array 'w'"):
        render(plain, latent_file=tmp_path / "nokey.npz")


def test_truncation_has_one_rule(G):
    ws = to_ws(G, seeds=[0, 1])
    assert torch.equal(G.mapping.truncate(ws, 0.5, 3), sf.latents.truncate(ws, G.w_avg, 0.5, 3))
    assert torch.equal(G.mapping.truncate(ws, 0.5), sf.latents.truncate(ws, G.w_avg, 0.5))
    with pytest.raises(sf.StyleforgeError, match="beyond"):
        render(G, ws=ws, psi=0.5, cutoff=G.num_ws + 1)
