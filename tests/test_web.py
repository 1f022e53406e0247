"""The web explorer's API (M8) through the ASGI test client: every endpoint, caching (image URLs are
pure functions of the view), classes, per-row mixing, noise seeds, thumbnails, feature statistics,
download names, projection, and every class of bad input getting a 4xx JSON error."""

import io
import time

import numpy as np
import pytest
import torch
from helpers import tiny
from PIL import Image
from safetensors.torch import load as load_tensors

import styleforge as sf
from styleforge.edit import channel_edit, save_edits, sefa_edits
from styleforge.web import Explorer
from styleforge.web.explorer import MAX_UPLOAD_BYTES

fastapi = pytest.importorskip("fastapi", reason="the web extra (fastapi) is part of the dev install")
from fastapi.testclient import TestClient  # noqa: E402

from styleforge.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return tiny()


@pytest.fixture(scope="module")
def explorer(G):
    edits = sefa_edits(G, indices=[0], samples=200) + [channel_edit(G, 40, 0.5, name="channel40")]
    explorer = Explorer(G, edits, distance="pixel")  # LPIPS weights are not downloaded in tests
    yield explorer
    explorer.close()


@pytest.fixture(scope="module")
def client(explorer):
    with TestClient(create_app(explorer)) as client:
        yield client


