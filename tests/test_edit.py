"""Semantic editing (M5): SeFa against closed forms computed here with numpy from the weights, GANSpace
against a plain PCA, InterFaceGAN on planted boundaries, StyleSpace relevance and gradient maps, the
edit object (apply, compose, files) and the `styleforge edit` command with its bad-input errors."""

import json

import numpy as np
import pytest
import torch
from helpers import tiny
from safetensors.torch import load_file

import styleforge as sf
from styleforge.analysis import save_predictor
from styleforge.analysis.predictor import AttributePredictor, PredictorConfig
from styleforge.cli import main
from styleforge.edit import (Edit, apply_edits, attribute_relevance, condition_boundary, ganspace_edits,
                             gradient_maps, load_edits, locally_active_channels, model_dims, save_edits, sefa,
                             sefa_edits, select_edits, train_boundary, w_pca)
from styleforge.edit.edits import sample_w
from styleforge.edit.stylespace import top_regions
from styleforge.latents import space_sizes, styles_to_vector, vector_to_styles


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(3)
    model = tiny()
    with torch.no_grad():  # trained-looking affines: unequal rows, so the spectra have distinct values
        for name, p in model.named_parameters():
            if name.endswith("affine.weight"):
                p.mul_(torch.rand(p.shape[0], 1) * 2 + 0.2)
    return model


def _affine_weights(G):
    """{W+ row: [(kind, weight as numpy)]} read from the state dict by name, without the library's helpers."""
    state = {k: v.numpy() for k, v in G.state_dict().items()}
    rows = {}
    for layer in G.style_layers:
        block, name = layer.name.split(".")
        rows.setdefault(layer.w_index, []).append((layer.kind, state[f"synthesis.{block}.{name}.affine.weight"]))
    return rows


def _same_directions(a, b, count):
    """Unit rows equal up to sign."""
    dots = np.abs(np.sum(np.asarray(a[:count], np.float64) * np.asarray(b[:count], np.float64), axis=1))
    np.testing.assert_allclose(dots, 1, atol=1e-4)


def test_sefa_genforce_is_the_eigenbasis_of_the_normalized_style_weights(G):
    rows = _affine_weights(G)
    last = G.num_ws - 1
    picked = [w for r in range(G.num_ws) for kind, w in rows[r] if kind == "conv" or (r == last and kind == "to_rgb")]
    assert len(picked) == G.num_ws  # every conv plus the last ToRGB
    A = np.concatenate(picked).astype(np.float64)
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    values, vectors = np.linalg.eigh(A.T @ A)
    order = np.argsort(values)[::-1]
    directions, ours = sefa(G, layers="all", variant="genforce")
    assert directions.shape == (G.w_dim, G.w_dim) and ours.shape == (G.w_dim,)
    np.testing.assert_allclose(torch.linalg.norm(directions, dim=1), 1, atol=1e-5)
    np.testing.assert_allclose(ours, values[order], rtol=1e-4, atol=1e-4)
    assert torch.all(ours[:-1] >= ours[1:])
    _same_directions(directions.numpy(), vectors[:, order].T, 8)


def test_sefa_rosinality_reads_what_closed_form_factorization_reads(G, tmp_path):
    """rosinality's script factorizes the g_ema modulation weights whose key holds "modulation" and
    "weight" but not "to_rgbs": every conv and `to_rgb1`. Here that set is read from our rosinality
    export of G (the file their script would open), stacked, and its right singular basis compared."""
    from styleforge.checkpoint import export_rosinality

    checkpoint = torch.load(export_rosinality(tmp_path / "g.pt", G=G))
    chosen = [k for k in checkpoint["g_ema"] if "modulation" in k and "weight" in k and "to_rgbs" not in k]
    assert any(k.startswith("to_rgb1.") for k in chosen)
    A = torch.cat([checkpoint["g_ema"][k] for k in chosen]).double().numpy()
    _, singular, vt = np.linalg.svd(A)
    directions, values = sefa(G, variant="rosinality")
    np.testing.assert_allclose(values[:len(singular)], singular ** 2, rtol=1e-4)
    _same_directions(directions.numpy(), vt, 8)


