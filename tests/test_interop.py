"""Reference pickles, rosinality checkpoints, reference state-dict export and `styleforge convert` (M7)."""

import argparse
import os
import pickle
import sys

import pytest
import torch
from safetensors.torch import load_file

import styleforge as sf
from styleforge.checkpoint import (detect_format, export_reference, export_rosinality,
                                   generator_from_rosinality, discriminator_from_rosinality,
                                   generator_to_rosinality, discriminator_to_rosinality, load_networks)
from styleforge.checkpoint.rosinality import estimate_w_avg
from styleforge.cli import main
from styleforge.latents import mix

from conftest import FIXTURES
from helpers import tiny
from reference_pickles import write_reference_pickle

ATOL = 1e-4
ROSINALITY_LAYERS = ["conv1", "to_rgb1", "convs.0", "convs.1", "to_rgbs.0", "convs.2", "convs.3",
                     "to_rgbs.1", "convs.4", "convs.5", "to_rgbs.2"]


def _close(actual, expected):
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= ATOL


@pytest.fixture(scope="module")
def rosinality_fixture():
    root = FIXTURES / "rosinality-stylegan2"
    return (load_file(root / "G.safetensors"), load_file(root / "D.safetensors"),
            load_file(root / "io.safetensors"))


@pytest.fixture(scope="module")
def rosinality_checkpoint(rosinality_fixture, tmp_path_factory):
    """A .pt file laid out like a rosinality training checkpoint, holding the fixture weights."""
    g, d, io = rosinality_fixture
    path = tmp_path_factory.mktemp("ros") / "050000.pt"
    torch.save({"g": g, "d": d, "g_ema": g, "latent_avg": io["truncation_latent"][0],
                "g_optim": {"state": {}, "param_groups": [{"lr": 0.002, "betas": (0.0, 0.99)}]},
                "d_optim": {"state": {}, "param_groups": []},
                "args": argparse.Namespace(size=32, latent=32, n_mlp=8, channel_multiplier=2),
                "ada_aug_p": 0.0}, path)
    return path


# ------------------------------------------------------------------------------- rosinality

@torch.no_grad()
def test_rosinality_checkpoint_reproduces_every_recorded_output(rosinality_checkpoint, rosinality_fixture):
    _, _, io = rosinality_fixture
    assert detect_format(rosinality_checkpoint) == "rosinality"
    networks = load_networks(rosinality_checkpoint)
    assert set(networks) == {"G", "G_ema", "D"}
    G, D = networks["G_ema"], networks["D"]
    ws = G.mapping(io["z"])
    _close(ws[:, 0], io["w"])
    _close(ws, io["wplus"])
    _close(G.synthesis(ws), io["img"])
    _close(G.synthesis(ws, noise_mode="none"), io["img_noise0"])
    truncated = G.mapping(io["z"], psi=0.7)
    _close(truncated, io["wplus_trunc0.7"])
    _close(G.synthesis(truncated), io["img_trunc0.7"])
    mixed = mix(ws, G.mapping(io["z_mix2"]), crossover=3)
    _close(mixed, io["wplus_mix3"])
    _close(G.synthesis(mixed), io["img_mix3"])
    _close(G.synthesis(io["wplus_distinct"]), io["img_wplus_distinct"])
    for name, s, s_mix in zip(ROSINALITY_LAYERS, G.styles(ws), G.styles(mixed)):
        _close(s, io[f"s.{name}"])
        _close(s_mix, io[f"s_mix3.{name}"])
    _close(D(io["reals"]), io["d_real"])
    _close(D(io["img"]), io["d_fake"])


def test_rosinality_r1_gradients(rosinality_fixture):
    _, d, io = rosinality_fixture
    D = discriminator_from_rosinality(d)
    reals = io["reals"].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(reals).sum(), reals)
    expected = io["d_r1_grad_sq_sum"]
    assert (grad.square().sum([1, 2, 3]) - expected).abs().max() <= ATOL * expected.abs().max()


