"""StyleGAN3 alias-free generators (configs T and R) against NVIDIA's own stylegan3 code: pickles it
wrote (tests/fixtures/stylegan3-alias-free) reproduce its mapping, images, truncation, input transforms
and discriminator logits; our own files of the family round-trip; the commands run on them."""

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import styleforge as sf
from styleforge.cli import main
from styleforge.models.synthesis_sg3 import lowpass_filter

from conftest import FIXTURES

ROOT = FIXTURES / "stylegan3-alias-free"
NAMES = ["t16", "t32-grey-c3", "r32-c2"]


def _io(name):
    with safe_open(str(ROOT / f"{name}.io.safetensors"), "pt") as f:
        return load_file(ROOT / f"{name}.io.safetensors"), f.metadata()


def _close(actual, expected, rtol=1e-5):
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= rtol * max(1.0, expected.abs().max().item())


@pytest.mark.parametrize("name", NAMES)
@torch.no_grad()
def test_nvidia_alias_free_pickles_give_nvidias_outputs(name):
    io, metadata = _io(name)
    c = io["c"] if io["c"].shape[1] else None
    G = sf.load(ROOT / f"{name}.pkl")
    assert G.config.family == "stylegan3"
    assert G.config.alias_free["use_radial_filters"] == name.startswith("r")
    _close(G.mapping(io["z"], c), io["ws"])
    _close(G.synthesis(io["ws"]), io["img"])
    _close(G.synthesis(G.mapping(io["z"], c, psi=0.7)), io["img_psi0.7"])
    _close(G.synthesis(G.mapping(io["z"], c, psi=0.5, cutoff=int(metadata["truncation_cutoff"]))),
           io["img_psi0.5_cutoff"])
    G.synthesis.set_transform(tuple(json.loads(metadata["translate"])), float(metadata["rotate"]))
    _close(G.synthesis(io["ws"]), io["img_transformed"])
    assert not torch.allclose(io["img_transformed"], io["img"])  # the transform changes the image
    _close(sf.load(ROOT / f"{name}.pkl", network_key="G").synthesis(io["g_ws"]), io["g_img"])
    _close(sf.load(ROOT / f"{name}.pkl", network_key="D")(io["reals"], c), io["d_logits_real"])


@pytest.mark.parametrize("name", NAMES)
def test_our_design_gives_the_files_filters_and_our_files_round_trip(name, tmp_path):
    loaded = sf.load(ROOT / f"{name}.pkl")
    torch.manual_seed(0)
    built = sf.build("tiny", "G", **{k: v for k, v in loaded.config.to_dict().items() if k != "resample_filter"})
    for key, value in loaded.state_dict().items():
        if key.endswith("_filter"):  # designed here from the config alone: the Kaiser / jinc filters
            assert torch.allclose(built.state_dict()[key], value, atol=1e-7), key
    path = sf.save(loaded, tmp_path / "g.safetensors")
    back = sf.load(path)
    ws = loaded.mapping(torch.randn(2, loaded.z_dim), torch.eye(loaded.c_dim)[:2] if loaded.c_dim else None)
    with torch.no_grad():
        assert torch.equal(back.synthesis(ws), loaded.synthesis(ws))


def test_lowpass_filters_are_normalized_and_radial_ones_symmetric():
    separable = lowpass_filter(12, cutoff=2.0, width=12.0, fs=16)
    assert separable.shape == (12,) and abs(separable.sum().item() - 1) < 1e-6
    radial = lowpass_filter(12, cutoff=2.0, width=12.0, fs=16, radial=True)
    assert radial.shape == (12, 12) and abs(radial.sum().item() - 1) < 1e-6
    assert torch.allclose(radial, radial.t()) and torch.allclose(radial, radial.flip(0))
    assert lowpass_filter(1, 2.0, 1.0, 16) is None