def test_sefa_layer_selection(G):
    rows = _affine_weights(G)
    A = np.concatenate([w for r in (1, 2) for kind, w in rows[r] if kind == "conv"]).astype(np.float64)
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    values, vectors = np.linalg.eigh(A.T @ A)
    directions, _ = sefa(G, layers="1-2")
    _same_directions(directions.numpy(), vectors[:, np.argsort(values)[::-1]].T, 4)
    assert sf.edit.sefa_layers(G, "coarse") == [0, 1, 2, 3]
    with pytest.raises(sf.StyleforgeError, match="outside W\\+ of this model \\(0..5\\)"):
        sefa(G, layers="0-9")
    with pytest.raises(sf.StyleforgeError, match="conv layers only"):
        sefa(G, layers=[G.num_ws - 1], variant="rosinality")
    with pytest.raises(sf.StyleforgeError, match="no fine layers"):
        sefa(G, layers="fine")
    with pytest.raises(sf.StyleforgeError, match="variant must be one of"):
        sefa(G, variant="pca")
    with pytest.raises(sf.StyleforgeError, match="there is no direction 40"):
        sefa_edits(G, indices=[0, 40], samples=100)
    edits = sefa_edits(G, layers="1-2", indices=[0, 3], samples=500)
    assert [e.layers for e in edits] == [(1, 2), (1, 2)] and edits[1].info["index"] == 3


def test_ganspace_matches_a_plain_pca_of_the_same_samples(G):
    components, sigmas, mean = w_pca(G, samples=3000, seed=5, batch=700)
    rng = torch.Generator().manual_seed(5)  # the same samples, drawn batch by batch the same way
    w = torch.cat([sample_w(G, n, rng) for n in (700, 700, 700, 700, 200)]).double().numpy()
    centred = w - w.mean(0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(sigmas, singular / np.sqrt(len(w) - 1), rtol=1e-3)
    np.testing.assert_allclose(mean, w.mean(0), atol=1e-5)
    _same_directions(components.numpy(), vt, 5)
    edits = ganspace_edits(G, components, sigmas, [0, 2], layers="0-1")
    assert edits[1].unit == pytest.approx(float(sigmas[2])) and edits[1].layers == (0, 1)
    with pytest.raises(sf.StyleforgeError, match="no component 32"):
        ganspace_edits(G, components, sigmas, [32])


def test_interfacegan_recovers_a_planted_boundary_and_conditions_it():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(4000, 16))
    normal = rng.normal(size=16)
    normal /= np.linalg.norm(normal)
    scores = codes @ normal + 0.05 * rng.normal(size=4000)
    found, info = train_boundary(codes, scores, fraction=0.05)
    assert abs(float(found @ normal)) > 0.95 and found @ normal > 0
    assert info["val_accuracy"] > 0.95 and info["positives"] == 200
    other = rng.normal(size=16)
    other /= np.linalg.norm(other)
    conditioned = condition_boundary(found, [other])
    expected = found - (found @ other) * other  # the paper's one-condition formula
    np.testing.assert_allclose(conditioned, expected / np.linalg.norm(expected), atol=1e-5)
    third = rng.normal(size=16)
    both = condition_boundary(found, [other, third])
    assert abs(both @ other) < 1e-5 and abs(both @ third) < 1e-5 and np.linalg.norm(both) == pytest.approx(1)
    with pytest.raises(sf.StyleforgeError, match="same score"):
        train_boundary(codes, np.zeros(4000))
    with pytest.raises(sf.StyleforgeError, match="at least 250"):
        train_boundary(codes[:100], scores[:100])


