"""VGG16 / LPIPS in our code with weight files the tests write (random init, published key layouts),
weight-file errors, and PPL against an analytic value."""

import numpy as np
import pytest
import torch
from scipy import stats

from styleforge.errors import StyleforgeError
from styleforge.perception import load_lpips, load_vgg16
from styleforge.metrics.ppl import path_length


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory, vgg_file):
    root = tmp_path_factory.mktemp("weights")
    vgg = vgg_file
    heads = {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1) for i, c in enumerate((64, 128, 256, 512, 512))}
    lpips = root / "vgg.pth"
    torch.save(heads, lpips)
    return vgg, lpips


def test_vgg16_has_torchvision_layout_and_shapes(weight_files):
    vgg_path, _ = weight_files
    model = load_vgg16(vgg_path)
    keys = set(torch.load(vgg_path, weights_only=True))
    assert {"features.0.weight", "features.28.bias", "classifier.6.weight"} <= keys
    assert sum(p.numel() for p in model.parameters()) == 138_357_544  # VGG16 (configuration D)
    x = torch.randn(1, 3, 224, 224)
    assert model.fc2(x).shape == (1, 4096)
    assert [t.shape[1] for t in model.trunk(torch.randn(1, 3, 32, 32))] == [64, 128, 256, 512, 512]


def test_lpips_distance(weight_files):
    lpips = load_lpips(*weight_files)
    x, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.allclose(lpips(x, x), torch.zeros(2))
    d = lpips(x, y)
    assert (d > 0).all() and torch.allclose(d, lpips(y, x))


def test_weight_errors_are_clear(tmp_path, weight_files, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLEFORGE_WEIGHTS", raising=False)
    hint = "fetch https://.*vgg16-397923af.pth and save it under its own name in .*cache.* --vgg-weights"
    with pytest.raises(StyleforgeError, match=hint):
        load_vgg16(download=False)
    with pytest.raises(StyleforgeError, match="no such file"):
        load_vgg16(tmp_path / "missing.pth")
    truncated = tmp_path / "truncated.pth"
    with open(weight_files[0], "rb") as f:
        truncated.write_bytes(f.read(1000))
    with pytest.raises(StyleforgeError, match="not a readable weights file"):
        load_vgg16(truncated)
    with pytest.raises(StyleforgeError, match="weights do not fit"):
        load_vgg16(weight_files[1])  # the LPIPS heads are not a VGG16
    with pytest.raises(StyleforgeError, match="lack lin0"):
        load_lpips(weight_files[0], weight_files[0])
    # A file named like the published one must match the checksum in its name.
    impostor = tmp_path / "impostor" / "vgg16-397923af.pth"
    impostor.parent.mkdir()
    impostor.write_bytes(weight_files[1].read_bytes())  # any other file
    monkeypatch.setenv("STYLEFORGE_WEIGHTS", str(impostor.parent))
    with pytest.raises(StyleforgeError, match="checksum"):
        load_vgg16(download=False)


class LinearGenerator(torch.nn.Module):
    """w = z (one W+ row), image = Aw with orthonormal A: the path length is |z1 − z0|² exactly."""

    z_dim, c_dim, num_ws = 8, 0, 1

    def __init__(self):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(3 * 4 * 4, 8, generator=torch.Generator().manual_seed(0)))
        self.register_buffer("A", q)  # [48, 8], Aᵀ A = I

    def mapping(self, z, c=None):
        return z[:, None, :]

    def synthesis(self, ws, noise_mode="const"):
        return (ws[:, 0] @ self.A.T).reshape(-1, 3, 4, 4)


def test_ppl_of_a_linear_generator_has_the_analytic_value():
    squared_l2 = lambda a, b: (a - b).square().sum(dim=(1, 2, 3))  # noqa: E731
    measured = path_length(LinearGenerator(), squared_l2, num=40_000, space="w", sampling="end",
                           batch=4000, epsilon=1e-2)
    # |z1 − z0|² = 2Y, Y ~ χ²_8; the mean of X over [q01, q99] is 2·d·(F_{d+2}(b) − F_{d+2}(a)) / 0.98.
    d = 8
    a, b = stats.chi2.ppf(0.01, d), stats.chi2.ppf(0.99, d)
    expected = 2 * d * (stats.chi2.cdf(b, d + 2) - stats.chi2.cdf(a, d + 2)) / 0.98
    assert measured == pytest.approx(expected, rel=0.02)
    assert np.isfinite(path_length(LinearGenerator(), squared_l2, num=64, space="z", sampling="full", batch=32))


def test_the_face_crop_sees_only_its_window():
    """A 16 px generator whose pixels move only outside rows 6:14 × columns 4:12 (the reference's
    crop) has zero path length with the crop and the linear-generator value without it."""

    class BorderOnly(LinearGenerator):
        def synthesis(self, ws, noise_mode="const"):
            images = torch.zeros(len(ws), 3, 16, 16)
            images[:, :, :4, :4] = super().synthesis(ws)
            return images

    squared_l2 = lambda a, b: (a - b).square().sum(dim=(1, 2, 3))  # noqa: E731
    options = dict(num=64, space="w", sampling="end", batch=32, epsilon=1e-2)
    assert path_length(BorderOnly(), squared_l2, crop=True, **options) == 0
    assert path_length(BorderOnly(), squared_l2, crop=False, **options) == pytest.approx(
        path_length(LinearGenerator(), squared_l2, **options), rel=1e-5)


def test_ppl_end_to_end_through_the_cli(weight_files, tmp_path, capsys):
    import json

    from styleforge.cli import main

    model = tmp_path / "g.safetensors"
    assert main(["new", "--preset", "tiny", "--resolution", "16", "--out", str(model)]) == 0
    assert main(["metrics", "--model", str(model), "--metrics", "ppl2_8_wend", "--vgg-weights", str(weight_files[0]),
                 "--lpips-weights", str(weight_files[1])]) == 0
    record = json.loads((tmp_path / "metric-ppl2_8_wend.jsonl").read_text())
    assert record["value"] > 0 and record["feature_network"] == "LPIPS v0.1 VGG16" and record["crop"] is False
    # The face crop of 16 px images is too small for VGG16: one line, exit code 2.
    capsys.readouterr()
    assert main(["metrics", "--model", str(model), "--metrics", "ppl8_wend", "--vgg-weights", str(weight_files[0]),
                 "--lpips-weights", str(weight_files[1])]) == 2
    assert "is 8 px (ppl2_8_wend uses the whole image)" in capsys.readouterr().err
    assert record["weights"]["vgg"] == str(weight_files[0]) and len(record["weights_sha256"]["lpips"]) == 16
    capsys.readouterr()
    assert main(["metrics", "--model", str(model), "--metrics", "ppl2_8_wend",
                 "--vgg-weights", str(tmp_path / "nope.pth"), "--lpips-weights", str(weight_files[1])]) == 2
    assert "no such file" in capsys.readouterr().err
