"""Every file styleforge writes comes back (issue: "styleforge refuses about 1 in 256 of its own
files"): format detection by what each format guarantees, over header lengths that start with every
possible byte; exports other code opens (a default torch.load); a training run's G, D and G_ema
exported into every layout and read back exactly; --network given a model path."""

import os
import pickle
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import styleforge as sf
import styleforge.tagged as tagged
from styleforge.analysis import load_predictor, save_predictor
from styleforge.analysis.predictor import AttributePredictor, PredictorConfig
from styleforge.checkpoint import detect_format, export_reference, export_rosinality, load, load_networks
from styleforge.checkpoint.training_state import Counters, read_training_state, save_training_state
from styleforge.cli import main
from styleforge.edit import Edit, load_edits, save_edits
from styleforge.latent_files import latent_for, read_latents, save_latents
from styleforge.train import training_config

from helpers import tiny

# safetensors pads its JSON header to a multiple of 8 bytes, so a header length's first byte is one of
# these 32 values; version strings 8 characters apart move the header through all of them.
REACHABLE = set(range(0, 256, 8))
PADDINGS = range(0, 256, 8)


def _randomize(model, seed: int):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for value in model.state_dict().values():
            if value.is_floating_point():
                value.copy_(torch.randn(value.shape, generator=g) * 3)
    return model


def _same_state(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _first_byte(path) -> int:
    with open(path, "rb") as f:
        return f.read(1)[0]


def _write_read(monkeypatch, tmp_path, write, read_back):
    """write(path, i) for every padding of the version string, then read_back(path, i); returns the
    first bytes seen (REACHABLE when the header lengths covered every residue)."""
    seen = set()
    for i in PADDINGS:
        monkeypatch.setattr(tagged, "__version__", "0.1.0+" + "x" * i)
        path = tmp_path / f"f{i % 7}.safetensors"
        write(path, i)
        seen.add(_first_byte(path))
        read_back(path, i)
    return seen


def test_models_of_every_header_length_load(monkeypatch, tmp_path):
    G, D = tiny("G", c_dim=3), tiny("D", c_dim=3)
    for model, kind in ((G, "G"), (D, "D")):
        def write(path, i):
            sf.save(_randomize(model, i), path)

        def read_back(path, i):
            assert detect_format(path) == "styleforge"
            assert _same_state(sf.load(path), model)
        assert _write_read(monkeypatch, tmp_path, write, read_back) == REACHABLE, kind


def test_reference_exports_of_every_header_length_load(monkeypatch, tmp_path):
    G = tiny("G")

    def write(path, i):
        export_reference(_randomize(G, i), path)

    def read_back(path, i):
        assert detect_format(path) == "reference-export"
        assert _same_state(load(path), G)
    assert _write_read(monkeypatch, tmp_path, write, read_back) == REACHABLE


def test_training_checkpoints_of_every_header_length_load(monkeypatch, tmp_path):
    config = training_config("tiny", resolution=16)
    G, D, G_ema = tiny("G"), tiny("D"), tiny("G")
    opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())

    def write(path, i):
        for network in (G, D, G_ema):
            _randomize(network, i)
        save_training_state(path, config, G, D, G_ema, opt_G, opt_D, torch.tensor([float(i)]),
                            Counters(1000 + i, 1000 + i))  # fixed-width counters: only the padding moves the header

    def read_back(path, i):
        assert detect_format(path) == "training-checkpoint"
        metadata, tensors = read_training_state(path)
        assert float(tensors["pl_mean"]) == i
        networks = load_networks(path)
        assert all(_same_state(networks[k], m) for k, m in (("G", G), ("D", D), ("G_ema", G_ema)))
    assert _write_read(monkeypatch, tmp_path, write, read_back) == REACHABLE