def test_stylespace_relevance_finds_the_planted_channel(G):
    sizes = space_sizes(G)
    rng = np.random.default_rng(1)
    s = rng.normal(size=(3000, sizes.s_dim)) * rng.uniform(0.5, 2, size=sizes.s_dim)
    scores = rng.normal(size=3000)
    s[:, 70] += 3 * scores                  # a conv channel (b8.conv_up, 64..95) carries the attribute
    s[:, 33] -= 5 * scores                  # a ToRGB channel (b4.to_rgb, 32..63) even more: excluded
    theta, sign = attribute_relevance(G, s, scores, fraction=0.02)
    assert G.style_layers[1].kind == "to_rgb" and theta[33] == 0
    assert int(np.argmax(theta)) == 70 and sign[70] == 1


def test_gradient_maps_are_the_derivatives_of_the_image(G):
    ws = G.mapping(torch.randn(1, G.z_dim))
    s = styles_to_vector(G.styles(ws)).detach()
    maps = gradient_maps(G, s, [3, 100], size=8, chunk=1)
    assert maps.shape == (2, 8, 8)
    sizes = space_sizes(G)
    for row, channel in enumerate((3, 100)):
        eps = 1e-3
        images = []
        for sign in (1, -1):
            moved = s.clone()
            moved[0, channel] += sign * eps
            x = G.synthesis.from_styles(vector_to_styles(moved, sizes), noise_mode="const")
            images.append(torch.nn.functional.adaptive_avg_pool2d(x, 8))
        finite = ((images[0] - images[1]) / (2 * eps)).abs().sum(1)[0]
        np.testing.assert_allclose(maps[row].numpy(), finite.detach().numpy(), atol=2e-3, rtol=2e-2)


def test_top_regions_follow_the_authors_area_matched_rule():
    """StyleSpace's align_mask.py / semantic_channel.py: a region of o pixels is matched by the map's o
    strongest pixels and scored n / o² (n = shared pixels), so a small region that the map covers
    wins over a large one it covers as much; absent regions are skipped."""
    labels = np.zeros((4, 4), int)
    labels[0, :2] = 1                                   # region 1: 2 pixels; region 0: 14; region 2: absent
    on_small = np.zeros((4, 4)); on_small[0, :2] = 1.0  # all on region 1
    spread = np.ones((4, 4)); spread[0, :2] = 0.5       # everywhere but weaker on region 1
    half = np.zeros((4, 4)); half[0, 0] = 1.0; half[1:, :] = 0.5   # 1 of region 1's pixels, most of region 0
    top, present = top_regions(np.stack([on_small, spread, half]), labels, 3)
    assert list(present) == [True, True, False]
    # on_small: region 1: n = 2 → 2/4; region 0: only 2 pixels are above its threshold (0), none in it → 0
    # spread: region 1: threshold 1 (87.5th percentile), nothing strictly above → 0; region 0: n = 14 → 14/196
    # half: region 1: threshold 0.5 (the plateau), only (0,0) above → 1/4; region 0: n = 12 → 12/196
    assert list(top) == [1, 0, 1]


def test_locally_active_channels_shape_and_thresholds(G):
    predictor = AttributePredictor(PredictorConfig(resolution=16, width=8)).eval()
    found = locally_active_channels(G, predictor, [0, 1])
    assert set(found) == set(predictor.config.regions)
    conv = {i for i, name in enumerate(sf.edit.channel_names(G)) if ".to_rgb" not in name}
    for region, channels in found.items():
        assert all(c in conv and 0.5 < rate <= 1 for c, rate in channels)
        assert [rate for _, rate in channels] == sorted((rate for _, rate in channels), reverse=True)


