"""TensorFlow StyleGAN (v1) pickles (NVlabs/stylegan, version 3, `G_style` with `G_mapping` /
`G_synthesis`): built here in that layout with known values, read by styleforge, and compared with an
independent re-implementation of the v1 graph (`training/networks_stylegan.py`, written out below in
plain torch ops the way the TF graph runs them) — including the fused transposed up-convolution,
progressive-growing leftovers, `lod`, and the truncation v1 ships with."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import styleforge as sf
from styleforge.cli import main
from styleforge.latents import z_from_seeds

from reference_pickles import write_tf_pickle

SQRT2 = math.sqrt(2)


def _variables(resolution, channels, fmap_base, fmap_max, latent, mapping_layers, seed):
    """{component: [(name, value)]} for G_style in NVlabs/stylegan's variable names (random values)."""
    rng = np.random.RandomState(seed)
    r = lambda *shape: rng.randn(*shape).astype(np.float32)  # noqa: E731
    nf = lambda stage: min(int(fmap_base / 2.0 ** stage), fmap_max)  # noqa: E731
    log2 = int(math.log2(resolution))
    mapping = []
    for i in range(mapping_layers):
        mapping += [(f"Dense{i}/weight", r(latent, latent)), (f"Dense{i}/bias", r(latent) * 0.3)]
    synthesis = [("lod", np.float32(0))]
    synthesis += [(f"noise{i}", r(1, 1, 2 ** (i // 2 + 2), 2 ** (i // 2 + 2))) for i in range(log2 * 2 - 2)]

    def epilogue(prefix, c):
        return [(f"{prefix}/Noise/weight", r(c) * 0.3), (f"{prefix}/bias", r(c) * 0.3),
                (f"{prefix}/StyleMod/weight", r(latent, 2 * c)), (f"{prefix}/StyleMod/bias", r(2 * c) * 0.3)]
    synthesis += [("4x4/Const/const", 1 + r(1, nf(1), 4, 4) * 0.2)] + epilogue("4x4/Const", nf(1))
    synthesis += [("4x4/Conv/weight", r(3, 3, nf(1), nf(1)))] + epilogue("4x4/Conv", nf(1))
    for res in range(3, log2 + 1):
        s = f"{2 ** res}x{2 ** res}"
        synthesis += [(f"{s}/Conv0_up/weight", r(3, 3, nf(res - 2), nf(res - 1)))] + epilogue(f"{s}/Conv0_up", nf(res - 1))
        synthesis += [(f"{s}/Conv1/weight", r(3, 3, nf(res - 1), nf(res - 1)))] + epilogue(f"{s}/Conv1", nf(res - 1))
    for res in range(2, log2 + 1):  # progressive growing leaves a ToRGB per resolution
        synthesis += [(f"ToRGB_lod{log2 - res}/weight", r(1, 1, nf(res - 1), channels)),
                      (f"ToRGB_lod{log2 - res}/bias", r(channels) * 0.1)]
    return {"top": [("lod", np.float32(0)), ("dlatent_avg", r(latent))], "mapping": mapping, "synthesis": synthesis}


def _state(variables, static_kwargs, name="G_style"):
    component = lambda key: {"version": 3, "name": f"G_{key}", "static_kwargs": dict(static_kwargs),  # noqa: E731
                             "components": {}, "build_module_src": "# module source omitted in this fixture\n",
                             "build_func_name": f"G_{key}", "variables": variables[key]}
    return {"version": 3, "name": name, "static_kwargs": dict(static_kwargs),
            "components": {"mapping": component("mapping"), "synthesis": component("synthesis")},
            "build_module_src": "# module source omitted in this fixture\n", "build_func_name": "G_style",
            "variables": variables["top"]}


# ---------------------------------------------- the v1 graph, re-implemented here from networks_stylegan.py

def graph_images(variables, kwargs, z, psi=None, cutoff=None):
    v = {name: torch.from_numpy(np.asarray(value)) for name, value in variables["synthesis"]}
    m = {name: torch.from_numpy(np.asarray(value)) for name, value in variables["mapping"]}
    avg = torch.from_numpy(dict(variables["top"])["dlatent_avg"])
    lrmul, resolution = kwargs.get("mapping_lrmul", 0.01), kwargs["resolution"]
    log2 = int(math.log2(resolution))
    lrelu = lambda x: torch.maximum(x, x * 0.2)  # noqa: E731
    x = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)
    for i in range(kwargs["mapping_layers"]):
        w = m[f"Dense{i}/weight"]
        x = lrelu(x @ (w * (SQRT2 / math.sqrt(w.shape[0]) * lrmul)) + m[f"Dense{i}/bias"] * lrmul)
    num_layers = log2 * 2 - 2
    dl = x[:, None].repeat(1, num_layers, 1)
    if psi is not None and cutoff is not None:
        coefs = torch.where(torch.arange(num_layers)[None, :, None] < cutoff, psi, 1.0)
        dl = avg + (dl - avg) * coefs

    def conv(x, w, gain=SQRT2):  # conv2d(SAME) with the weight scale of get_weight(use_wscale)
        w = w * (gain / math.sqrt(np.prod(w.shape[:-1])))
        return F.conv2d(x, w.permute(3, 2, 0, 1), padding=w.shape[0] // 2)

    def epilogue(x, prefix, i):
        x = x + v[f"noise{i}"] * v[f"{prefix}/Noise/weight"].view(1, -1, 1, 1)
        x = lrelu(x + v[f"{prefix}/bias"].view(1, -1, 1, 1))
        x = x - x.mean([2, 3], keepdim=True)
        x = x * torch.rsqrt(x.square().mean([2, 3], keepdim=True) + 1e-8)
        sw = v[f"{prefix}/StyleMod/weight"]
        style = dl[:, i] @ (sw / math.sqrt(sw.shape[0])) + v[f"{prefix}/StyleMod/bias"]
        style = style.view(-1, 2, x.shape[1], 1, 1)
        return x * (style[:, 0] + 1) + style[:, 1]

    def blur(x):
        f = torch.tensor([1.0, 2.0, 1.0])
        f = (f[:, None] * f[None, :]) / 16
        return F.conv2d(x, f.view(1, 1, 3, 3).repeat(x.shape[1], 1, 1, 1), padding=1, groups=x.shape[1])

    x = epilogue(v["4x4/Const/const"].repeat(z.shape[0], 1, 1, 1), "4x4/Const", 0)
    x = epilogue(conv(x, v["4x4/Conv/weight"]), "4x4/Conv", 1)
    fused = kwargs.get("fused_scale", "auto")
    for res in range(3, log2 + 1):
        s = f"{2 ** res}x{2 ** res}"
        w = v[f"{s}/Conv0_up/weight"]
        if fused is True or (fused == "auto" and 2 ** res >= 128):
            w = w * (SQRT2 / math.sqrt(np.prod(w.shape[:-1])))
            w = F.pad(w.permute(0, 1, 3, 2), [0, 0, 0, 0, 1, 1, 1, 1])  # [k+2, k+2, out, in]
            w = w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]
            up = F.conv_transpose2d(x, w.permute(3, 2, 0, 1), stride=2, padding=1)
        else:
            up = conv(x.repeat_interleave(2, 2).repeat_interleave(2, 3), w)
        x = epilogue(blur(up), f"{s}/Conv0_up", res * 2 - 4)
        x = epilogue(conv(x, v[f"{s}/Conv1/weight"]), f"{s}/Conv1", res * 2 - 3)
    return conv(x, v["ToRGB_lod0/weight"], gain=1) + v["ToRGB_lod0/bias"].view(1, -1, 1, 1)


KWARGS = {"resolution": 16, "num_channels": 3, "latent_size": 16, "dlatent_size": 16, "fmap_base": 64,
          "fmap_max": 16, "mapping_layers": 3, "mapping_fmaps": 16, "truncation_psi": 0.7, "truncation_cutoff": 4}


@pytest.fixture(scope="module", params=["auto", True], ids=["nearest-up", "fused-transposed"])
def v1_pickle(request, tmp_path_factory):
    kwargs = dict(KWARGS, fused_scale=request.param)
    variables = _variables(16, 3, 64, 16, 16, 3, seed=0)
    path = tmp_path_factory.mktemp("v1") / "karras2019stylegan-test.pkl"
    d_state = {"version": 3, "name": "D", "static_kwargs": {}, "components": {},
               "build_module_src": "# module source omitted\n", "build_func_name": "D_basic",
               "variables": [("FromRGB_lod0/weight", np.zeros([1, 1, 3, 8], np.float32)),
                             ("4x4/Conv/Noise/weight", np.zeros([8], np.float32))]}
    write_tf_pickle(path, [_state(variables, kwargs), d_state, _state(variables, kwargs, "Gs")])
    return path, variables, kwargs


@torch.no_grad()
def test_a_v1_tf_pickle_gives_the_v1_graphs_images(v1_pickle):
    path, variables, kwargs = v1_pickle
    G = sf.load(path)
    assert G.config.family == "stylegan1" and G.num_ws == 6
    z = torch.randn(3, 16, generator=torch.Generator().manual_seed(1))
    expected = graph_images(variables, kwargs, z)
    images = G.synthesis(G.mapping(z), noise_mode="const")
    assert (images - expected).abs().max() <= 1e-5 * expected.abs().max()
    truncated = graph_images(variables, kwargs, z, psi=0.7, cutoff=4)
    ours = G.synthesis(G.mapping(z, psi=G.config.default_psi, cutoff=G.config.default_cutoff))
    assert (ours - truncated).abs().max() <= 1e-5 * truncated.abs().max()
    assert (G.config.default_psi, G.config.default_cutoff) == (0.7, 4)


def test_generate_uses_the_truncation_v1_ships_with(v1_pickle, tmp_path):
    path, variables, kwargs = v1_pickle
    assert main(["generate", "--model", str(path), "--seeds", "5", "--outdir", str(tmp_path / "a")]) == 0
    z = z_from_seeds([5], 16)
    expected = sf.media.to_uint8(graph_images(variables, kwargs, z, psi=0.7, cutoff=4))[0]
    from PIL import Image
    got = np.asarray(Image.open(tmp_path / "a" / "seed0005.png"))
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1
    assert main(["generate", "--model", str(path), "--seeds", "5", "--trunc", "1", "--outdir", str(tmp_path / "b")]) == 0
    plain = np.asarray(Image.open(tmp_path / "b" / "seed0005.png"))
    assert not np.array_equal(plain, got)  # --trunc overrides the model's default


def test_v1_discriminator_and_other_layouts_are_refused_by_name(v1_pickle, tmp_path):
    path, variables, kwargs = v1_pickle
    with pytest.raises(sf.StyleforgeError, match="StyleGAN v1 TensorFlow discriminator"):
        sf.load(path, network_key="D")
    grown = {**variables, "top": [("lod", np.float32(1.0)), variables["top"][1]]}
    half = tmp_path / "growing.pkl"
    write_tf_pickle(half, [_state(grown, kwargs), {}, _state(grown, kwargs)])
    with pytest.raises(sf.StyleforgeError, match="mid progressive growing"):
        sf.load(half)
    labelled = tmp_path / "labels.pkl"
    write_tf_pickle(labelled, [_state(variables, dict(kwargs, label_size=3)), {}, _state(variables, dict(kwargs, label_size=3))])
    with pytest.raises(sf.StyleforgeError, match="label_size=3 has no counterpart"):
        sf.load(labelled)


def test_commands_run_on_a_v1_model(v1_pickle, tmp_path):
    path, _, _ = v1_pickle
    assert main(["edit", "sefa", "--model", str(path), "--out", str(tmp_path / "s.safetensors")]) == 0
    assert main(["convert", "--src", str(path), "--dest", str(tmp_path / "v1.safetensors")]) == 0
    G = sf.load(tmp_path / "v1.safetensors")
    assert G.config.default_psi == 0.7  # recorded with the model
    assert main(["generate", "--model", str(path), "--seeds", "0", "--outdir", str(tmp_path / "g")]) == 0
    target = tmp_path / "g" / "seed0000.png"
    assert main(["project", "--model", str(path), "--target", str(target), "--steps", "2", "--w-avg-samples", "10",
                 "--distance", "pixel", "--outdir", str(tmp_path / "p")]) == 0
    ours_v2 = sf.save(sf.build("tiny", "G"), tmp_path / "v2.safetensors")
    assert main(["analyze", "droplets", "--models", str(tmp_path / "v1.safetensors"), str(ours_v2),
                 "--seeds", "0-1", "--outdir", str(tmp_path / "d")]) == 0


def test_the_explorer_serves_a_v1_tf_model(v1_pickle):
    import io

    from PIL import Image

    from styleforge.web import Explorer

    path, variables, kwargs = v1_pickle
    explorer = Explorer(sf.load(path), distance="pixel")
    try:
        shown = np.asarray(Image.open(io.BytesIO(explorer.image(explorer.view_from({"seed": "2"})))))
        expected = sf.media.to_uint8(graph_images(variables, kwargs, z_from_seeds([2], 16)))[0]
        assert np.abs(shown.astype(int) - expected.astype(int)).max() <= 1
    finally:
        explorer.close()