def test_edits_latents_and_predictors_of_every_header_length_load(monkeypatch, tmp_path):
    G = tiny("G")
    predictor = AttributePredictor(PredictorConfig())

    def write_edit(path, i):
        save_edits([Edit(f"e{i:03d}", "custom", "w", torch.randn(G.w_dim), unit=100 + i)], path)

    def read_edit(path, i):
        (edit,) = load_edits(path)
        assert edit.name == f"e{i:03d}" and edit.unit == 100 + i

    def write_latent(path, i):
        save_latents(path, latent_for(G, "ws", torch.full((1, G.num_ws, G.w_dim), float(i)), info={"i": f"{i:03d}"}))

    def read_latent(path, i):
        latent = read_latents(path)
        assert latent.space == "ws" and float(latent.latent[0, 0, 0]) == i and latent.info == {"i": f"{i:03d}"}

    def write_predictor(path, i):
        save_predictor(_randomize(predictor, i), path, {"score": i})

    def read_predictor(path, i):
        assert _same_state(load_predictor(path), predictor)

    for write, read_back in ((write_edit, read_edit), (write_latent, read_latent),
                             (write_predictor, read_predictor)):
        assert _write_read(monkeypatch, tmp_path, write, read_back) == REACHABLE, write.__name__


def test_a_thousand_random_tiny_models_all_load(tmp_path):
    rng = random.Random(0)
    configs = [dict(z_dim=rng.randint(1, 40), w_dim=rng.randint(1, 40), c_dim=rng.choice([0, 0, 3, 10]),
                    mapping_layers=rng.randint(1, 3), resolution=rng.choice([4, 8, 16]),
                    channel_max=rng.choice([4, 8, 16]), architecture=rng.choice(["orig", "skip", "resnet"]))
               for _ in range(64)]
    models = [sf.build("tiny", "G", **c) for c in configs] + [sf.build("tiny", "D", resolution=16, c_dim=c)
                                                               for c in (0, 5)]
    first_bytes = set()
    for i in range(1000):
        model = _randomize(models[i % len(models)], i)
        path = sf.save(model, tmp_path / "m.safetensors")
        first_bytes.add(_first_byte(path))
        assert _same_state(sf.load(path), model), i
    assert 0x80 in first_bytes and len(first_bytes) >= 16  # many header lengths, 0x80… among them


def test_a_model_file_whose_header_length_starts_with_0x80_loads(tmp_path, capsys):
    """The reported case (a 64 px resnet tiny model with some number of classes, written by `new`,
    whose header length starts with byte 0x80, a pickle's first byte) through the command line."""
    found = None
    for resolution in (16, 32, 64):
        for c_dim in range(40):
            path = tmp_path / f"x{resolution}-{c_dim}.safetensors"
            assert main(["new", "--preset", "tiny", "--resolution", str(resolution), "--arch", "resnet", "--c-dim",
                         str(c_dim), "--out", str(path)]) == 0
            if _first_byte(path) == 0x80:
                found = path
                break
        if found:
            break
    path = found or path
    assert _first_byte(path) == 0x80
    capsys.readouterr()
    assert main(["inspect", "--model", str(path)]) == 0
    assert "total parameters" in capsys.readouterr().out


def test_a_pickle_is_recognized_by_its_protocol_opcode(tmp_path):
    path = tmp_path / "junk.pkl"
    path.write_bytes(b"\x80\x1b" + b"\0" * 40)  # 0x80 then no valid protocol: neither pickle nor safetensors
    with pytest.raises(sf.StyleforgeError, match="unknown file format"):
        detect_format(path)


# ------------------------------------------------------------------------ exports other code opens

def test_default_torch_load_opens_the_rosinality_export(tmp_path):
    G, D = tiny("G"), tiny("D")
    path = export_rosinality(tmp_path / "r.pt", G=G, D=D, G_train=tiny("G"))
    checkpoint = torch.load(path)  # defaults: weights_only=True since torch 2.6
    assert set(checkpoint) == {"g_ema", "g", "d", "latent_avg", "args"}
    assert checkpoint["args"] == {"size": 16, "latent": 32, "n_mlp": 2, "channel_multiplier": 2}
    assert _same_state(load(path, network_key="G_ema"), G)


