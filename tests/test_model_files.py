"""Native model files: safetensors + config metadata, atomic, clear errors, no pickle (M7)."""

import json
import struct

import pytest
import torch
from safetensors.torch import save_file

import styleforge as sf
from styleforge.checkpoint import FORMAT_VERSION, read_metadata

from helpers import tiny


@pytest.mark.parametrize("kind", ["G", "D"])
@pytest.mark.parametrize("architecture", ["orig", "resnet"])
def test_save_load_round_trip_rebuilds_from_the_file_alone(tmp_path, kind, architecture):
    model = tiny(kind, architecture=architecture, c_dim=2)
    path = sf.save(model, tmp_path / "m.safetensors")
    loaded = sf.load(path)
    assert type(loaded) is type(model) and loaded.config == model.config
    c = torch.eye(2)[[0, 1]]
    x = torch.randn(2, model.z_dim) if kind == "G" else torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(model(x, c), loaded(x, c))
    meta = read_metadata(path)
    assert meta["kind"] == kind and meta["styleforge_version"] == sf.__version__
    assert json.loads(meta["config"])["architecture"] == architecture


def test_file_is_safetensors_not_pickle(tmp_path):
    path = sf.save(tiny("G"), tmp_path / "g.safetensors")
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    assert json.loads(raw[8:8 + header_len])["__metadata__"]["format"] == "styleforge.model"
    assert b"\x80\x04" not in raw[:2]


def test_noise_buffers_and_w_avg_are_saved(tmp_path):
    G = tiny("G")
    loaded = sf.load(sf.save(G, tmp_path / "g.safetensors"))
    assert torch.equal(loaded.w_avg, G.w_avg)
    assert torch.equal(loaded.synthesis.b8.conv.noise_const, G.synthesis.b8.conv.noise_const)


def test_missing_file(tmp_path):
    with pytest.raises(sf.StyleforgeError, match="no such file"):
        sf.load(tmp_path / "nope.safetensors")


def test_not_a_model(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello world, not a model at all")
    with pytest.raises(sf.StyleforgeError, match="not a styleforge model"):
        sf.load(junk)
    plain = tmp_path / "plain.safetensors"
    save_file({"x": torch.zeros(2)}, str(plain))
    with pytest.raises(sf.StyleforgeError, match="not a styleforge model"):
        sf.load(plain)


def test_truncated_file(tmp_path):
    path = sf.save(tiny("G"), tmp_path / "g.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(sf.StyleforgeError, match="truncated"):
        sf.load(path)
    path.write_bytes(data[:20])
    with pytest.raises(sf.StyleforgeError, match="truncated|not a styleforge"):
        sf.load(path)


def test_newer_format_version_is_refused(tmp_path):
    G = tiny("G")
    path = tmp_path / "future.safetensors"
    tensors = {k: v.contiguous() for k, v in G.state_dict().items()}
    save_file(tensors, str(path), metadata={
        "format": "styleforge.model", "format_version": str(FORMAT_VERSION + 1),
        "styleforge_version": "9.0.0", "kind": "G", "config": json.dumps(G.config.to_dict())})
    with pytest.raises(sf.StyleforgeError, match="newer styleforge"):
        sf.load(path)


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = sf.save(tiny("G"), tmp_path / "g.safetensors")
    before = path.read_bytes()
    import styleforge.tagged as tagged

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tagged, "save_file", explode)
    with pytest.raises(OSError):
        sf.save(tiny("G"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.safetensors"]
