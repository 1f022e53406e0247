"""Second round of bad inputs (the rows a new user hit): a full disk, huge finite numbers, negative
seeds, decompression bombs, outputs replaced without a word, unbounded sizes, a family mismatch on
--init-from, latents of another dtype, a device that is not there, a busy port. Each gets one line
and exit code 2, or a correct result; nothing is left half-written."""

import socket
import subprocess
import struct
import sys
import zlib

import pytest
import torch
from safetensors import SafetensorError

import styleforge as sf
import styleforge.tagged as tagged
from styleforge.cli import main as _main
from styleforge.edit import save_edits, sefa_edits

from helpers import tiny


def main(argv) -> int:
    try:
        return _main(argv)
    except SystemExit as exit_info:  # argparse's own errors
        return exit_info.code


def _one_line(capsys) -> str:
    """The one error line on stderr (progress lines of stages that finished before it may precede it)."""
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.endswith(", done")
           and ", done, " not in line]
    assert len(err) == 1, err
    return err[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    G = tiny()
    model = sf.save(G, folder / "g.safetensors")
    edits = save_edits(sefa_edits(G, indices=[0], samples=100), folder / "sefa.safetensors")
    target = folder / "t.png"
    from PIL import Image
    Image.new("RGB", (16, 16), (10, 200, 30)).save(target)
    bomb = folder / "bomb.png"  # 30000 × 30000 declared in a few kB
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data +  # noqa: E731
                                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 30001 * 8)) + chunk(b"IEND", b""))
    return {"model": str(model), "edits": str(edits), "target": str(target), "bomb": str(bomb)}


ROWS = [  # (argv with {model} {edits} {target} {bomb} {out}, words the one line must hold)
    ("generate --model {model} --trunc 1e38 --seeds 0 --outdir {out}", "truncation psi must be in -10..10"),
    ("generate --model {model} --trunc 1e308 --seeds 0 --outdir {out}", "truncation psi must be in -10..10"),
    ("mix --model {model} --trunc 1e308 --rows 0 --cols 1 --outdir {out}", "truncation psi must be in"),
    ("edit apply --model {model} --edit {edits}:0=1e308 --seeds 0 --out {out}/e.png", "strength must be in -20..20"),
    ("edit apply --model {model} --edit {edits}:0 --strengths -1e308:1e308:3 --seeds 0 --out {out}/e.png",
     "strengths must be in -20..20"),
    ("edit apply --model {model} --edit {edits}:0 --seeds 0-999999 --out {out}/e.png", "at most 256 latents"),
    ("train --seed -1 --preset tiny --outdir {out}", "seed must be in 0..4294967295"),
    ("analyze dci --model {model} --seed -1", "seed must be in 0..4294967295"),
    ("analyze features --model {model} --seed -1", "seed must be in 0..4294967295"),
    ("demo --seed -1 --outdir {out}", "seed must be in 0..4294967295"),
    ("project --model {model} --target {bomb} --outdir {out} --distance pixel", "declares 900,000,000 pixels"),
    ("video --model {model} --seeds 0-3 --grid 1000x1000 --out {out}/v.mp4", "each 1..16"),
    ("video --model {model} --seeds 0-3 --scale 100000 --out {out}/v.mp4", "--scale must be in 0..64"),
    ("video --model {model} --seeds 0-3 --scale 64 --grid 16x16 --out {out}/v.mp4", "at most 8,192"),
    ("edit sefa --model {model} --out {out}/e.png", "--out is the edit file"),
    ("generate --network {model}x --seeds 0 --outdir {out}", "no such file"),
]


@pytest.mark.parametrize("argv, words", ROWS, ids=[row[0].split(" --")[0] + f"-{i}" for i, row in enumerate(ROWS)])
def test_bad_inputs_get_one_line_and_leave_nothing(files, tmp_path, capsys, argv, words):
    out = tmp_path / "out"
    code = main(argv.format(out=out, **files).split())
    assert code == 2
    assert words in _one_line(capsys)
    assert not out.exists() or not any(out.rglob("*"))


# -------------------------------------------------------------------------------- full disk

