"""FID, KID, IS and precision/recall end to end with weight files the tests write: the CLI, the
records, cached real statistics, and FID ≈ 0 for a generator that reproduces the data."""

import json

import numpy as np
import pytest
import torch

from styleforge.cli import main
from styleforge.data import ToyFaces
from styleforge.metrics import evaluate, parse_metric


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLEFORGE_WEIGHTS", raising=False)
    return tmp_path / "cache" / "styleforge"


class CountingToyFaces(ToyFaces):
    reads = 0

    def image(self, index):
        CountingToyFaces.reads += 1
        return super().image(index)


class DataReplayGenerator(torch.nn.Module):
    """Outputs dataset image i for z seed i (in [-1, 1]); ignores z otherwise."""

    z_dim, c_dim, img_resolution, img_channels = 4, 0, 16, 3

    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset
        self.next = 0
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z, c=None, noise_mode="const"):
        images = [torch.from_numpy(self.dataset.image(self.next + i)).float() / 127.5 - 1 for i in range(len(z))]
        self.next += len(z)
        return torch.stack(images)


def test_fid_of_the_data_against_itself_is_zero(inception_files, cache_home):
    """The whole pipeline (quantization, resize, features, statistics) is the same on both sides:
    replaying the data gives FID ≈ 0 on the scale of the features' total variance."""
    data = ToyFaces(16)
    weights = {"inception": inception_files["nvidia"]}
    same = evaluate(DataReplayGenerator(data), parse_metric("fid12"), data, weights=weights)
    (entry,) = (cache_home / "stats").glob("toyfaces-16-mean_cov-*.npz")
    with np.load(entry) as stats:
        assert stats["mean"].shape == (2048,) and stats["cov"].shape == (2048, 2048)
        scale = np.trace(stats["cov"])
    assert scale > 1 and abs(same["value"]) < 1e-4 * scale


def test_real_statistics_are_cached_by_content_count_and_network(inception_files, cache_home):
    data = CountingToyFaces(16)
    G = DataReplayGenerator(ToyFaces(16, seed=1))
    weights = {"inception": inception_files["nvidia"]}
    CountingToyFaces.reads = 0
    first = evaluate(G, parse_metric("kid8"), data, weights=weights)
    reads = CountingToyFaces.reads
    entries = lambda: list((cache_home / "stats").glob("toyfaces-16-features-*.npz"))  # noqa: E731
    assert reads >= 8 and len(entries()) == 1
    G.next = 0
    second = evaluate(G, parse_metric("kid8"), data, weights=weights)
    assert second["value"] == pytest.approx(first["value"], rel=1e-9)
    assert CountingToyFaces.reads - reads <= 4  # only the fingerprint's few images, no features
    # Another count, another weights file or other data: recomputed, a new cache entry each.
    evaluate(G, parse_metric("kid9"), data, weights=weights)
    evaluate(G, parse_metric("kid8"), data, weights={"inception": inception_files["pytorch_fid"]})
    evaluate(G, parse_metric("kid8"), CountingToyFaces(16, seed=3), weights=weights)
    assert len(entries()) == 4
    G.next = 0
    uncached = evaluate(G, parse_metric("kid8"), data, weights=weights, cache=False)
    assert uncached["value"] == pytest.approx(first["value"], rel=1e-6)
    # A damaged entry is recomputed, not trusted.
    for entry in entries():
        entry.write_bytes(b"garbage")
    G.next = 0
    assert evaluate(G, parse_metric("kid8"), data, weights=weights)["value"] == pytest.approx(first["value"], rel=1e-6)


