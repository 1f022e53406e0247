"""Network pickles written by NVIDIA's own code (tests/fixtures/nvidia-pickles, see its README):
stylegan2-ada-pytorch, stylegan3 (StyleGAN2 and alias-free), TensorFlow StyleGAN2 and legacy.py
conversions, each reproduced against the outputs NVIDIA's code computed (M7)."""

import json
import os

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import styleforge as sf
from styleforge.checkpoint import describe_pickle, detect_format, load_mapping
from styleforge.checkpoint.reference_families import generator_kwargs, identify
from styleforge.checkpoint.reference_pickle import read_network_pickle
from styleforge.cli import main

from conftest import FIXTURES
from reference_pickles import write_tf_pickle, with_module_source

ROOT = FIXTURES / "nvidia-pickles"
LOADABLE = ["ada-0", "ada-1", "ada-2", "ada-3", "sg3-0", "sg3-1", "tf-0", "tfconv-0"]
FAMILIES = {"ada": "stylegan2-ada-pytorch training/networks.py",
            "sg3": "stylegan3 training/networks_stylegan2.py"}


def _fixture(name):
    path = ROOT / f"{name}.io.safetensors"
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    return load_file(path), metadata


def _labels(io):
    return io["c"] if io["c"].shape[1] > 0 else None


def _check_image(actual, expected, clamp_engaged: bool):
    error = (actual - expected).abs().max().item()
    if clamp_engaged:  # activations of several hundred: relative bar
        assert error <= 1e-3 * expected.abs().max().item(), error
    else:
        assert error <= 1e-4, error


def _check_exact(actual, expected):
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() <= 1e-5 * max(1.0, expected.abs().max().item())


def _check_generator(G, io, metadata, ws_key="ws", img_key="img_const"):
    c, cutoff = _labels(io), int(metadata["truncation_cutoff"])
    clamp = metadata.get("clamp_engaged_G") == "true"
    ws = G.mapping(io["z"], c)
    _check_exact(ws, io[ws_key])
    _check_image(G.synthesis(ws, noise_mode="const"), io[img_key], clamp)
    return ws, c, cutoff, clamp


@torch.no_grad()
@pytest.mark.parametrize("name", LOADABLE)
def test_every_fixture_pickle_reproduces_nvidias_outputs(name):
    io, metadata = _fixture(name)
    path = ROOT / f"{name}.pkl"
    assert detect_format(path) == "reference-pickle"
    G = sf.load(path)  # G_ema by default
    ws, c, cutoff, clamp = _check_generator(G, io, metadata)
    _check_image(G.synthesis(ws, noise_mode="none"), io["img_none"], clamp)
    psi07 = G.mapping(io["z"], c, psi=0.7)
    _check_exact(psi07, io["ws_psi0.7"])
    _check_image(G.synthesis(psi07), io["img_psi0.7_const"], clamp)
    psi05 = G.mapping(io["z"], c, psi=0.5, cutoff=cutoff)
    _check_exact(psi05, io["ws_psi0.5_cutoff"])
    _check_image(G.synthesis(psi05), io["img_psi0.5_cutoff_const"], clamp)
    _check_generator(sf.load(path, network_key="G"), io, metadata, "g_ws", "g_img_const")
    D = sf.load(path, network_key="D")
    _check_exact(D(io["reals"], c), io["d_logits_real"])
    _check_exact(D(io["img_const"], c), io["d_logits_fake"])


@torch.no_grad()
@pytest.mark.parametrize("name", ["ada-0", "sg3-0"])
def test_the_clamp_the_file_asks_for_is_applied(name):
    """sg3-0 leaves conv_clamp out of its kwargs: stylegan3's module default (256) must apply."""
    io, _ = _fixture(name)
    G, D = sf.load(ROOT / f"{name}.pkl"), sf.load(ROOT / f"{name}.pkl", network_key="D")
    assert G.config.conv_clamp == 256 and D.config.conv_clamp == 256
    img = G.synthesis(io["ws"])
    assert (img - io["img_const_noclamp"]).abs().max() > 1.0  # the unclamped result is far away
    assert (D(io["reals"]) - io["d_logits_real_noclamp"]).abs().max() > 1.0


