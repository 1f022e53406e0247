"""StyleGAN v1 (AdaIN) as a model family beside v2 (M1.4): AdaIN itself, the network at tiny sizes,
parameter counts of the presets, the shared surface (pipeline, mixing, truncation, features, files),
training with exact resume, and the droplet comparison command."""

import json

import pytest
import torch
from safetensors.torch import load_file

import styleforge as sf
from styleforge.cli import main
from styleforge.models.synthesis_v1 import adain, instance_norm
from styleforge.pipeline import render
from styleforge.train import train, training_config


def test_adain_output_has_the_styles_per_channel_mean_and_std():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 8, 8) * 4 + 2
    scale, shift = torch.randn(3, 5), torch.randn(3, 5)
    out = adain(x, torch.cat([scale - 1, shift], dim=1))  # the style holds y_s − 1 (scale biased to 1)
    torch.testing.assert_close(out.mean(dim=[2, 3]), shift, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.std(dim=[2, 3], unbiased=False), scale.abs(), atol=1e-4, rtol=1e-4)
    normalized = instance_norm(x)
    assert normalized.mean(dim=[2, 3]).abs().max() < 1e-5
    torch.testing.assert_close(normalized.square().mean(dim=[2, 3]), torch.ones(3, 5), atol=1e-4, rtol=0)


def _v1_parameters(w_dim, z_dim, mapping_layers, channels, img_channels=3):
    """The v1 generator's parameter count written out from the paper's structure (Fig. 1b)."""
    total = sum((z_dim if i == 0 else w_dim) * w_dim + w_dim for i in range(mapping_layers))
    total += channels[0] * 16                                         # 4×4 constant
    previous = None
    for c in channels:
        layers = [None if previous is None else previous, c]          # (input of the first layer, then c)
        for c_in in layers:
            conv = 0 if c_in is None else c_in * c * 9
            total += conv + c + c + w_dim * 2 * c + 2 * c              # conv, bias, noise strengths, AdaIN affine
        previous = c
    return total + channels[-1] * img_channels + img_channels         # the final ToRGB


def test_parameter_counts_of_the_v1_presets():
    G = sf.build("stylegan1", "G")
    ffhq_channels = [512, 512, 512, 512, 256, 128, 64, 32, 16]        # 4 … 1024 px, fmap_base 8192 in v1
    expected = _v1_parameters(512, 512, 8, ffhq_channels)
    assert sum(p.numel() for p in G.parameters()) == expected == 26_212_019
    # The published 26.2 M (v1 README) counts the eight lower-resolution ToRGBs that progressive growing
    # keeps in the network: 7,608 more parameters, 26,219,627 in all.
    lower_torgbs = sum(c * 3 + 3 for c in ffhq_channels[:-1])
    assert expected + lower_torgbs == 26_219_627 and round((expected + lower_torgbs) / 1e6, 1) == 26.2
    assert G.num_ws == 18 and len(G.style_layers) == 18
    small = sf.build("stylegan1-small", "G")
    assert sum(p.numel() for p in small.parameters()) == _v1_parameters(128, 128, 8, [64, 64, 64, 32, 16])
    tiny = sf.build("stylegan1-tiny", "G")
    assert sum(p.numel() for p in tiny.parameters()) == _v1_parameters(32, 32, 2, [32, 32, 32])


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(1)
    model = sf.build("stylegan1-tiny", "G")
    with torch.no_grad():  # give the zero-initialized noise strengths and biases values
        for name, p in model.named_parameters():
            if name.endswith(("noise_strength", "bias")):
                p.add_(torch.randn(p.shape) * 0.2)
    return model.eval()


def test_forward_backward_at_tiny_size(G):
    model = sf.build("stylegan1-tiny", "G")
    images = model(torch.randn(4, 32))
    assert images.shape == (4, 3, 16, 16) and torch.isfinite(images).all()
    images.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    assert all(p.grad.abs().sum() > 0 for n, p in model.named_parameters() if not n.endswith("noise_strength"))