def test_rosinality_export_reproduces_the_original_state_dicts(rosinality_fixture):
    g, d, io = rosinality_fixture
    G = generator_from_rosinality(g, io["truncation_latent"])
    back = generator_to_rosinality(G)
    assert set(back) == set(g) and all(torch.equal(back[k], g[k]) for k in g)
    d_back = discriminator_to_rosinality(discriminator_from_rosinality(d))
    assert set(d_back) == set(d) and all(torch.equal(d_back[k], d[k]) for k in d)


def test_w_avg_is_estimated_when_the_checkpoint_has_no_latent_avg(rosinality_fixture):
    g, _, _ = rosinality_fixture
    G = generator_from_rosinality(g)
    assert torch.equal(G.w_avg, estimate_w_avg(G))
    assert torch.equal(generator_from_rosinality(g).w_avg, G.w_avg)  # deterministic


@torch.no_grad()
def test_ours_to_rosinality_to_ours_gives_identical_images(tmp_path):
    G = tiny("G")
    D = tiny("D", architecture="resnet")
    path = export_rosinality(tmp_path / "out.pt", G=G, D=D)
    networks = load_networks(path)
    z = torch.randn(4, G.z_dim)
    assert torch.equal(networks["G_ema"](z), G(z))
    assert torch.equal(networks["G_ema"].w_avg, G.w_avg)
    img = torch.randn(4, 3, 16, 16)
    assert torch.equal(networks["D"](img), D(img))


def test_rosinality_export_of_a_clamped_model_needs_drop_clamp():
    G = tiny("G", conv_clamp=256)
    with pytest.raises(sf.StyleforgeError, match="drop_clamp"):
        generator_to_rosinality(G)
    state = generator_to_rosinality(G, drop_clamp=True)
    reloaded = generator_from_rosinality(state, G.w_avg)
    z = torch.randn(2, G.z_dim)
    with torch.no_grad():  # an untrained tiny model never reaches ±256, so the images agree
        assert torch.equal(reloaded(z), G(z))


def test_rosinality_export_refuses_what_the_format_cannot_hold():
    with pytest.raises(sf.StyleforgeError, match="skip"):
        generator_to_rosinality(tiny("G", architecture="resnet"))
    with pytest.raises(sf.StyleforgeError, match="resnet"):
        discriminator_to_rosinality(tiny("D", architecture="orig"))


def test_rosinality_file_with_unknown_globals_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"g_ema": {}, "args": object.__new__(_Payload)}, path)
    with pytest.raises(sf.StyleforgeError, match="could not be read safely") as refused:
        sf.load(path)
    message = str(refused.value)
    assert "test_interop._Payload" in message and "weights_only" not in message
    assert len(message.splitlines()) == 1


def test_exported_files_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        export_rosinality(tmp_path / "g.pt", G=tiny("G"))
        sf.save(tiny("G"), tmp_path / "g.safetensors")
        path = export_reference(tiny("D"), tmp_path / "d.safetensors")
        for written in (tmp_path / "g.pt", tmp_path / "g.safetensors", path, path.with_suffix(".json")):
            assert written.stat().st_mode & 0o777 == 0o644, written
        os.umask(0o077)
        sf.save(tiny("G"), tmp_path / "private.safetensors")
        assert (tmp_path / "private.safetensors").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


class _Payload:
    pass


# ------------------------------------------------------------------- reference state export

@torch.no_grad()
@pytest.mark.parametrize("kind", ["G", "D"])
def test_ours_to_reference_export_to_ours_gives_identical_outputs(tmp_path, kind):
    model = tiny(kind, architecture="orig", c_dim=2)
    path = export_reference(model, tmp_path / "ref.safetensors")
    assert (tmp_path / "ref.json").exists()
    assert detect_format(path) == "reference-export"
    loaded = sf.load(path)
    c = torch.eye(2)[[0, 1]]
    x = torch.randn(2, 32) if kind == "G" else torch.randn(2, 3, 16, 16)
    assert torch.equal(loaded(x, c), model(x, c))
    state = load_file(path)
    assert ("mapping.fc0.weight" in state) if kind == "G" else ("b4.out.weight" in state)


