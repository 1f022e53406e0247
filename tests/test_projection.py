"""Projection into W / W+, interpolation videos and attribution by reprojection (M4, M3)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import styleforge as sf
from styleforge.cli import main as _main
from styleforge.latents import z_from_seeds
from styleforge.projection import ProjectionSettings, project, render_projection
from styleforge.projection.attribution import best_threshold, roc_auc
from styleforge.projection.distance import image_distance

PIXEL = image_distance("pixel")
from styleforge.projection.projector import learning_rate, noise_regularization
from styleforge.media import read_video_frames


def main(argv) -> int:
    try:
        return _main(argv)
    except SystemExit as exit_info:
        return exit_info.code


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return sf.build("tiny", "G")  # untrained: noise strengths are 0, so only w shapes the image


def _psnr(a, b) -> float:
    return 10 * np.log10(4 / (a - b).square().mean().item())  # images span [-1, 1]: peak-to-peak 2


def test_a_generated_image_projects_back_to_its_w(G):
    with torch.no_grad():
        w_true = G.mapping(z_from_seeds([7], G.z_dim))
        target = G.synthesis(w_true)
    result = project(G, target, space="w", distance=PIXEL, settings=ProjectionSettings(steps=300, w_avg_samples=2000))
    assert _psnr(result.images, target) >= 30
    w_error = (result.ws[0, 0] - w_true[0, 0]).norm() / w_true[0, 0].norm()
    assert w_error < 0.1
    assert result.distances.shape == (300, 1) and result.distances[-1, 0] < result.distances[0, 0] / 10
    assert torch.allclose(render_projection(G, result), result.images)


def test_targets_projected_together_match_one_by_one(G):
    with torch.no_grad():
        targets = G.synthesis(G.mapping(z_from_seeds([1, 2], G.z_dim)))
    settings = ProjectionSettings(steps=40, w_avg_samples=500)
    both = project(G, targets, distance=PIXEL, settings=settings, seed=3)
    assert both.ws.shape == (2, G.num_ws, G.w_dim)
    assert set(v.shape for v in both.noise.values()) == {(2, 1, 4, 4), (2, 1, 8, 8), (2, 1, 16, 16)}
    assert all(both.distances[-1] < both.distances[0])


def test_w_plus_has_one_w_per_layer_and_can_start_from_w(G):
    with torch.no_grad():
        target = G.synthesis(G.mapping(z_from_seeds([5], G.z_dim)))
    w = project(G, target, distance=PIXEL, settings=ProjectionSettings(steps=30, w_avg_samples=500))
    plus = project(G, target, space="w+", init_ws=w.ws, distance=PIXEL,
                   settings=ProjectionSettings(steps=30, w_avg_samples=500))
    assert not torch.equal(plus.ws[:, 0], plus.ws[:, -1])  # the layers moved apart
    assert plus.distances[0, 0] < w.distances[0, 0]         # and it started where W ended


def test_schedules_and_noise_regularizer_follow_the_reference():
    settings = ProjectionSettings()
    assert learning_rate(0.0, settings) == 0
    assert learning_rate(0.05, settings) == pytest.approx(0.1)
    assert learning_rate(0.5, settings) == pytest.approx(0.1)
    assert learning_rate(0.875, settings) == pytest.approx(0.05)
    smooth = torch.ones(1, 1, 16, 16)
    white = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    assert noise_regularization([smooth]).item() == pytest.approx(4.0)  # 2 levels × 2 shifts × 1²
    assert noise_regularization([white]).item() < 0.05


def test_project_cli_writes_the_reference_files_and_a_video(G, tmp_path, capsys):
    model = tmp_path / "g.safetensors"
    sf.save(G, model)
    Image.new("RGB", (24, 16), (200, 40, 40)).save(tmp_path / "wide.png")
    out = tmp_path / "out"
    assert main(["project", "--model", str(model), "--target", str(tmp_path / "wide.png"), "--steps", "12",
                 "--w-avg-samples", "100", "--outdir", str(out), "--save-video", "--video-every", "4",
                 "--distance", "pixel"]) == 0
    err = capsys.readouterr().err
    assert "not square" in err
    with np.load(out / "projected_w.npz") as data:
        assert data["w"].shape == (1, G.num_ws, G.w_dim)
    record = json.loads((out / "projection.json").read_text())
    assert record["distance_kind"] == "pixel" and record["steps"] == 12 and record["space"] == "w"
    frames = read_video_frames(out / "proj.mp4")
    assert len(frames) == 4 and frames[0].shape == (256, 512, 3)  # steps 0, 4, 8 and the last
    assert main(["generate", "--model", str(model), "--projected-w", str(out / "projected_w.npz"),
                 "--outdir", str(tmp_path / "re")]) == 0
    assert (tmp_path / "re" / "out-projected_w.png").exists()


@pytest.mark.parametrize("target, message", [
    ("missing.png", "no such target"), ("notimage.png", "not an image"), ("tiny.png", "too small"),
])
def test_bad_targets_are_one_line(G, tmp_path, capsys, target, message):
    model = tmp_path / "g.safetensors"
    sf.save(G, model)
    (tmp_path / "notimage.png").write_bytes(b"hello")
    Image.new("RGB", (4, 4)).save(tmp_path / "tiny.png")
    assert main(["project", "--model", str(model), "--target", str(tmp_path / target), "--steps", "2",
                 "--distance", "pixel", "--outdir", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err


def test_interpolation_video_streams_frames(G, tmp_path):
    model = tmp_path / "g.safetensors"
    sf.save(G, model)
    out = tmp_path / "lerp.mp4"
    assert main(["video", "--model", str(model), "--seeds", "0-2", "--grid", "1x2", "--frames-per-step", "4",
                 "--out", str(out)]) == 0
    frames = read_video_frames(out)
    assert len(frames) == 12 and frames[0].shape == (128, 256, 3)
    assert main(["video", "--model", str(model), "--seeds", "0-1", "--space", "z", "--frames-per-step", "3",
                 "--out", str(tmp_path / "slerp.gif")]) == 0
    assert Image.open(tmp_path / "slerp.gif").n_frames == 6
    assert main(["video", "--model", str(model), "--seeds", "0", "--out", str(tmp_path / "one.mp4")]) == 2
    assert main(["video", "--model", str(model), "--seeds", "0-1", "--out", str(out)]) == 2  # exists


def test_attribution_auc_on_planted_distances():
    assert roc_auc([0.1, 0.2], [0.3, 0.4]) == 1.0
    assert roc_auc([0.3, 0.4], [0.1, 0.2]) == 0.0
    assert roc_auc([0.1, 0.3], [0.2, 0.4]) == 0.75
    assert roc_auc([0.2], [0.2]) == 0.5
    best = best_threshold([0.1, 0.2, 0.35], [0.3, 0.4, 0.5])
    assert best["threshold"] == 0.2 and best["generated_called_real"] == pytest.approx(1 / 3)
    assert best["real_called_generated"] == 0 and best["accuracy"] == pytest.approx(5 / 6)


def test_attribute_cli(G, tmp_path):
    model = tmp_path / "g.safetensors"
    sf.save(G, model)
    out = tmp_path / "attr"
    assert main(["attribute", "--model", str(model), "--real", "toyfaces", "--num", "3", "--steps", "8",
                 "--w-avg-samples", "100", "--distance", "pixel", "--outdir", str(out)]) == 0
    record = json.loads((out / "attribution.json").read_text())
    assert 0 <= record["roc_auc"] <= 1 and len(record["real_distances"]) == 3
    assert Image.open(out / "histogram.png").size == (640, 360)


# ------------------------------------------------------------ LPIPS by default, fetched on first use

@pytest.fixture
def lpips_server(vgg_file, tmp_path, monkeypatch):
    """The two LPIPS weight files (stand-ins in the published layouts) served from 127.0.0.1, the
    published specs pointed there, and an empty cache."""
    import dataclasses
    import functools
    import http.server
    import threading

    from styleforge.perception import weights

    served = tmp_path / "served"
    served.mkdir()
    (served / "vgg16.pth").symlink_to(vgg_file)
    torch.save({f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1) for i, c in enumerate((64, 128, 256, 512, 512))},
               served / "vgg.pth")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(weights, "VGG16_TORCHVISION", dataclasses.replace(  # the stand-in has its own checksum
        weights.VGG16_TORCHVISION, url=f"{base}/vgg16.pth", sha256_prefix=None))
    monkeypatch.setattr(weights, "LPIPS_VGG_V01", dataclasses.replace(weights.LPIPS_VGG_V01, url=f"{base}/vgg.pth"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLEFORGE_WEIGHTS", raising=False)
    yield server
    server.shutdown()


def test_projection_uses_lpips_by_default_fetched_once_into_the_cache(G, lpips_server, tmp_path, capsys):
    from styleforge.perception import weights

    model = sf.save(G, tmp_path / "g.safetensors")
    Image.new("RGB", (16, 16), (90, 30, 160)).save(tmp_path / "t.png")
    argv = ["project", "--model", str(model), "--target", str(tmp_path / "t.png"), "--steps", "2",
            "--w-avg-samples", "10"]
    assert main(argv + ["--outdir", str(tmp_path / "a")]) == 0
    assert json.loads((tmp_path / "a" / "projection.json").read_text())["distance_kind"] == "lpips"
    cached = {p.name for p in weights.cache_dir().iterdir()}
    assert {"vgg16-397923af.pth", "lpips-v0.1-vgg.pth"} <= cached
    lpips_server.shutdown()  # the second run reads the cache: no request
    assert main(argv + ["--outdir", str(tmp_path / "b")]) == 0
    assert json.loads((tmp_path / "b" / "projection.json").read_text())["distance_kind"] == "lpips"
    assert project(G, G.synthesis(G.mapping(z_from_seeds([1], G.z_dim))), settings=ProjectionSettings(
        steps=1, w_avg_samples=10)).distance_kind == "lpips"  # the Python default too


def test_offline_without_lpips_weights_stops_with_one_line_and_pixel_works(G, tmp_path, monkeypatch, capsys):
    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLEFORGE_WEIGHTS", raising=False)
    model = sf.save(G, tmp_path / "g.safetensors")
    Image.new("RGB", (16, 16), (90, 30, 160)).save(tmp_path / "t.png")
    argv = ["project", "--model", str(model), "--target", str(tmp_path / "t.png"), "--steps", "2",
            "--w-avg-samples", "10", "--outdir", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "vgg16-397923af.pth and lpips-v0.1-vgg.pth not found" in err[0] and "--distance pixel" in err[0]
    assert not (tmp_path / "o" / "projection.json").exists()
    assert main(argv + ["--distance", "pixel"]) == 0
    assert json.loads((tmp_path / "o" / "projection.json").read_text())["distance_kind"] == "pixel"


# -------------------------------------------------------------------------------- Image2StyleGAN

def test_image2stylegan_starts_at_w_avg_and_moves_every_layer_on_its_own(G):
    """W+ from w̄ (the paper's start), Adam at 0.01: after one step every coordinate moved by at most
    about the learning rate; after a few, the rows differ (one w per layer); no noise maps are optimized."""
    from styleforge.perception import VGG16
    from styleforge.projection import Image2StyleGANSettings, image2stylegan, w_statistics

    torch.manual_seed(0)
    vgg = VGG16().eval()
    target = sf.pipeline.render(G, seeds=[5], device="cpu")
    one = image2stylegan(G, target, vgg=vgg, settings=Image2StyleGANSettings(steps=1, w_avg_samples=500))
    w_avg, _ = w_statistics(G, 500)
    assert one.ws.shape == (1, G.num_ws, G.w_dim) and one.space == "w+" and one.noise == {}
    assert (one.ws - w_avg).abs().max() <= 0.0101 and (one.ws - w_avg).abs().max() > 0.005
    few = image2stylegan(G, target, vgg=vgg, settings=Image2StyleGANSettings(steps=8, w_avg_samples=500))
    assert not torch.allclose(few.ws[0, 0], few.ws[0, -1]) and few.distances.shape == (8, 1)
    assert few.distances[-1, 0] < few.distances[0, 0]
    zeros = image2stylegan(G, target, vgg=vgg, settings=Image2StyleGANSettings(steps=1, init="zeros"))
    assert zeros.ws.abs().max() <= 0.0101
    pair = image2stylegan(G, torch.cat([target, -target]), vgg=vgg,
                          settings=Image2StyleGANSettings(steps=3, w_avg_samples=500))
    alone = image2stylegan(G, -target, vgg=vgg, settings=Image2StyleGANSettings(steps=3, w_avg_samples=500))
    torch.testing.assert_close(pair.ws[1:], alone.ws, atol=1e-5, rtol=1e-4)   # each target on its own loss


def test_project_cli_image2stylegan(G, tmp_path, capsys):
    from feature_weights import save_vgg16

    model, vgg = tmp_path / "m.safetensors", tmp_path / "vgg16.pth"
    sf.save(G, model)
    save_vgg16(vgg)
    target = tmp_path / "t.png"
    Image.fromarray(sf.media.to_uint8(sf.pipeline.render(G, seeds=[2], device="cpu"))[0]).save(target)
    out = tmp_path / "out"
    assert _main(["project", "--model", str(model), "--target", str(target), "--method", "image2stylegan",
                  "--steps", "4", "--vgg-weights", str(vgg), "--w-avg-samples", "200", "--outdir", str(out)]) == 0
    record = json.loads((out / "projection.json").read_text())
    assert (record["method"], record["space"], record["steps"], record["distance_kind"]) == \
        ("image2stylegan", "w+", 4, "image2stylegan")
    saved = sf.read_latents(out / "projected.safetensors")
    assert saved.space == "ws" and not saved.noise and not torch.allclose(saved.latent[0, 0], saved.latent[0, 1])
    assert _main(["project", "--model", str(model), "--target", str(target), "--method", "image2stylegan",
                  "--space", "w", "--outdir", str(tmp_path / "o2")]) == 2
    assert "embeds in W+" in capsys.readouterr().err