def test_commands_run_on_an_alias_free_model(tmp_path, capsys):
    model = str(ROOT / "t16.pkl")
    assert main(["generate", "--model", model, "--seeds", "0-1", "--translate", "0.25,0", "--rotate", "45",
                 "--outdir", str(tmp_path / "g")]) == 0
    moved = np.asarray(__import__("PIL.Image").Image.open(tmp_path / "g" / "seed0000.png"))
    assert main(["generate", "--model", model, "--seeds", "0", "--outdir", str(tmp_path / "plain")]) == 0
    plain = np.asarray(__import__("PIL.Image").Image.open(tmp_path / "plain" / "seed0000.png"))
    assert not np.array_equal(moved, plain)
    assert main(["inspect", "--model", model]) == 0
    assert "alias-free config T" in capsys.readouterr().out
    assert main(["edit", "sefa", "--model", model, "--out", str(tmp_path / "sefa.safetensors")]) == 0
    assert main(["edit", "apply", "--model", model, "--edit", f"{tmp_path / 'sefa.safetensors'}:0",
                 "--seeds", "0", "--out", str(tmp_path / "e.png")]) == 0
    target = tmp_path / "plain" / "seed0000.png"
    assert main(["project", "--model", model, "--target", str(target), "--steps", "3", "--w-avg-samples", "10",
                 "--distance", "pixel", "--outdir", str(tmp_path / "p")]) == 0
    assert main(["generate", "--model", model, "--projected-w", str(tmp_path / "p" / "projected.safetensors"),
                 "--outdir", str(tmp_path / "re")]) == 0
    assert main(["video", "--model", model, "--seeds", "0-1", "--frames-per-step", "3",
                 "--out", str(tmp_path / "v.mp4")]) == 0
    assert main(["convert", "--src", model, "--dest", str(tmp_path / "ours.safetensors")]) == 0
    assert sf.load(tmp_path / "ours.safetensors").config.family == "stylegan3"


def test_the_explorer_serves_an_alias_free_model():
    import io as iolib

    from PIL import Image

    from styleforge.web import Explorer

    explorer = Explorer(sf.load(ROOT / "r32-c2.pkl"), distance="pixel")
    try:
        first = np.asarray(Image.open(iolib.BytesIO(explorer.image(explorer.view_from({"seed": "3"})))))
        other = np.asarray(Image.open(iolib.BytesIO(explorer.image(explorer.view_from({"seed": "4"})))))
        assert first.shape == (32, 32, 3) and not np.array_equal(first, other)
    finally:
        explorer.close()


@torch.no_grad()
def test_the_explorer_moves_an_alias_free_image_and_refuses_moving_others():
    import io as iolib

    from PIL import Image

    from styleforge.web import Explorer

    G = sf.load(ROOT / "t16.pkl")
    explorer = Explorer(G, distance="pixel")
    try:
        assert explorer.info()["transform"] is True
        view = explorer.view_from({"seed": "3", "tx": "0.25", "ty": "-0.1", "rot": "30"})
        shown = np.asarray(Image.open(iolib.BytesIO(explorer.image(view))))
        expected_G = sf.load(ROOT / "t16.pkl")
        expected_G.synthesis.set_transform((0.25, -0.1), 30)
        expected = sf.media.to_uint8(sf.render(expected_G, seeds=[3]))[0]
        assert np.array_equal(shown, expected)
        still = np.asarray(Image.open(iolib.BytesIO(explorer.image(explorer.view_from({"seed": "3"})))))
        assert np.array_equal(still, sf.media.to_uint8(sf.render(sf.load(ROOT / "t16.pkl"), seeds=[3]))[0])
        with pytest.raises(sf.StyleforgeError, match="rot must be in"):
            explorer.view_from({"rot": "720"})
    finally:
        explorer.close()
    other = Explorer(sf.build("tiny", "G"), distance="pixel")
    try:
        assert other.info()["transform"] is False
        with pytest.raises(sf.StyleforgeError, match="move StyleGAN3"):
            other.view_from({"tx": "0.1"})
    finally:
        other.close()