def test_feature_metrics_through_the_cli(inception_files, vgg_file, cache_home, tmp_path, capsys):
    model = tmp_path / "g.safetensors"
    assert main(["new", "--preset", "tiny", "--resolution", "16", "--out", str(model)]) == 0
    assert main(["metrics", "--model", str(model), "--data", "toyfaces", "--metrics", "fid12,kid12,is10,prtv12_k3",
                 "--inception-weights", str(inception_files["pytorch_fid"]), "--vgg-weights", str(vgg_file)]) == 0
    out = capsys.readouterr().out
    records = {name: json.loads((tmp_path / f"metric-{name}.jsonl").read_text())
               for name in ("fid12", "kid12", "is10", "prtv12_k3")}
    for name, record in records.items():
        assert record["num_fake"] in (10, 12) and np.isfinite(record["value"]), name
        assert len(record["weights_sha256"]) == 16 and record["noise_mode"] == "random (seeded)"
    assert records["fid12"]["value"] > 0 and records["fid12"]["num_real"] == 12
    assert records["fid12"]["feature_network"] == "inception-v3-fid/pool_3"
    assert "singular" in records["fid12"]["warning"]  # 12 samples of 2048-d features
    assert "TF-1 bilinear" in records["kid12"]["resize"] and records["kid12"]["subset_size"] == 12
    assert records["is10"]["value"] >= 1 and records["is10"]["num_real"] == 0
    pr = records["prtv12_k3"]
    assert 0 <= pr["precision"] <= 1 and 0 <= pr["recall"] <= 1 and pr["feature_network"] == "vgg16-torchvision/fc2"
    assert "prtv12_k3:" in out and "recall" in out
    # Seeded: the same command gives the same number (the other layout of the same weights).
    assert main(["metrics", "--model", str(model), "--data", "toyfaces", "--metrics", "kid12",
                 "--inception-weights", str(inception_files["nvidia"])]) == 0
    lines = (tmp_path / "metric-kid12.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["value"] == pytest.approx(json.loads(lines[0])["value"], rel=1e-4)
    capsys.readouterr()
    assert main(["metrics", "--model", str(model), "--data", "toyfaces", "--metrics", "kid12",
                 "--inception-weights", str(vgg_file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an Inception-v3 FID weights file" in err[0]


def test_precision_and_recall_of_the_data_against_itself_are_one(vgg_file, cache_home):
    data = ToyFaces(16)
    record = evaluate(DataReplayGenerator(data), parse_metric("prtv12_k3"), data, weights={"vgg": vgg_file})
    assert record["precision"] == 1.0 and record["recall"] == 1.0


def test_auto_training_metric_is_fid_only_where_it_is_affordable(inception_files, cache_home, monkeypatch):
    """'auto' → fid50k_full on CUDA with the Inception file already on disk (never a download at the
    start of a run); swd1k otherwise, which needs no pretrained network."""
    from styleforge.metrics import resolve_auto

    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert resolve_auto(("auto",), cuda) == ("swd1k",)
    assert resolve_auto(("auto", "msssim1k"), cpu) == ("swd1k", "msssim1k")
    assert resolve_auto(("kid10k",), cuda) == ("kid10k",)
    folder = cache_home / "weights"
    folder.mkdir(parents=True)
    (folder / "inception-2015-12-05.pt").write_bytes(inception_files["nvidia"].read_bytes())
    assert resolve_auto(("auto",), cpu) == ("swd1k",)
    assert resolve_auto(("auto", "fid50k_full"), cuda) == ("fid50k_full",)


def test_training_evaluates_feature_metrics_and_fails_at_the_start_without_weights(
        inception_files, cache_home, tmp_path, monkeypatch):
    """Missing weights stop the run before any training step, saying which file to fetch; with them
    in $STYLEFORGE_WEIGHTS each snapshot gets its record in the run directory."""
    from styleforge.errors import StyleforgeError
    from styleforge.perception import weights
    from styleforge.train import train, training_config

    def offline(spec, target):
        raise StyleforgeError(f"{spec.name}: offline")

    monkeypatch.setattr(weights, "_download", offline)
    config = training_config("tiny", kimg=0.016, snapshot_kimg=0.016, resolution=16, metrics=("fid12",))
    with pytest.raises(StyleforgeError, match="inception-2015-12-05.pt: offline"):
        train(config, tmp_path / "runs")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "inception-2015-12-05.pt").write_bytes(inception_files["nvidia"].read_bytes())
    monkeypatch.setenv("STYLEFORGE_WEIGHTS", str(folder))
    result = train(config, tmp_path / "runs")
    records = [json.loads(line) for line in (result.run_dir / "metric-fid12.jsonl").read_text().splitlines()]
    assert [r["kimg"] for r in records] == [0.016] and records[0]["value"] > 0
    assert records[0]["weights"] == str(folder / "inception-2015-12-05.pt")


# An example name for every registered metric family: a metric added without one fails the test below.
METRIC_EXAMPLES = {"fid": "fid12", "is": "is10", "kid": "kid12", "msssim": "msssim10", "ppl": "ppl8_wend",
                   "ppl2": "ppl2_8_zend", "prtv": "prtv12_k3", "swd": "swd64"}


def test_every_registered_metric_computes_on_a_tiny_model(inception_files, vgg_file, cache_home, tmp_path):
    """Walks the registry: every metric family parses its example name and gives a finite value with the
    stand-in weight files (no download)."""
    import styleforge as sf
    from styleforge.metrics.registry import METRICS

    assert set(METRICS) == set(METRIC_EXAMPLES), "give every registered metric an example name here"
    heads = tmp_path / "lpips.pth"
    torch.save({f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1) for i, c in enumerate((64, 128, 256, 512, 512))},
               heads)
    weights = {"inception": str(inception_files["pytorch_fid"]), "vgg": str(vgg_file), "lpips": str(heads)}
    torch.manual_seed(0)
    G = sf.build("tiny", "G", resolution=32).eval()
    for family, name in METRIC_EXAMPLES.items():
        spec = parse_metric(name)
        assert spec.info.name == family
        record = evaluate(G, spec, ToyFaces(32) if spec.info.needs_data else None, weights=weights)
        assert np.isfinite(record["value"]), name