def test_v1_has_the_v2_surface(G, tmp_path):
    z = torch.randn(2, 32)
    ws = G.mapping(z)
    styles = G.styles(ws)
    assert [s.shape[1] for s in styles] == [64] * 6                   # 2·C AdaIN values per layer
    torch.testing.assert_close(G.synthesis_from_styles(styles), G.synthesis(ws))
    images, features = render(G, z=z, features=True)
    assert {"b4.input", "b4.conv", "b8.conv_up", "b16.conv", "b16.to_rgb"} <= set(features)
    mixed = sf.latents.mix(ws, G.mapping(torch.randn(2, 32)), crossover=2)
    assert not torch.equal(G.synthesis(mixed), images)
    truncated = render(G, z=z, psi=0.0)
    torch.testing.assert_close(truncated[0], truncated[1])            # ψ = 0: every sample is the average
    random_a = render(G, z=z, noise_mode="random", generator=torch.Generator().manual_seed(0))
    assert not torch.equal(random_a, images) and torch.equal(render(G, z=z, noise_mode="const"), images)
    sf.save(G, tmp_path / "v1.safetensors")
    loaded = sf.load(tmp_path / "v1.safetensors")
    assert loaded.config.family == "stylegan1"
    assert torch.equal(loaded(z), G(z))
    with pytest.raises(sf.StyleforgeError, match="StyleGAN v1 model stays in styleforge's own format"):
        sf.checkpoint.export_reference(G, tmp_path / "ref.safetensors")
    with pytest.raises(sf.StyleforgeError, match="architecture 'orig' and conv_clamp None"):
        sf.build("tiny", "G", family="stylegan1", architecture="skip")
    with pytest.raises(sf.StyleforgeError, match="family must be one of"):
        sf.build("tiny", "G", family="stylegan4")
    assert sf.build("tiny", "G", family="stylegan1").config.architecture == "orig"


def test_editing_and_projection_pieces_work_on_v1(G):
    directions, values = sf.edit.sefa(G)                               # every AdaIN affine (all conv kind)
    assert directions.shape == (32, 32) and torch.all(values[:-1] >= values[1:])
    from styleforge.projection.projector import noise_layers
    assert len(noise_layers(G)) == 6


def _config(**options):
    return training_config("tiny", **{"kimg": 0.048, "snapshot_kimg": 0.016, "resolution": 16,
                                      "g_overrides": {"family": "stylegan1"}, **options})


def test_v1_trains_and_resumes_exactly(tmp_path):
    long = train(_config(kimg=0.032), tmp_path / "long")
    first = train(_config(kimg=0.016), tmp_path / "split")
    resumed = train(_config(kimg=0.032), tmp_path / "split", resume="auto")
    assert "stylegan1" in resumed.run_dir.name and resumed.cur_nimg == long.cur_nimg == 32
    a = load_file(sorted((long.run_dir / "checkpoints").glob("*.safetensors"))[-1])
    b = load_file(sorted((resumed.run_dir / "checkpoints").glob("*.safetensors"))[-1])
    keys = [k for k in a if k.split(".")[0] in ("G", "D", "G_ema", "opt_G", "opt_D")]
    assert any(".conv_up.affine." in k for k in keys)
    assert all(torch.equal(a[k], b[k]) for k in keys)
    assert sf.load(resumed.snapshot).config.family == "stylegan1"
    assert first.status == "done"


def test_cli_family_and_droplets(G, tmp_path, capsys):
    assert main(["train", "--preset", "tiny", "--family", "stylegan1", "--kimg", "0.016", "--snap", "0.016",
                 "--outdir", str(tmp_path / "runs")]) == 0
    run = next((tmp_path / "runs").iterdir())
    assert json.loads((run / "config.json").read_text())["training"]["g_overrides"] == {"family": "stylegan1"}
    sf.save(G, tmp_path / "v1.safetensors")
    sf.save(sf.build("tiny", "G"), tmp_path / "v2.safetensors")
    assert main(["analyze", "droplets", "--models", str(tmp_path / "v1.safetensors"), str(tmp_path / "v2.safetensors"),
                 "--resolutions", "8,16", "--seeds", "0-1", "--outdir", str(tmp_path / "d")]) == 0
    record = json.loads((tmp_path / "d" / "droplets.json").read_text())
    assert record["models"]["v1"]["family"] == "stylegan1" and set(record["ratios"]) == {"8", "16"}
    ratio = record["ratios"]["16"]
    v1, v2 = (record["models"][n]["by_resolution"]["16"] for n in ("v1", "v2"))
    assert ratio == pytest.approx(v1 / v2)
    assert (tmp_path / "d" / "droplets.png").stat().st_size > 1000
    assert (tmp_path / "d" / "features-v1-b16.conv.png").is_file() and record["noise_mode"] == "none"
    assert "ratio v1 / v2 at 16 px" in capsys.readouterr().out
    assert main(["analyze", "droplets", "--models", str(tmp_path / "v1.safetensors"), "--outdir",
                 str(tmp_path / "d")]) == 2