def test_stylegan3_defaults_fill_what_its_kwargs_leave_out():
    G = sf.load(ROOT / "sg3-0.pkl")
    assert (G.config.w_avg_beta, G.config.num_fp16_res, G.config.conv_clamp) == (0.998, 4, 256)
    G = sf.load(ROOT / "ada-1.pkl")
    assert (G.config.w_avg_beta, G.config.num_fp16_res, G.config.conv_clamp) == (0.995, 0, None)


@torch.no_grad()
@pytest.mark.parametrize("name", LOADABLE)
def test_convert_gives_the_same_networks(name, tmp_path, capsys):
    io, metadata = _fixture(name)
    out = tmp_path / "g.safetensors"
    assert main(["convert", "--src", str(ROOT / f"{name}.pkl"), "--dest", str(out)]) == 0
    _check_generator(sf.load(out), io, metadata)
    assert main(["convert", "--src", str(ROOT / f"{name}.pkl"), "--dest", str(tmp_path / "d.safetensors"),
                 "--network", "D"]) == 0
    _check_exact(sf.load(tmp_path / "d.safetensors")(io["reals"], _labels(io)), io["d_logits_real"])


@torch.no_grad()
def test_alias_free_generator_loads_and_gives_nvidias_images(tmp_path, capsys):
    """The config-R generator NVIDIA's stylegan3 code wrote (once refused by name) now loads: its
    mapping, images and truncated images are NVIDIA's; its D and mapping load alone as before."""
    io, _ = _fixture("sg3-af-0")
    path = ROOT / "sg3-af-0.pkl"
    G = sf.load(path)
    assert G.config.family == "stylegan3" and G.config.alias_free["conv_kernel"] == 1
    with torch.no_grad():
        _check_exact(G.mapping(io["z"]), io["ws"])
        assert (G.synthesis(io["ws"]) - io["img_const"]).abs().max() <= 1e-5 * io["img_const"].abs().max()
        assert (G.synthesis(io["ws_psi0.7"]) - io["img_psi0.7_const"]).abs().max() <= 1e-5 * io["img_const"].abs().max()
        G_train = sf.load(path, network_key="G")
        assert (G_train.synthesis(io["g_ws"]) - io["g_img_const"]).abs().max() <= 1e-5 * io["img_const"].abs().max()
    D = sf.load(path, network_key="D")
    _check_exact(D(io["reals"]), io["d_logits_real"])
    _check_exact(D(io["img_const"]), io["d_logits_fake"])
    mapping = load_mapping(path)
    _check_exact(mapping(io["z"]), io["ws"])
    _check_exact(mapping(io["z"], psi=0.7), io["ws_psi0.7"])
    assert main(["generate", "--model", str(path), "--seeds", "0", "--outdir", str(tmp_path)]) == 0
    assert main(["convert", "--src", str(path), "--dest", str(tmp_path / "d.safetensors"), "--network", "D"]) == 0


@pytest.mark.parametrize("name", ["ada-0", "sg3-0", "sg3-af-0", "tfconv-0"])
def test_the_family_is_identified_from_the_data(name):
    _, metadata = _fixture(name)
    described = describe_pickle(ROOT / f"{name}.pkl")
    assert described["layout"] == "pytorch"
    family = metadata["family"].split(" (")[0]
    assert family in described["networks"]["G_ema"]
    assert "module state" in described["networks"]["G_ema"]
    if name == "tfconv-0":
        assert "legacy.py" in described["networks"]["D"]


