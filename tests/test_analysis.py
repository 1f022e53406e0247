"""Analysis on toyfaces: DCI and separability on planted codes, the attribute predictor, latent
datasets, feature maps and spikiness, and the analyze CLI (M5)."""

import json

import numpy as np
import pytest
import torch

import styleforge as sf
from styleforge.analysis import (build_latent_dataset, conditional_entropy_bits, dci, dci_from_importance,
                                 evaluate_predictor, feature_grid, layer_features, load_predictor,
                                 save_predictor, separability, spikiness, train_predictor)
from styleforge.analysis.predictor import AttributePredictor, PredictorConfig
from styleforge.cli import main
from styleforge.data import ToyFaces
from styleforge.data.toyfaces import REGIONS, render


def _factors(n=600, k=4, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, k))


def test_dci_of_a_permuted_code_is_one_and_of_a_mixed_code_near_zero():
    factors = _factors()
    permuted = factors[:, [2, 0, 3, 1]]
    result = dci(permuted, factors, protocol="regression", n_estimators=20)
    assert result["disentanglement"] == pytest.approx(1, abs=0.02)
    assert result["completeness"] == pytest.approx(1, abs=0.02)
    assert result["informativeness"] > 0.9
    assert result["importance"].shape == (4, 4)
    mixed = np.repeat(factors.sum(1, keepdims=True), 4, axis=1)  # every dim carries every factor equally
    assert dci(torch.from_numpy(mixed), factors, protocol="regression", method="lasso")["disentanglement"] < 0.05


def test_dci_protocols_name_what_they_did():
    """Every protocol finds a permuted code disentangled; stylespace classifies each factor's 2 % extremes
    and leaves out a factor without 5 % of the samples on both sides of 0.5; seeds repeat results."""
    factors = _factors(n=1500)
    factors[:, 3] = 0.2 + 0.1 * factors[:, 3]            # never above 0.5: nothing to classify
    permuted = factors[:, [2, 0, 3, 1]]
    for protocol in ("stylespace", "disentanglement_lib", "regression"):
        result = dci(permuted, factors, protocol=protocol, seed=3)
        assert result["protocol"] == protocol and result["disentanglement"] > 0.9, protocol
        again = dci(permuted, factors, protocol=protocol, seed=3)
        assert np.array_equal(result["importance"], again["importance"]), protocol
    stylespace = dci(permuted, factors, protocol="stylespace")
    assert stylespace["factors_used"] == [0, 1, 2] and stylespace["importance"].shape == (4, 3)
    assert np.isnan(stylespace["per_factor_informativeness"][3]) and stylespace["informativeness"] == 1.0
    with pytest.raises(sf.StyleforgeError, match="protocol must be one of stylespace, disentanglement_lib"):
        dci(permuted, factors, protocol="paper")


def test_dci_formulas_on_a_hand_made_importance_matrix():
    one_to_one = dci_from_importance(np.eye(3))
    assert one_to_one["disentanglement"] == pytest.approx(1) and one_to_one["completeness"] == pytest.approx(1)
    uniform = dci_from_importance(np.ones((3, 3)))
    assert uniform["disentanglement"] == pytest.approx(0) and uniform["completeness"] == pytest.approx(0)
    # one code dim carrying two factors half each: D of that dim = 1 − H_2(½, ½) = 0
    half = dci_from_importance(np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert half["disentanglement"] == pytest.approx(0) and half["completeness"] == pytest.approx(1)
    with pytest.raises(sf.StyleforgeError, match="all zeros"):
        dci_from_importance(np.zeros((2, 2)))


def test_separability_of_planted_labels():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(400, 6))
    separable = 1 / (1 + np.exp(-8 * codes[:, :1]))               # decided by a hyperplane
    inseparable = rng.uniform(size=(400, 1))                      # unrelated to the codes
    result = separability(codes, np.hstack([separable, inseparable]), ["a", "b"])
    assert result["per_factor"]["a"] < 0.1 and result["per_factor"]["b"] > 0.8
    assert result["score"] == pytest.approx(2 ** (result["per_factor"]["a"] + result["per_factor"]["b"]))
    assert conditional_entropy_bits(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])) == 0
    assert conditional_entropy_bits(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])) == pytest.approx(1)


def test_toyfaces_region_maps_match_the_render():
    data = ToyFaces(32, seed=3)
    image, regions = data.image_and_regions(0)
    assert np.array_equal(image, data.image(0)) and regions.shape == (32, 32)
    assert regions[0, 0] == REGIONS.index("background") and (regions == REGIONS.index("face")).any()
    factors = dict(data.factors(0), glasses=1.0, hat=1.0)
    _, with_both = render(factors, 32, regions=True)
    assert {REGIONS.index("glasses"), REGIONS.index("hat"), REGIONS.index("eyes")} <= set(np.unique(with_both))