def test_a_trained_run_exports_G_D_and_G_ema_into_every_layout(tmp_path, capsys):
    from styleforge.train import train

    result = train(training_config("tiny", kimg=0.016, snapshot_kimg=0.016, resolution=16), tmp_path / "runs")
    checkpoint = sorted((result.run_dir / "checkpoints").iterdir())[-1]
    assert detect_format(checkpoint) == "training-checkpoint"
    networks = load_networks(checkpoint)
    assert set(networks) == {"G", "D", "G_ema"}
    assert not _same_state(networks["G"], networks["G_ema"])  # the EMA differs from the trained G
    assert main(["inspect", "--model", str(checkpoint), "--network", "D"]) == 0
    assert "training checkpoint with G, D, G_ema" in capsys.readouterr().out

    out = tmp_path / "export"
    for dest, to in (("ours.safetensors", "styleforge"), ("ref.safetensors", "reference"), ("ros.pt", "rosinality")):
        assert main(["convert", "--src", str(checkpoint), "--dest", str(out / dest), "--to", to,
                     "--network", "all"]) == 0
    for key, network in networks.items():
        assert _same_state(sf.load(out / f"ours-{key}.safetensors"), network)
        assert _same_state(load(out / f"ref-{key}.safetensors"), network)
    ros = torch.load(out / "ros.pt")
    assert set(ros) == {"g_ema", "g", "d", "latent_avg", "args"}
    back = load_networks(out / "ros.pt")
    with torch.no_grad():
        z = torch.randn(2, 32, generator=torch.Generator().manual_seed(0))
        for key in ("G", "G_ema"):
            assert torch.allclose(back[key](z, None, noise_mode="const"), networks[key](z, None, noise_mode="const"),
                                  atol=1e-5)
        image = torch.rand(2, 3, 16, 16) * 2 - 1
        assert torch.allclose(back["D"](image), networks["D"](image), atol=1e-5)


# ------------------------------------------------------------------- --network as NVIDIA's tools use it

@pytest.mark.parametrize("command", [["generate", "--seeds", "0"], ["mix", "--rows", "0", "--cols", "1"],
                                     ["project", "--steps", "1", "--w-avg-samples", "2", "--distance", "pixel"]])
def test_network_given_a_model_path_is_the_model(command, tmp_path):
    model = sf.save(tiny("G"), tmp_path / "net.safetensors")
    target = tmp_path / "t.png"
    from PIL import Image
    Image.new("RGB", (16, 16), (120, 40, 200)).save(target)
    extra = ["--target", str(target)] if command[0] == "project" else []
    assert main([command[0], "--network", str(model), *command[1:], *extra, "--outdir", str(tmp_path / "o")]) == 0
    assert any((tmp_path / "o").rglob("*.png"))