def test_a_video_along_a_translation_and_rotation_path(tmp_path, capsys):
    from styleforge.media import read_video_frames

    model = str(ROOT / "t16.pkl")
    assert main(["video", "--model", model, "--seeds", "3", "--rotate", "90", "--translate", "0.3,0",
                 "--frames-per-step", "4", "--out", str(tmp_path / "spin.mp4")]) == 0
    frames = read_video_frames(tmp_path / "spin.mp4")
    assert len(frames) == 8
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1  # it moved
    still = tmp_path / "still.safetensors"
    sf.save(sf.build("tiny", "G"), still)
    assert main(["video", "--model", str(still), "--seeds", "3", "--rotate", "90", "--out", str(tmp_path / "x.mp4")]) == 2
    assert "move StyleGAN3" in capsys.readouterr().err


def test_an_alias_free_model_exports_to_stylegan3s_own_layout(tmp_path):
    """`convert --to reference` writes stylegan3's networks_stylegan3 key names and flat Generator kwargs
    (checked by hand: that Generator loads it strictly and matches to 4.5e-8); read back exactly."""
    src = ROOT / "r32-c2.pkl"
    assert main(["convert", "--src", str(src), "--dest", str(tmp_path / "ref.safetensors"), "--to", "reference"]) == 0
    sidecar = json.loads((tmp_path / "ref.json").read_text())
    assert sidecar["family"] == "stylegan3" and sidecar["init_kwargs"]["conv_kernel"] == 1
    assert sidecar["init_kwargs"]["use_radial_filters"] is True and "synthesis_kwargs" not in sidecar["init_kwargs"]
    keys = set(load_file(tmp_path / "ref.safetensors"))
    assert "mapping.fc0.weight" in keys and any(k.startswith("synthesis.L0_") and k.endswith("up_filter") for k in keys)
    ours, back = sf.load(src), sf.load(tmp_path / "ref.safetensors")
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), back.state_dict().values()))
    assert back.config == ours.config


def test_generate_and_analysis_commands_give_nvidias_images_and_feature_maps(tmp_path, capsys):
    """NVIDIA's own image through `styleforge generate` (its W+ saved as a latent file), and the feature-map
    analyses on an alias-free file beside a StyleGAN2 one."""
    from PIL import Image

    from styleforge.latent_files import latent_for, save_latents

    io, _ = _io("t16")
    G = sf.load(ROOT / "t16.pkl")
    save_latents(tmp_path / "w.safetensors", latent_for(G, "ws", io["ws"][:2]))
    assert main(["generate", "--model", str(ROOT / "t16.pkl"), "--projected-w", str(tmp_path / "w.safetensors"),
                 "--outdir", str(tmp_path / "g")]) == 0
    for k in range(2):
        got = np.asarray(Image.open(tmp_path / "g" / f"{tmp_path.name}-w-{k}.png")).astype(int)
        assert np.abs(got - sf.media.to_uint8(io["img"][k:k + 1])[0].astype(int)).max() <= 1
    v2 = sf.save(sf.build("tiny", "G"), tmp_path / "v2.safetensors")
    assert main(["analyze", "droplets", "--models", str(ROOT / "t16.pkl"), str(v2), "--seeds", "0-1",
                 "--resolutions", "16", "--outdir", str(tmp_path / "d")]) == 0
    record = json.loads((tmp_path / "d" / "droplets.json").read_text())
    assert record["models"]["t16"]["family"] == "stylegan3" and record["models"]["t16"]["by_resolution"]["16"] > 0
    assert main(["analyze", "features", "--model", str(ROOT / "t16.pkl"), "--outdir", str(tmp_path / "f")]) == 0
    assert (tmp_path / "f" / "features-b16.L0.conv.png").exists()