def test_edits_apply_on_their_layers_and_compose_in_generator_order(G):
    dims = model_dims(G)
    z = torch.randn(3, G.z_dim)
    direction = torch.nn.functional.normalize(torch.randn(G.w_dim), dim=0)
    w_edit = Edit("w", "custom", "w", direction, unit=0.5, layers=(1, 2), dims=dims)
    base = apply_edits(G, [], z=z)["ws"]
    moved = apply_edits(G, [(w_edit, 2.0)], z=z)["ws"]
    torch.testing.assert_close(moved[:, [1, 2]] - base[:, [1, 2]], (direction * 1.0).expand(3, 2, -1))
    torch.testing.assert_close(moved[:, [0, 3, 4, 5]], base[:, [0, 3, 4, 5]])
    normal = torch.nn.functional.normalize(torch.randn(G.z_dim), dim=0)
    z_edit = Edit("z", "interfacegan", "z", normal, to_distance=True, dims=dims)
    via_z = apply_edits(G, [(z_edit, 1.5)], z=z)["ws"]
    expected_z = z + (1.5 - z @ normal)[:, None] * normal
    torch.testing.assert_close(via_z, G.mapping(expected_z))
    channel = 45
    s_edit = sf.edit.channel_edit(G, channel, std=0.25, sign=-1)
    styles = apply_edits(G, [(s_edit, 4.0), (w_edit, 2.0), (z_edit, 1.5)], z=z)["styles"]
    flat = styles_to_vector(styles)
    reference = styles_to_vector(G.styles(apply_edits(G, [(w_edit, 2.0), (z_edit, 1.5)], z=z)["ws"]))
    difference = flat - reference
    assert torch.allclose(difference[:, channel], torch.full((3,), -1.0))
    difference[:, channel] = 0
    assert difference.abs().max() < 1e-6
    with pytest.raises(sf.StyleforgeError, match="is in Z"):
        apply_edits(G, [(z_edit, 1.0)], ws=base)
    truncated = apply_edits(G, [(w_edit, 0.0)], ws=base, psi=0.5)["ws"]
    torch.testing.assert_close(truncated, G.w_avg.lerp(base, 0.5))


def test_edit_files_round_trip_and_refuse_other_models(G, tmp_path):
    edits = sefa_edits(G, indices=[0, 1], samples=200) + [sf.edit.channel_edit(G, 7, 0.3)]
    path = save_edits(edits, tmp_path / "e.safetensors")
    loaded = load_edits(path)
    assert [e.name for e in loaded] == ["sefa-0", "sefa-1", "stylespace-b4.conv[7]"]
    assert all(torch.equal(a.direction, b.direction) and a.unit == b.unit and a.info == b.info
               for a, b in zip(edits, loaded))
    assert select_edits(loaded, "sefa-1", "f")[0].name == "sefa-1"
    assert [e.name for e in select_edits(loaded, "0,2", "f")] == ["sefa-0", "stylespace-b4.conv[7]"]
    with pytest.raises(sf.StyleforgeError, match="has 3 edits \\(0..2\\); there is no edit 5"):
        select_edits(loaded, "5", "f")
    with pytest.raises(sf.StyleforgeError, match="no edit named 'smile'"):
        select_edits(loaded, "smile", "f")
    other = tiny(w_dim=16)
    with pytest.raises(sf.StyleforgeError, match="computed for a model with w_dim 32, num_ws 6; this model has w_dim 16"):
        loaded[0].check_model(other)
    with pytest.raises(sf.StyleforgeError, match="s_channels 256 channels; this model has s_channels 128 channels"):
        loaded[2].check_model(tiny(channel_max=16))
    (tmp_path / "bad.safetensors").write_bytes(b"not a file")
    with pytest.raises(sf.StyleforgeError, match="not a styleforge edit file \\(not a safetensors file\\)"):
        load_edits(tmp_path / "bad.safetensors")


@pytest.fixture(scope="module")
def files(G, tmp_path_factory):
    root = tmp_path_factory.mktemp("edit")
    sf.save(G, root / "m.safetensors")
    sf.save(tiny(w_dim=16), root / "other.safetensors")
    torch.manual_seed(0)
    predictor = AttributePredictor(PredictorConfig(resolution=16, width=8)).eval()
    save_predictor(predictor, root / "p.safetensors")
    return root