def test_inspect_says_what_wrote_the_file(capsys):
    assert main(["inspect", "--model", str(ROOT / "sg3-1.pkl")]) == 0
    out = capsys.readouterr().out
    assert "pytorch layout" in out and "stylegan3 training/networks_stylegan2.py" in out
    assert main(["inspect", "--model", str(ROOT / "tf-0.pkl"), "--network", "D", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pickle"]["layout"] == "tensorflow" and info["kind"] == "D"


# ------------------------------------------------------------------------- module source

SG3_LIKE_SOURCE = """
import os
open({marker!r}, "w").write("executed")  # would run if anything exec'd this text


class SynthesisNetwork:
    def __init__(self, w_dim, img_resolution, img_channels, channel_base=32768, num_fp16_res=3):
        pass


class SynthesisBlock:
    def __init__(self, in_channels, out_channels, conv_clamp=256, fused_modconv_default=True):
        pass


class MappingNetwork:
    def __init__(self, z_dim, c_dim, w_dim, num_ws, w_avg_beta=os.sep):
        pass
"""


def test_module_source_is_parsed_never_run(tmp_path):
    marker = tmp_path / "EXECUTED"
    path = tmp_path / "with-source.pkl"
    source = SG3_LIKE_SOURCE.format(marker=str(marker))
    path.write_bytes(with_module_source((ROOT / "ada-3.pkl").read_bytes(), source))
    described = describe_pickle(path)["networks"]["G_ema"]
    assert "stylegan3 training/networks_stylegan2.py (identified from the module source)" in described
    G = sf.load(path)
    assert G.config.num_fp16_res == 2  # given in the kwargs: the source default (3) does not override
    io, metadata = _fixture("ada-3")
    with torch.no_grad():
        _check_generator(G, io, metadata)
    assert not marker.exists()


def test_module_source_fills_what_kwargs_leave_out(tmp_path):
    marker = tmp_path / "EXECUTED"
    source = SG3_LIKE_SOURCE.format(marker=str(marker))
    record = read_network_pickle(ROOT / "sg3-0.pkl").entries["G_ema"]  # protocol 4: edit the records
    for _, rec in record.walk():
        rec.module_src = source
    identity = identify(record, "G_ema")
    assert identity.evidence == "module source" and identity.family == "stylegan3-stylegan2"
    kwargs = generator_kwargs(record, identity, "G_ema")
    assert kwargs["synthesis_kwargs"]["num_fp16_res"] == 3  # the source's own default
    assert kwargs["synthesis_kwargs"]["conv_clamp"] == 256  # what the layers hold
    assert kwargs["mapping_kwargs"]["w_avg_beta"] == 0.998  # the layer state beats a non-literal default
    assert not marker.exists()


def test_alias_free_source_is_refused_even_when_the_state_looks_like_stylegan2(tmp_path):
    path = tmp_path / "af-source.pkl"
    path.write_bytes(with_module_source((ROOT / "ada-1.pkl").read_bytes(),
                                        "class SynthesisInput:\n    pass\n"))
    with pytest.raises(sf.StyleforgeError, match="alias-free"):
        sf.load(path)


def test_unrecognized_network_is_refused_with_what_it_is(tmp_path):
    path = tmp_path / "odd.pkl"
    data = (ROOT / "ada-1.pkl").read_bytes()
    for name in (b"mapping", b"synthesis"):  # same length, so the pickle stays valid
        data = data.replace(b"X" + len(name).to_bytes(4, "little") + name,
                            b"X" + len(name).to_bytes(4, "little") + name.upper())
    path.write_bytes(data)
    with pytest.raises(sf.StyleforgeError, match="written by code we do not recognize"):
        sf.load(path)


# ---------------------------------------------------------------------- TensorFlow layout

def _tf_states():
    """The three network states of the TF fixture, as plain dicts (components nested)."""
    def plain(network):
        state = dict(network.state)
        state["components"] = {k: plain(v) for k, v in network.components.items()}
        return state
    pkl = read_network_pickle(ROOT / "tf-0.pkl")
    return [plain(pkl.entries[k]) for k in ("G", "D", "G_ema")]


def test_tf_build_source_is_never_run(tmp_path):
    marker = tmp_path / "EXECUTED"
    states = _tf_states()
    for state in states:
        state["build_module_src"] = f"open({str(marker)!r}, 'w').write('executed')\n"
    path = tmp_path / "tf.pkl"
    write_tf_pickle(path, states)
    io, metadata = _fixture("tf-0")
    with torch.no_grad():
        _check_generator(sf.load(path), io, metadata)
    assert not marker.exists()


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_tf_pickle_with_a_hostile_global_is_refused_by_name(tmp_path):
    marker = tmp_path / "PWNED"
    states = _tf_states()
    states[2]["static_kwargs"] = dict(states[2]["static_kwargs"], resolution=_Exploit(marker))
    path = tmp_path / "evil-tf.pkl"
    write_tf_pickle(path, states)
    with pytest.raises(sf.StyleforgeError, match=r"(posix|os)\.system"):
        sf.load(path)
    assert not marker.exists()


def test_object_arrays_are_refused(tmp_path):
    states = _tf_states()
    states[1]["variables"] = [("Output/bias", np.array([1, 2], dtype=object))] + states[1]["variables"]
    path = tmp_path / "object-array.pkl"
    write_tf_pickle(path, states)
    with pytest.raises(sf.StyleforgeError, match="Python objects"):
        sf.load(path, network_key="D")


def test_tf_stylegan1_unknown_kwargs_and_unmapped_variables_are_refused_by_name(tmp_path):
    states = _tf_states()
    v1 = [dict(s) for s in states]
    synthesis = dict(v1[2]["components"]["synthesis"])
    synthesis["variables"] = synthesis["variables"] + [("4x4/Const/StyleMod/weight", np.zeros([16, 16], "f4"))]
    v1[2]["components"] = dict(v1[2]["components"], synthesis=synthesis)
    write_tf_pickle(tmp_path / "v1.pkl", v1)  # a StyleGAN2 network with a v1 variable: read as v1, refused by name
    with pytest.raises(sf.StyleforgeError, match=r"synthesis/4x4/Conv/mod_weight has no counterpart in the StyleGAN v1"):
        sf.load(tmp_path / "v1.pkl")

    odd = [dict(s) for s in states]
    odd[2]["static_kwargs"] = dict(odd[2]["static_kwargs"], fmap_decay=0.5)
    write_tf_pickle(tmp_path / "kwarg.pkl", odd)
    with pytest.raises(sf.StyleforgeError, match="fmap_decay"):
        sf.load(tmp_path / "kwarg.pkl")

    extra = [dict(s) for s in states]
    extra[1]["variables"] = extra[1]["variables"] + [("4x4/Extra/weight", np.zeros([2], "f4"))]
    write_tf_pickle(tmp_path / "var.pkl", extra)
    with pytest.raises(sf.StyleforgeError, match="4x4/Extra/weight"):
        sf.load(tmp_path / "var.pkl", network_key="D")
    assert isinstance(sf.load(tmp_path / "var.pkl"), sf.Generator)  # G_ema is unaffected


def test_numpy_arrays_of_both_numpy_generations_are_read():
    """sg3-af-0 stores numpy arrays under numpy ≥ 2 names, tf-0 under numpy 1.x names."""
    af = read_network_pickle(ROOT / "sg3-af-0.pkl").entries["G_ema"]
    layer = af.child("synthesis").child("L0_36_16")
    assert isinstance(layer.state["in_size"], np.ndarray) and layer.state["in_size"].tolist() == [36, 36]
    tf = read_network_pickle(ROOT / "tf-0.pkl").entries["G_ema"]
    assert all(isinstance(v, (np.ndarray, np.float32)) for _, v in tf.variables)  # lod is a 0-d scalar
    variables = dict(tf.components["synthesis"].variables)
    assert isinstance(variables["4x4/Conv/weight"], np.ndarray) and variables["4x4/Conv/weight"].shape == (3, 3, 8, 8)