def _png(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


def test_page_and_info(client, G):
    page = client.get("/")
    assert page.status_code == 200 and "styleforge explorer" in page.text and "/app.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN: everything is served locally
    assert client.get("/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/style.css").status_code == 200
    assert client.get("/app.js/../../etc/passwd").status_code == 404
    assert client.get("/static/../pyproject.toml").status_code == 404
    info = client.get("/api/info").json()
    assert info["num_ws"] == G.num_ws and info["resolution"] == 16
    assert info["layer_groups"] == {"coarse": [0, 1, 2, 3], "middle": [3, 4, 5]}
    assert [e["name"] for e in info["edits"]] == ["sefa-0", "channel40"]
    assert info["methods"]["sefa"] == sf.edit.METHODS["sefa"].description      # the registry's methods
    assert "b8.conv" in info["feature_layers"]


def test_images_follow_every_control(client, G):
    base = _png(client.get("/api/image?seed=3"))
    assert base.shape == (16, 16, 3)
    expected = sf.pipeline.render(G, seeds=[3])
    assert np.array_equal(base, sf.media.to_uint8(expected)[0])  # the library's image, exactly
    variants = ["seed=4", "seed=3&psi=0.5", "seed=3&psi=0.5&cutoff=2", "seed=3&noise=none",
                "seed=3&mix=9&crossover=2", "seed=3&mix=9&mixgroup=coarse", "seed=3&lerp=9&t=0.5",
                "seed=3&edits=sefa-0:3", "seed=3&edits=channel40:4", "seed=3&edits=sefa-0:2,channel40:-3"]
    images = [_png(client.get(f"/api/image?{v}")) for v in variants]
    for variant, image in zip(variants, images):
        assert not np.array_equal(image, base), variant
    truncated = sf.pipeline.render(G, seeds=[3], psi=0.5, cutoff=2)
    assert np.array_equal(images[2], sf.media.to_uint8(truncated)[0])
    mixed_ws = sf.latents.mix(G.mapping(sf.latents.z_from_seeds([3], 32)), G.mapping(sf.latents.z_from_seeds([9], 32)),
                              crossover=2)
    assert np.array_equal(images[4], sf.media.to_uint8(sf.pipeline.render(G, ws=mixed_ws))[0])
    assert np.array_equal(_png(client.get("/api/image?seed=3&lerp=9&t=1")), _png(client.get("/api/image?seed=9")))


def test_caching_headers(client, explorer):
    first = client.get("/api/image?seed=5&psi=0.7")
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"          # no model tag in the URL: revalidate
    assert first.headers["server-timing"].startswith("render;dur=")
    again = client.get("/api/image?seed=5&psi=0.7", headers={"If-None-Match": tag})
    assert again.status_code == 304 and not again.content
    other = client.get("/api/image?seed=5&psi=0.8")
    assert other.headers["etag"] != tag
    model = explorer.info()["model_tag"]
    pinned = client.get(f"/api/image?seed=5&psi=0.7&model={model}")
    assert "immutable" in pinned.headers["cache-control"] and pinned.content == first.content
    stale = client.get("/api/image?seed=5&model=0123456789ab")   # the server now runs another model
    assert stale.status_code == 409 and "reload the page" in stale.json()["error"]
    random = [client.get("/api/image?seed=5&noise=random").content for _ in range(2)]
    assert random[0] == random[1]                                # random noise is seeded: a pure function


def test_noise_seed_class_rows_and_thumbnails(client, explorer, G):
    draws = {k: _png(client.get(f"/api/image?seed=5&noise=random&noiseseed={k}")) for k in (1, 2)}
    assert not np.array_equal(draws[1], draws[2])
    assert np.array_equal(_png(client.get("/api/image?seed=5&noise=random")),
                          _png(client.get("/api/image?seed=5&noise=random&noiseseed=5")))
    by_rows = _png(client.get("/api/image?seed=3&mix=9&mixrows=2,3,4,5"))
    assert np.array_equal(by_rows, _png(client.get("/api/image?seed=3&mix=9&crossover=2")))
    one_row = _png(client.get("/api/image?seed=3&mix=9&mixrows=1"))
    expected = sf.latents.mix(G.mapping(sf.latents.z_from_seeds([3], 32)), G.mapping(sf.latents.z_from_seeds([9], 32)),
                              mask=[1])
    assert np.array_equal(one_row, sf.media.to_uint8(sf.pipeline.render(G, ws=expected))[0])
    assert np.array_equal(_png(client.get("/api/image?seed=3&mix=9&mixrows=")), _png(client.get("/api/image?seed=3")))
    thumb = _png(client.get("/api/image?seed=3&size=16"))
    assert thumb.shape == (16, 16, 3)
    assert client.get("/api/image?seed=3&class=1").status_code == 400   # not a conditional model
    assert "no classes" in client.get("/api/image?seed=3&class=1").json()["error"]


def test_class_picker_of_a_conditional_model():
    G = tiny(c_dim=4)
    explorer = Explorer(G, distance="pixel")
    try:
        with TestClient(create_app(explorer)) as http:
            assert http.get("/api/info").json()["c_dim"] == 4
            images = [_png(http.get(f"/api/image?seed=1&class={c}")) for c in range(4)]
            assert all(not np.array_equal(images[0], other) for other in images[1:])
            expected = sf.pipeline.render(G, seeds=[1], class_index=2)
            assert np.array_equal(images[2], sf.media.to_uint8(expected)[0])
            assert "class must be in 0..3" in http.get("/api/image?class=4").json()["error"]
    finally:
        explorer.close()


def test_download_names_say_what_the_view_shows(client):
    image = client.get("/api/image?seed=42&psi=0.7&download=1")
    assert image.headers["content-disposition"] == 'attachment; filename="seed42-psi0.7.png"'
    latent = client.get("/api/latent?seed=42&psi=0.7&mix=3&mixrows=1&edits=sefa-0:1.5&space=s")
    assert latent.headers["content-disposition"] == 'attachment; filename="seed42-psi0.7-mix3-sefa-0+1.5-s.safetensors"'
    assert "content-disposition" not in client.get("/api/image?seed=42").headers


def test_features_and_latent_downloads(client, G):
    grid = _png(client.get("/api/features?seed=2&layer=b8.conv"))
    assert grid.ndim == 3 and grid.shape[2] == 3 and grid.shape[0] > 16
    single = _png(client.get("/api/features?seed=2&layer=b8.conv&channel=5"))
    assert single.shape[:2] == (258, 258) and not np.array_equal(single, _png(client.get("/api/features?seed=2&layer=b8.conv&channel=6")))
    assert "channel must be in 0.." in client.get("/api/features?seed=2&layer=b8.conv&channel=4096").json()["error"]
    stats = client.get("/api/feature-stats?seed=2&layer=b8.conv").json()
    _, maps = sf.pipeline.render(G, seeds=[2], features=True)
    activations = maps["b8.conv"][0].double()
    assert stats["shape"] == list(activations.shape)
    np.testing.assert_allclose(stats["std"], activations.flatten(1).std(1, unbiased=False).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(stats["max"], activations.flatten(1).max(1).values.numpy(), rtol=1e-4, atol=1e-6)
    wplus = client.get("/api/latent?seed=2&psi=0.5&space=wplus")
    assert "attachment" in wplus.headers["content-disposition"]
    ws = load_tensors(wplus.content)["ws"]
    torch.testing.assert_close(ws, sf.pipeline.to_ws(G, seeds=[2], psi=0.5))
    s = load_tensors(client.get("/api/latent?seed=2&space=s&edits=channel40:2").content)["s"]
    plain = sf.latents.styles_to_vector(G.styles(sf.pipeline.to_ws(G, seeds=[2])))
    assert s.shape == plain.shape and torch.allclose(s[0, 40], plain[0, 40] + 1.0)


@pytest.mark.parametrize("query, message", [
    ("seed=-1", "seed must be in 0..4294967295"), ("seed=abc", "seed must be an integer"),
    ("seed=99999999999", "seed must be in"), ("psi=nan", "psi must be finite"), ("psi=5", "psi must be in"),
    ("cutoff=7", "cutoff must be in 0..6"), ("noise=loud", "noise must be one of"),
    ("mix=1&crossover=-1", "crossover must be in"), ("mix=1&mixgroup=fine", "mixgroup must be one of coarse, middle"),
    ("lerp=1&t=2", "t must be in"), ("edits=smile:1", "unknown edit 'smile'"),
    ("edits=sefa-0:100", "strength must be in"), ("edits=sefa-0:x", "strength must be a number"),
    ("mix=1&mixrows=1,x", "mixrows must be an integer"), ("mix=1&mixrows=6", "mixrows must be in 0..5"),
    ("noise=random&noiseseed=-3", "noiseseed must be in"), ("size=8", "size must be in 16..512"),
    ("client=a&seq=1", "unknown parameter(s): client, seq"),
    ("path=/etc/passwd", "unknown parameter(s): path"),
])
def test_bad_image_parameters_get_400_json(client, query, message):
    response = client.get(f"/api/image?{query}")
    assert response.status_code == 400 and message in response.json()["error"]


def test_bad_ids_layers_and_spaces(client):
    assert client.get("/api/image?projection=0123456789ab").status_code == 404
    assert client.get("/api/image?projection=../../x").status_code == 404
    assert client.get("/api/project/nope").status_code == 404
    assert "unknown layer" in client.get("/api/features?layer=../../etc/passwd").json()["error"]
    assert client.get("/api/latent?space=z").status_code == 400


def _image_bytes(size=20, kind="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buffer, kind)
    return buffer.getvalue()


def test_projection_upload_progress_and_use(client):
    response = client.post("/api/project?steps=5", content=_image_bytes())
    assert response.status_code == 200, response.text
    job = response.json()["id"]
    for _ in range(200):
        state = client.get(f"/api/project/{job}").json()
        if state["done"]:
            break
        time.sleep(0.05)
    assert state["done"] and state["error"] is None and state["step"] == 5 and state["distance"] > 0
    assert any("not square" in n or "20" in n for n in state["notes"]) or state["notes"] == []
    projected = _png(client.get(f"/api/image?projection={job}"))
    edited = _png(client.get(f"/api/image?projection={job}&edits=sefa-0:3"))
    assert not np.array_equal(projected, edited)
    wplus = load_tensors(client.get(f"/api/latent?projection={job}&space=wplus").content)["ws"]
    assert wplus.shape == (1, 6, 32)


@pytest.mark.parametrize("body, status, message", [
    (b"", 400, "send the image file"), (b"not an image at all", 400, "not an image format"),
    (_image_bytes(4), 400, "too small to project"), (_image_bytes(20)[:60], 400, ""),
])
def test_bad_uploads(client, body, status, message):
    response = client.post("/api/project?steps=5", content=body)
    assert response.status_code == status and message in response.json()["error"]


def test_upload_limits(client, explorer):
    big = client.post("/api/project", content=b"0" * (MAX_UPLOAD_BYTES + 1))
    assert big.status_code == 413 and "larger than 20 MB" in big.json()["error"]
    assert client.post("/api/project?steps=0", content=_image_bytes()).status_code == 400
    assert client.post("/api/project?steps=abc", content=_image_bytes()).status_code == 400
    buffer = io.BytesIO()
    Image.new("L", (8000, 6000)).save(buffer, "PNG")  # small file, 48 megapixels
    huge = client.post("/api/project?steps=1", content=buffer.getvalue())
    assert huge.status_code == 400 and "at most 40,000,000" in huge.json()["error"]


def test_edit_files_of_another_model_are_refused(G, tmp_path):
    other = tiny(w_dim=16)
    edits = sefa_edits(other, indices=[0], samples=100)
    save_edits(edits, tmp_path / "other.safetensors")
    with pytest.raises(sf.StyleforgeError, match="computed for a model with w_dim 16"):
        Explorer(G, sf.edit.load_edits(tmp_path / "other.safetensors"))


def test_serve_command(G, tmp_path, capsys, monkeypatch):
    from styleforge.cli import main
    from styleforge.commands import serve

    sf.save(G, tmp_path / "m.safetensors")
    calls = []
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **options: calls.append(options))
    assert main(["serve", "--model", str(tmp_path / "m.safetensors")]) == 0
    assert calls[-1]["host"] == "127.0.0.1" and calls[-1]["port"] == 7860   # loopback by default
    assert "warning" not in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path / "m.safetensors"), "--host", "0.0.0.0", "--port", "8000"]) == 0
    assert calls[-1]["host"] == "0.0.0.0" and "warning: --host 0.0.0.0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:            # refused while parsing, before any loading
        main(["serve", "--model", str(tmp_path / "m.safetensors"), "--port", "70000"])
    assert exit_info.value.code == 2 and "--port must be in 1..65535" in capsys.readouterr().err
    save_edits(sefa_edits(tiny(w_dim=16), indices=[0], samples=100), tmp_path / "other.safetensors")
    assert main(["serve", "--model", str(tmp_path / "m.safetensors"), "--edits", str(tmp_path / "other.safetensors")]) == 2
    assert "computed for a model with w_dim 16" in capsys.readouterr().err
    assert len(calls) == 2