def test_edit_cli_compute_apply_compare(files, tmp_path, capsys):
    m, p = str(files / "m.safetensors"), str(files / "p.safetensors")
    assert main(["edit", "sefa", "--model", m, "--directions", "0-2", "--seeds", "0,1", "--strengths", "-2:2:3",
                 "--out", str(tmp_path / "sefa.safetensors")]) == 0
    assert len(load_edits(tmp_path / "sefa.safetensors")) == 3
    from PIL import Image
    figure = np.asarray(Image.open(tmp_path / "sefa.png"))  # 2 seeds × 3 edits rows, 3 columns of 64 px (16 × 4)
    grid_h, grid_w = 6 * 64 + 5 * 2, 3 * 64 + 2 * 2
    top, left = figure.shape[0] - grid_h, figure.shape[1] - grid_w
    assert top > 8 and left > 40                         # strengths above, "seed S · edit" left of the rows
    for row in range(6):                                 # every row and column has its label (dark text)
        assert (figure[top + row * 66: top + row * 66 + 64, :left] < 100).any(), row
    for col in range(3):
        assert (figure[:top, left + col * 66: left + col * 66 + 64] < 100).any(), col
    assert main(["edit", "ganspace", "--model", m, "--samples", "500", "--components", "0,1", "--layers", "coarse",
                 "--no-figure", "--out", str(tmp_path / "pca.safetensors")]) == 0
    assert main(["edit", "interfacegan", "--model", m, "--predictor", p, "--samples", "300", "--fraction", "0.1",
                 "--factors", "smile,hat", "--conditions", "hat", "--latents", str(tmp_path / "lat"),
                 "--no-figure", "--out", str(tmp_path / "ifg.safetensors")]) == 0
    names = [e.name for e in load_edits(tmp_path / "ifg.safetensors")]
    assert names == ["smile-without-hat", "hat"]
    assert main(["edit", "stylespace", "--model", m, "--predictor", p, "--samples", "300", "--candidates", "2",
                 "--latents", str(tmp_path / "lat"), "--local-seeds", "1", "--factors", "smile",
                 "--no-figure", "--out", str(tmp_path / "ss.safetensors")]) == 0
    assert "reusing 300 samples" in capsys.readouterr().err
    assert [e.name for e in load_edits(tmp_path / "ss.safetensors")] == ["smile"]
    assert set(json.loads((tmp_path / "ss.regions.json").read_text())) >= {"face", "hair"}
    scores = tmp_path / "scores.npy"
    np.save(scores, np.arange(300, dtype=np.float32))
    assert main(["edit", "interfacegan", "--model", m, "--scores", str(scores), "--factors", "mine", "--space", "z",
                 "--latents", str(tmp_path / "lat"), "--fraction", "0.1", "--no-figure",
                 "--out", str(tmp_path / "mine.safetensors")]) == 0
    assert load_edits(tmp_path / "mine.safetensors")[0].space == "z"

    latent = tmp_path / "w.npz"
    np.savez(latent, w=np.random.default_rng(0).normal(size=(1, 6, 32)).astype(np.float32))
    assert main(["edit", "apply", "--model", m, "--edit", f"{tmp_path / 'sefa.safetensors'}:1",
                 "--edit", f"{tmp_path / 'ss.safetensors'}:smile=2", "--projected-w", str(latent),
                 "--strengths", "-1,1", "--out", str(tmp_path / "a.png"), "--video", str(tmp_path / "a.gif"),
                 "--save-latents", str(tmp_path / "edited.safetensors")]) == 0
    assert load_file(tmp_path / "edited.safetensors")["s"].shape == (1, 256)
    assert main(["edit", "apply", "--model", m, "--edit", str(tmp_path / "pca.safetensors"), "--seeds", "0-1",
                 "--out", str(tmp_path / "b.png"), "--save-latents", str(tmp_path / "b.safetensors")]) == 0
    assert load_file(tmp_path / "b.safetensors")["ws"].shape == (2, 6, 32)
    capsys.readouterr()
    assert main(["edit", "compare", "--model", m, "--predictor", p, "--seeds", "0-3",
                 "--edit", str(tmp_path / "sefa.safetensors"), "--edit", str(tmp_path / "ifg.safetensors"),
                 "--json", str(tmp_path / "cmp.json")]) == 0
    rows = json.loads((tmp_path / "cmp.json").read_text())
    assert {r["method"] for r in rows} == {"sefa-genforce", "interfacegan-w"}
    assert {r["factor"] for r in rows if r["method"] == "interfacegan-w"} == {"smile", "hat"}
    assert "| smile | sefa-genforce |" in capsys.readouterr().out