def test_network_given_neither_key_nor_model_says_so(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--network", "banana", "--seeds", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the model file goes to --model" in err
    assert main(["generate", "--seeds", "0", "--outdir", str(tmp_path)]) == 2
    assert "required: --model" in capsys.readouterr().err


def test_inspect_reports_a_network_it_cannot_load_and_exits_0(tmp_path, capsys):
    """inspect describes every network of a pickle; one that loading refuses (a StyleGAN v1 TF
    discriminator) is reported, not turned into an error — refusal belongs to loading."""
    import numpy as np

    from reference_pickles import write_tf_pickle
    from test_stylegan1_tf import KWARGS, _state, _variables

    variables = _variables(16, 3, 64, 16, 16, 3, seed=0)
    d_state = {"version": 3, "name": "D", "static_kwargs": {}, "components": {}, "build_func_name": "D_basic",
               "build_module_src": "#\n", "variables": [("4x4/Conv/Noise/weight", np.zeros([8], np.float32))]}
    path = tmp_path / "v1.pkl"
    write_tf_pickle(path, [_state(variables, KWARGS), d_state, _state(variables, KWARGS)])
    assert main(["inspect", "--model", str(path), "--network", "D"]) == 0
    assert "D cannot be loaded here: network 'D' is a StyleGAN v1 TensorFlow discriminator" in capsys.readouterr().out


# --------------------------------------------------------------- back into NVIDIA's code (docs)

STAND_IN = '''"""Stand-ins with the constructor signatures of NVIDIA's classes ({repo}); load_state_dict builds
styleforge's network from the state and kwargs, so key names and kwargs are checked for real."""
import torch
from styleforge.checkpoint import from_reference


class Generator(torch.nn.Module):
    def __init__(self, z_dim, c_dim, w_dim, img_resolution, img_channels, mapping_kwargs={}, {synthesis}):
        super().__init__()
        self.kwargs = dict(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, img_resolution=img_resolution,
                           img_channels=img_channels, mapping_kwargs=mapping_kwargs, synthesis_kwargs=synthesis_kwargs)

    def load_state_dict(self, state):
        self.net = from_reference(state, self.kwargs, "G")


class Discriminator(torch.nn.Module):
    def __init__(self, c_dim, img_resolution, img_channels, architecture="resnet", channel_base=32768,
                 channel_max=512, num_fp16_res=0, conv_clamp=None, cmap_dim=None, block_kwargs={},
                 mapping_kwargs={}, epilogue_kwargs={}):
        super().__init__()
        self.kwargs = {k: v for k, v in locals().items() if k not in ("self", "__class__")}

    def load_state_dict(self, state):
        self.net = from_reference(state, self.kwargs, "D")
'''


@pytest.mark.parametrize("repo", ["stylegan2-ada-pytorch", "stylegan3"])
def test_the_documented_glue_rebuilds_the_networks_in_nvidia_code(repo, tmp_path):
    """docs/formats.md's lines, run against stand-ins of each repository's constructor signatures
    (stylegan2-ada-pytorch: `synthesis_kwargs={}`; stylegan3's networks_stylegan2: `**synthesis_kwargs`)."""
    docs = (Path(__file__).parent.parent / "docs" / "formats.md").read_text()
    (glue,) = [block for block in re.findall(r"```python\n(.*?)```", docs, re.S) if "pickle.dump" in block]
    module, synthesis = "networks", "synthesis_kwargs={}"
    if repo == "stylegan3":  # the two edits the docs name for stylegan3
        glue = glue.replace("from training.networks import", "from training.networks_stylegan2 import")
        glue = glue.replace('layout="init_kwargs"):', 'layout="init_kwargs_stylegan3"):')
        module, synthesis = "networks_stylegan2", "**synthesis_kwargs"
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "__init__.py").write_text("")
    (tmp_path / "training" / f"{module}.py").write_text(STAND_IN.replace("{synthesis}", synthesis)
                                                        .replace("{repo}", repo))
    networks = {"G": tiny("G"), "D": tiny("D"), "G_ema": _randomize(tiny("G"), 5)}
    for key, network in networks.items():
        export_reference(network, tmp_path / f"run-ref-{key}.safetensors")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(sf.__file__).parent.parent)])}
    run = subprocess.run([sys.executable, "-c", glue], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        with open(tmp_path / "network-snapshot-styleforge.pkl", "rb") as f:
            data = pickle.load(f)  # the stand-in classes of this test's own folder
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "training" or m.startswith("training.")]:
            del sys.modules[name]
    assert set(data) == {"G", "D", "G_ema", "augment_pipe", "training_set_kwargs"}
    for key, network in networks.items():
        assert _same_state(data[key].net, network), key


def test_rosinality_exports_of_random_contents_load(tmp_path):
    G, D = tiny("G"), tiny("D")
    for i in range(16):
        path = export_rosinality(tmp_path / "r.pt", G=_randomize(G, i), D=_randomize(D, 100 + i))
        assert detect_format(path) == "rosinality"
        networks = load_networks(path)
        with torch.no_grad():
            z = torch.randn(2, G.z_dim, generator=torch.Generator().manual_seed(i))
            assert torch.allclose(networks["G_ema"](z, None, noise_mode="const"), G(z, None, noise_mode="const"),
                                  atol=1e-4)