def test_the_predictor_learns_toyfaces_factors_and_regions(tmp_path):
    model = train_predictor(steps=150, batch=16, resolution=16, width=16)
    scores = evaluate_predictor(model, ToyFaces(16, seed=99), count=128)
    # Stated bar for this short run (the CLI's default run scores far higher; see docs/analysis.md).
    assert scores["r2/background_hue"] > 0.5 and scores["r2/skin_hue"] > 0.5
    assert scores["iou/background"] > 0.7
    path = save_predictor(model, tmp_path / "p.safetensors", scores)
    loaded = load_predictor(path)
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.equal(loaded.predict(images), model.predict(images))
    assert loaded.predict(torch.rand(2, 3, 64, 64)).shape == (2, 12)  # any resolution is resized
    with pytest.raises(sf.StyleforgeError, match="not a styleforge toyfaces predictor"):
        load_predictor(sf.save(sf.build("tiny", "G"), tmp_path / "g.safetensors"))


def test_latent_dataset_is_streamed_to_disk(tmp_path):
    torch.manual_seed(0)
    G = sf.build("tiny", "G")
    predictor = AttributePredictor(PredictorConfig(resolution=16, width=8))
    data = build_latent_dataset(G, predictor, tmp_path / "latents", samples=10, batch=4)
    sizes = sf.latents.space_sizes(G)
    assert data.codes("z").shape == (10, G.z_dim) and data.codes("s").shape == (10, sizes.s_dim)
    assert data.codes("wplus").shape == (10, G.num_ws * G.w_dim) and data.factors.shape == (10, 12)
    w = torch.from_numpy(np.array(data.codes("w")))
    assert torch.allclose(G.mapping(torch.from_numpy(np.array(data.codes("z"))))[:, 0], w, atol=1e-6)
    assert isinstance(data.codes("s"), np.memmap)


def test_spikiness_and_feature_grids():
    flat = torch.ones(4, 8, 8)
    spike = flat.clone()
    spike[:, 3, 5] = 50
    assert spikiness(flat) == pytest.approx(1) and spikiness(spike) == pytest.approx(50)
    G = sf.build("tiny", "G")
    features = layer_features(G, seed=0)
    assert "b16.conv" in features and features["b16.conv"].shape[1:] == (16, 16)
    grid = feature_grid(features["b8.conv"], channels=9, cell=16)
    assert grid.dtype == np.uint8 and grid.shape == (3 * 18, 3 * 18, 3)


def test_analyze_cli(tmp_path, capsys):
    torch.manual_seed(0)
    model = tmp_path / "g.safetensors"
    sf.save(sf.build("tiny", "G"), model)
    predictor = tmp_path / "p.safetensors"
    save_predictor(AttributePredictor(PredictorConfig(resolution=16, width=8)), predictor)
    assert main(["analyze", "features", "--model", str(model), "--outdir", str(tmp_path / "f")]) == 0
    assert (tmp_path / "f" / "features-b16.conv.png").exists()
    assert main(["analyze", "report", "--model", str(model), "--predictor", str(predictor), "--samples", "40",
                 "--protocol", "regression", "--method", "lasso", "--no-ppl", "--outdir", str(tmp_path / "r")]) == 0
    record = json.loads((tmp_path / "r" / "report.json").read_text())
    assert record["protocol"] == "regression" and "regression protocol" in (tmp_path / "r" / "report.html").read_text()
    assert set(record["dci"]) == {"z", "w", "wplus", "s"} and "score" in record["separability"]["w"]
    assert "<h2>DCI" in (tmp_path / "r" / "report.html").read_text()
    log = capsys.readouterr().err                       # no terminal: progress lines with counts and stages
    assert "analyze report: 8/8 stage" in log and "stage=feature maps" in log and "latent dataset: 40/40 sample" in log
    capsys.readouterr()
    assert main(["analyze", "dci", "--model", str(model), "--predictor", str(predictor), "--samples", "40"]) == 2
    assert "the stylespace protocol has nothing to classify" in capsys.readouterr().err   # 40 samples: too few
    assert main(["analyze", "dci", "--model", str(model), "--predictor", str(model), "--samples", "40"]) == 2
    assert "not a styleforge toyfaces predictor" in capsys.readouterr().err