def _error(capsys, argv) -> str:
    """stderr of a command that must fail with exit code 2 (argparse's own errors exit instead of returning)."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    return capsys.readouterr().err


def test_edit_cli_bad_input_is_one_line(G, files, tmp_path, capsys):
    m, p, other = str(files / "m.safetensors"), str(files / "p.safetensors"), str(files / "other.safetensors")
    out = ["--out", str(tmp_path / "e.safetensors")]
    assert "unknown factor 'smil'" in _error(capsys, ["edit", "interfacegan", "--model", m, "--predictor", p,
                                                      "--factors", "smil", *out])
    assert "unknown factor 'glases'" in _error(capsys, ["edit", "interfacegan", "--model", m, "--predictor", p,
                                                        "--conditions", "glases", *out])
    assert "there is no direction 99" in _error(capsys, ["edit", "sefa", "--model", m, "--directions", "0,99", *out])
    assert "layer 6 is outside W+ of this model (0..5)" in _error(
        capsys, ["edit", "ganspace", "--model", m, "--samples", "100", "--layers", "2-7", *out])
    assert main(["edit", "sefa", "--model", m, "--no-figure", *out]) == 0
    assert "already exists" in _error(capsys, ["edit", "sefa", "--model", m, *out])
    err = _error(capsys, ["edit", "apply", "--model", other, "--edit", str(tmp_path / "e.safetensors"),
                          "--seeds", "0", "--out", str(tmp_path / "x.png")])
    assert "was computed for a model with w_dim 32, num_ws 6; this model has w_dim 16" in err
    assert "there is no edit 9" in _error(capsys, ["edit", "apply", "--model", m, "--edit",
                                                   f"{tmp_path / 'e.safetensors'}:9", "--seeds", "0",
                                                   "--out", str(tmp_path / "x.png")])
    assert "strengths: expected" in _error(capsys, ["edit", "apply", "--model", m, "--edit", "x", "--seeds", "0",
                                                    "--strengths", "a,b", "--out", str(tmp_path / "x.png")])
    err = _error(capsys, ["edit", "apply", "--model", m, "--edit", f"{tmp_path / 'e.safetensors'}:0=1", "--seeds",
                          "0", "--out", str(tmp_path / "x.png"), "--video", str(tmp_path / "v.gif")])
    assert "--video sweeps a strength" in err and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()  # refused before any work
    save_edits([Edit("mine", "interfacegan", "z", torch.randn(G.z_dim), dims=model_dims(G))],
               tmp_path / "mine.safetensors")
    np.savez(tmp_path / "w.npz", w=np.zeros((1, G.w_dim), np.float32))
    assert "is in Z, but a W+ latent" in _error(capsys, ["edit", "apply", "--model", m, "--edit",
                                                         str(tmp_path / "mine.safetensors"), "--projected-w",
                                                         str(tmp_path / "w.npz"), "--out", str(tmp_path / "x.png")])
