"""Models by URL and by release name, against a server on 127.0.0.1: success, cache hit without a
request, a changed cached file, a truncated download that resumes with HTTP Range, 404, no network."""

import http.server
import json
import threading
import urllib.error
import urllib.request

import pytest
import torch

import styleforge as sf
from styleforge.checkpoint import remote
from styleforge.cli import main as _main

from conftest import FIXTURES
from helpers import tiny


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves `files` ({path: bytes}); honours Range; `cut` ({path: n}) sends only n bytes of a file
    while announcing all of them, then closes (a dropped connection)."""

    files: dict = {}
    cut: dict = {}
    requests: list = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.requests.append((self.path, self.headers.get("Range")))
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if self.path in self.cut:
            body = body[:self.cut.pop(self.path)]
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEFORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(remote, "_verified", {})
    Handler.files, Handler.cut, Handler.requests = {}, {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _model_bytes(tmp_path, seed=0) -> tuple[bytes, object]:
    G = tiny()
    with torch.no_grad():
        for p in G.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(seed)) * 0.1)
    return sf.save(G, tmp_path / f"m{seed}.safetensors").read_bytes(), G


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_model_by_url_is_downloaded_once_then_read_from_the_cache(server, tmp_path):
    httpd, base = server
    data, G = _model_bytes(tmp_path)
    Handler.files["/models/m.safetensors"] = data
    url = f"{base}/models/m.safetensors"
    assert _same(sf.load(url), G)
    cached = remote.cached_path(url)
    assert cached.read_bytes() == data
    record = json.loads(cached.with_name(cached.name + ".json").read_text())
    assert record["url"] == url and record["bytes"] == len(data) and len(record["sha256"]) == 64
    httpd.shutdown()  # from here on, no server
    remote._verified.clear()
    assert _same(sf.load(url), G)
    assert len(Handler.requests) == 1


def test_nvidia_pickles_by_url_and_release_names(server, tmp_path, monkeypatch, capsys):
    _, base = server
    Handler.files["/pretrained/ada-0.pkl"] = (FIXTURES / "nvidia-pickles" / "ada-0.pkl").read_bytes()
    url = f"{base}/pretrained/ada-0.pkl"
    expected = sf.load(FIXTURES / "nvidia-pickles" / "ada-0.pkl")
    assert _same(sf.load(url), expected)
    monkeypatch.setitem(remote.RELEASES, "stylegan2-test-16", url)
    out = tmp_path / "out"
    assert _main(["generate", "--model", "stylegan2-test-16", "--seeds", "0", "--outdir", str(out)]) == 0
    assert _main(["generate", "--network", url, "--seeds", "1", "--outdir", str(out)]) == 0
    assert len(list(out.glob("*.png"))) == 2
    assert _main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "stylegan2-test-16" in listing and "(1 file(s))" in listing


def test_a_changed_cached_file_is_detected(server, tmp_path):
    _, base = server
    data, _ = _model_bytes(tmp_path)
    Handler.files["/m.safetensors"] = data
    url = f"{base}/m.safetensors"
    sf.load(url)
    cached = remote.cached_path(url)
    cached.write_bytes(data[:-4] + b"\0\0\0\0")
    remote._verified.clear()
    with pytest.raises(sf.StyleforgeError, match="no longer matches the SHA-256 recorded"):
        sf.load(url)


def test_a_truncated_download_resumes(server, tmp_path):
    _, base = server
    data, G = _model_bytes(tmp_path)
    Handler.files["/m.safetensors"] = data
    Handler.cut["/m.safetensors"] = len(data) // 3
    url = f"{base}/m.safetensors"
    with pytest.raises(sf.StyleforgeError, match="run again to resume"):
        sf.load(url)
    assert not remote.cached_path(url).exists()  # nothing half-written under the final name
    assert _same(sf.load(url), G)
    assert Handler.requests[-1] == ("/m.safetensors", f"bytes={len(data) // 3}-")


def test_http_errors_and_no_network_are_one_line(server, tmp_path, monkeypatch, capsys):
    _, base = server
    with pytest.raises(sf.StyleforgeError, match="HTTP 404"):
        sf.load(f"{base}/missing.pkl")

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    url = "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan2/versions/1/files/stylegan2-ffhq-1024x1024.pkl"
    assert _main(["generate", "--model", "stylegan2-ffhq-1024", "--seeds", "0", "--outdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and url in err[0] and "download" in err[0] and "by hand" in err[0]