# ------------------------------------------------------------------------ reference pickles

@pytest.fixture
def reference_pickle(tmp_path, reference_fixture):
    g_state, d_state, _, config = reference_fixture
    marker = tmp_path / "EXECUTED"
    path = tmp_path / "network-snapshot-000100.pkl"
    write_reference_pickle(path, {"G": (g_state, config["G_kwargs"]), "D": (d_state, config["D_kwargs"]),
                                  "G_ema": (g_state, config["G_kwargs"])}, marker)
    assert "torch_utils" not in sys.modules
    return path, marker


@torch.no_grad()
def test_reference_pickle_reproduces_the_fixture_without_running_its_code(reference_pickle, reference_fixture):
    path, marker = reference_pickle
    _, _, io, _ = reference_fixture
    assert detect_format(path) == "reference-pickle"
    G = sf.load(path)  # G_ema by default
    D = sf.load(path, network_key="D")
    _close(G.mapping(io["z"]), io["ws"])
    _close(G.mapping(io["z"], psi=0.5, cutoff=2), io["ws_psi0.5_cutoff2"])
    _close(G.synthesis(io["ws"]), io["img_const"])
    _close(G.synthesis(io["ws"], noise_mode="none"), io["img_none"])
    _close(G(io["z"], psi=0.7), io["img_psi0.7_const"])
    _close(D(io["reals"]), io["d_logits_real"])
    assert not marker.exists()
    assert "torch_utils" not in sys.modules


def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "PWNED"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Exploit()}))
    with pytest.raises(sf.StyleforgeError, match=r"posix\.system|os\.system"):
        sf.load(path)
    assert not marker.exists()


def test_pickle_with_an_unsupported_network_class(tmp_path, reference_fixture):
    g_state, _, _, config = reference_fixture
    path = tmp_path / "sg3.pkl"
    write_reference_pickle(path, {"G_ema": (g_state, config["G_kwargs"])}, tmp_path / "m")
    data = path.read_bytes().replace(b"\x09\x00\x00\x00Generator", b"\x09\x00\x00\x00Generatxr")
    path.write_bytes(data)
    with pytest.raises(sf.StyleforgeError, match="only StyleGAN2"):
        sf.load(path)


# ----------------------------------------------------------------------------------- convert

def test_convert_pickle_to_styleforge_and_onwards(reference_pickle, reference_fixture, tmp_path, capsys):
    path, _ = reference_pickle
    _, _, io, _ = reference_fixture
    ours = tmp_path / "g.safetensors"
    assert main(["convert", "--src", str(path), "--dest", str(ours)]) == 0
    with torch.no_grad():
        _close(sf.load(ours).synthesis(io["ws"]), io["img_const"])
    assert main(["convert", "--src", str(path), "--dest", str(tmp_path / "d.safetensors"),
                 "--network-key", "D"]) == 0
    assert isinstance(sf.load(tmp_path / "d.safetensors"), sf.Discriminator)
    assert main(["convert", "--src", str(ours), "--dest", str(tmp_path / "g.pt")]) == 0
    assert detect_format(tmp_path / "g.pt") == "rosinality"
    assert main(["convert", "--src", str(ours), "--dest", str(tmp_path / "ref.safetensors"),
                 "--to", "reference"]) == 0
    with torch.no_grad():
        for out in ("g.pt", "ref.safetensors"):
            _close(sf.load(tmp_path / out).synthesis(io["ws"]), io["img_const"])
    assert "converted reference-pickle G_ema" in capsys.readouterr().out


def test_generate_reads_a_reference_pickle_directly(reference_pickle, tmp_path):
    path, _ = reference_pickle
    assert main(["generate", "--model", str(path), "--seeds", "0-1", "--outdir", str(tmp_path / "o")]) == 0
    assert len(list((tmp_path / "o").iterdir())) == 2


def test_convert_unknown_file_gives_one_line_and_exit_2(tmp_path, capsys):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a model")
    assert main(["convert", "--src", str(junk), "--dest", str(tmp_path / "x.safetensors")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown file format" in err[0]