def test_a_full_disk_is_one_line_for_every_writer(files, tmp_path, monkeypatch, capsys):
    """The error types safetensors and torch raise for ENOSPC, as they raise them."""
    def safetensors_full(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(tagged, "save_file", safetensors_full)
    for argv in (["new", "--preset", "tiny", "--out", str(tmp_path / "m.safetensors")],
                 ["convert", "--src", files["model"], "--dest", str(tmp_path / "c.safetensors")]):
        assert main(argv) == 2
        assert "could not write" in (line := _one_line(capsys)) and "No space left on device" in line
    assert not list(tmp_path.iterdir())  # no temporary file left behind


@pytest.fixture
def full_disk(tmp_path):
    """A 100 KB file system (tmpfs); skipped where this process may not mount one."""
    folder = tmp_path / "full"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the error types are checked above")
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_really_full_disk(files, full_disk, capsys):
    cases = [["new", "--preset", "tiny", "--out", str(full_disk / "m.safetensors")],
             ["convert", "--src", files["model"], "--dest", str(full_disk / "m.pt"), "--to", "rosinality"],
             ["video", "--model", files["model"], "--seeds", "0-3", "--scale", "16", "--out", str(full_disk / "v.mp4")],
             ["project", "--model", files["model"], "--target", files["target"], "--outdir", str(full_disk / "p"),
              "--steps", "30", "--w-avg-samples", "10", "--distance", "pixel", "--save-video"]]
    for argv in cases:
        for leftover in full_disk.rglob("*"):
            if leftover.is_file():
                leftover.unlink()
        assert main(argv) == 2, argv
        line = _one_line(capsys)
        assert "could not write" in line and ("No space left" in line or "incomplete" in line), line
        assert not [p for p in full_disk.rglob("*.mp4")] and not [p for p in full_disk.rglob(".*tmp")]


# ------------------------------------------------------------------------- replaced outputs

def test_project_and_attribute_never_replace_results_silently(files, tmp_path, capsys):
    out = tmp_path / "p"
    argv = ["project", "--model", files["model"], "--target", files["target"], "--outdir", str(out),
            "--steps", "2", "--w-avg-samples", "10", "--distance", "pixel"]
    assert main(argv) == 0
    before = (out / "projected.safetensors").read_bytes()
    capsys.readouterr()
    assert main(argv) == 2
    assert "already exists from an earlier run" in _one_line(capsys)
    assert (out / "projected.safetensors").read_bytes() == before
    assert main(argv + ["--force"]) == 0

    attribution = tmp_path / "a"
    attribution.mkdir()
    (attribution / "attribution.json").write_text("{}")
    assert main(["attribute", "--model", files["model"], "--real", "toyfaces", "--num", "2", "--steps", "1",
                 "--distance", "pixel", "--w-avg-samples", "10", "--outdir", str(attribution)]) == 2
    assert "attribution.json already exists" in _one_line(capsys)
    assert (attribution / "attribution.json").read_text() == "{}"


def test_edit_file_and_figure_never_share_a_path(files, tmp_path, capsys):
    assert main(["edit", "sefa", "--model", files["model"], "--out", str(tmp_path / "e.safetensors"),
                 "--figure", str(tmp_path / "e.safetensors")]) == 2
    assert "the edit file's path" in _one_line(capsys)


# --------------------------------------------------------------------------- training family

def test_init_from_another_family_is_refused(files, tmp_path, capsys):
    assert main(["train", "--preset", "tiny", "--resolution", "16", "--kimg", "0.016", "--family", "stylegan1",
                 "--init-from", files["model"], "--outdir", str(tmp_path / "runs")]) == 2
    assert "holds a stylegan2 generator but the run is set up for stylegan1" in _one_line(capsys)
    assert not (tmp_path / "runs").exists()


# ------------------------------------------------------------------------------ library inputs

@pytest.mark.parametrize("family", ["stylegan2", "stylegan1"])
def test_latents_of_another_float_dtype_are_cast(family):
    G = tiny(family=family)
    ws = G.mapping(torch.randn(2, G.z_dim, generator=torch.Generator().manual_seed(0)), None)
    expected = G.synthesis(ws)
    assert torch.equal(G.synthesis(ws.double()), expected)
    assert (G.synthesis(ws.half()) - expected).abs().max() < 0.05  # fp16 rounding of w only
    with pytest.raises(sf.StyleforgeError, match="floating-point"):
        G.synthesis(ws.long())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_a_missing_device_is_one_clear_error(files):
    with pytest.raises(sf.StyleforgeError, match="CUDA is not available"):
        sf.load(files["model"], device="cuda")
    with pytest.raises(sf.StyleforgeError, match="not a torch device"):
        sf.load(files["model"], device="banana")


def test_serve_on_a_busy_port_says_so(files, capsys):
    pytest.importorskip("uvicorn", reason="the web extra is part of the dev install")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["serve", "--model", files["model"], "--port", str(port)]) == 2
    assert "is in use" in _one_line(capsys)


def test_every_documented_top_level_name_resolves():
    import styleforge

    for name in ("pipeline", "checkpoint", "projection", "metrics", "media", "latent_files", "render",
                 "save_latents", "read_latents", "load", "save", "build"):
        assert getattr(styleforge, name) is not None, name
    assert callable(styleforge.render) and callable(styleforge.pipeline.render)


def test_broken_pipe_is_quiet(files):
    script = f"from styleforge.cli import main; import sys; sys.exit(main(['inspect', '--model', {files['model']!r}]))"
    run = subprocess.run(f"{sys.executable} -c \"{script}\" | head -1", shell=True, capture_output=True, text=True)
    assert "error" not in run.stderr.lower(), run.stderr
