"""Metrics against closed-form answers (FID, KID, precision/recall, IS, SWD, MS-SSIM) and the CLI."""

import json

import numpy as np
import pytest
import torch

from styleforge.cli import main
from styleforge.errors import StyleforgeError
from styleforge.metrics import parse_metric
from styleforge.metrics.fid import feature_statistics, frechet_distance
from styleforge.metrics.inception_score import inception_score
from styleforge.metrics.kid import kernel_inception_distance
from styleforge.metrics.msssim import ms_ssim, msssim_diversity
from styleforge.metrics.precision_recall import precision_recall
from styleforge.metrics.swd import laplacian_pyramid, swd


def test_fid_of_two_gaussians_equals_the_formula():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 1.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(np.diag(s1) + np.diag(s2) - 2 * np.sqrt(np.diag(s1) * np.diag(s2)))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_fid_of_a_set_with_itself_is_zero():
    x = np.random.RandomState(0).randn(500, 16)
    mu, sigma = feature_statistics(x)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6
    y = x + 0.5
    assert frechet_distance(mu, sigma, *feature_statistics(y)) == pytest.approx(16 * 0.25, rel=1e-6)


def test_kid_is_zero_for_identical_sets_and_positive_for_shifted_ones():
    rng = np.random.RandomState(1)
    x = rng.randn(400, 8)
    same = kernel_inception_distance(x, x, num_subsets=20, max_subset_size=200)
    shifted = kernel_inception_distance(x, x + 1.0, num_subsets=20, max_subset_size=200)
    # Unbiased estimate: ~0 up to sampling noise for identical sets, large for shifted ones.
    assert abs(same) < 0.1 and shifted > 50 * abs(same)
    assert kernel_inception_distance(x, x + 0.3, num_subsets=20, max_subset_size=200) < shifted


def test_precision_recall_on_hand_built_point_clouds():
    grid = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2)
    assert precision_recall(grid, grid) == (1.0, 1.0)
    far = grid + 100
    assert precision_recall(grid, far) == (0.0, 0.0)
    half = np.concatenate([grid[:50], grid[:50] + 100])  # half of the fakes lie on the real manifold
    precision, recall = precision_recall(grid, half, k=3)
    assert precision == 0.5 and recall < 1.0


def test_inception_score_bounds():
    k = 10
    confident = np.eye(k)[np.arange(1000) % k]  # every class equally often, fully confident
    assert inception_score(confident, splits=10)[0] == pytest.approx(k, rel=1e-6)
    uniform = np.full((1000, k), 1 / k)
    assert inception_score(uniform)[0] == pytest.approx(1.0)


def test_swd_is_zero_for_identical_sets_and_grows_with_a_shift():
    torch.manual_seed(0)
    x = torch.rand(16, 3, 32, 32) * 2 - 1
    assert swd(x, x, per_image=32)["avg"] == pytest.approx(0.0, abs=1e-9)
    small = swd(x, (x + 0.1 * torch.randn_like(x)).clamp(-1, 1), per_image=32)["avg"]
    large = swd(x, (x + 0.5 * torch.randn_like(x)).clamp(-1, 1), per_image=32)["avg"]
    assert 0 < small < large
    assert set(swd(x, x, per_image=8)) == {"32", "16", "avg"}


def test_laplacian_pyramid_reconstructs_the_image():
    x = torch.rand(2, 3, 32, 32)
    levels = laplacian_pyramid(x)
    from styleforge.metrics.swd import _blur

    up = torch.zeros_like(x)
    up[:, :, ::2, ::2] = levels[1]
    assert torch.allclose(levels[0] + _blur(up) * 4, x, atol=1e-6)


def test_ms_ssim_is_one_for_identical_images_and_lower_otherwise():
    x = torch.rand(4, 3, 32, 32) * 255
    assert torch.allclose(ms_ssim(x, x), torch.ones(4, dtype=torch.float64))
    assert (ms_ssim(x, torch.rand(4, 3, 32, 32) * 255) < 0.5).all()
    same = torch.zeros(8, 3, 32, 32)
    assert msssim_diversity(same, pairs=20) == pytest.approx(1.0)
    assert msssim_diversity(torch.rand(8, 3, 32, 32) * 2 - 1, pairs=20) < 0.5


def test_metric_names_carry_their_sample_count():
    assert parse_metric("swd2k").num == 2000 and parse_metric("swd2k").name == "swd2k"
    assert parse_metric("msssim500").name == "msssim500"
    assert parse_metric("swd16k", num=300).name == "swd300"
    fid = parse_metric("fid50k_full")
    assert (fid.base, fid.num, fid.full, fid.name) == ("fid", 50_000, True, "fid50k_full")
    assert parse_metric("fid50k_full", num=2000).name == "fid2k_full"
    assert parse_metric("kid").name == "kid50k" and parse_metric("is50k").num == 50_000
    pr = parse_metric("prtv50k3_full")
    assert (pr.num, pr.neighbours, pr.full, pr.name) == (50_000, 3, True, "prtv50k3_full")
    assert parse_metric("prtv500_k5").name == "prtv500_k5" and parse_metric("prtv500_k5").neighbours == 5
    assert parse_metric("prtv50k3", num=300).name == "prtv300_k3"
    with pytest.raises(StyleforgeError, match="pr50k3_full is the reference's precision/recall on NVIDIA's "
                                                 "vgg16.pt.*prtv50k3_full is the same definition"):
        parse_metric("pr50k3_full")
    with pytest.raises(StyleforgeError, match="_full"):
        parse_metric("is50k_full")
    assert parse_metric("ppl_wend").name == "ppl50k_wend"  # the reference's names: ppl_* crop, ppl2_* do not
    assert (parse_metric("ppl2k_zfull").base, parse_metric("ppl2k_zfull").num) == ("ppl", 2000)
    ppl2 = parse_metric("ppl2_wend")
    assert (ppl2.base, ppl2.num, ppl2.variant, ppl2.name) == ("ppl2", 50_000, "_wend", "ppl2_50k_wend")
    assert parse_metric("ppl2_300_zfull").name == "ppl2_300_zfull"
    assert parse_metric(parse_metric("ppl2_10k_wfull").name) == parse_metric("ppl2_10k_wfull")
    for bad in ("ppl", "ppl_wend_crop", "ppl2", "ppl_xend"):
        with pytest.raises(StyleforgeError, match="unknown metric"):
            parse_metric(bad)
    with pytest.raises(StyleforgeError, match="unknown metric"):
        parse_metric("bogus")


def test_metrics_cli_appends_jsonl_results(tmp_path, capsys):
    model = tmp_path / "g.safetensors"
    assert main(["new", "--preset", "tiny", "--resolution", "16", "--out", str(model)]) == 0
    assert main(["metrics", "--model", str(model), "--data", "toyfaces", "--metrics", "swd40,msssim40"]) == 0
    for name in ("swd40", "msssim40"):
        record = json.loads((tmp_path / f"metric-{name}.jsonl").read_text().splitlines()[-1])
        assert record["metric"] == name and record["num_fake"] == 40 and np.isfinite(record["value"])
    capsys.readouterr()
    assert main(["metrics", "--model", str(model), "--metrics", "fid50k_full"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs real data" in err[0]
    for device, message in (("banana", "not a torch device"), ("cuda:7", "CUDA")):
        with pytest.raises(SystemExit) as stop:
            main(["metrics", "--model", str(model), "--metrics", "msssim40", "--device", device])
        assert stop.value.code == 2 and message in capsys.readouterr().err
