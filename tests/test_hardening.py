"""Bad input of every class gets one clear line and exit code 2; nothing is lost or silently wrong.

| class of bad input | what it gets |
|---|---|
| destination exists (`convert`, `new`, `dataset`) | refused unless `--force`; a reference export's `.json` sidecar is checked too and may never be the weights file |
| destination is a folder / lies under a file | one line naming the path |
| NaN or Inf in any number option (`--trunc`, `--glr`, `--kimg`, `--snap`, ...) | one line, before anything is created |
| NaN / Inf weights in a model file or checkpoint | refused by name of the tensor |
| loss or weights become NaN / Inf during training | the run stops, names what diverged and the last good checkpoint; nothing is saved from that state |
| damaged newest checkpoint on `--resume auto` / a run directory | skipped with a note for the next good one (an explicitly named file is an error) |
| `--resume` with options that change the stored run | refused by name; length/budget/snapshot/metric options applied with a note; "nothing to resume" said |
| a second process on the same run directory | refused (lock held while training) |
| huge or backwards seed ranges | one line before any list is built; generation streams batch by batch and Ctrl-C keeps what was written |
| PIL modes: palette ± alpha, LA, 16-bit, 1-bit, CMYK, RGBA | read with the right channels and value range; other modes refused by name |
| `dataset.json` not as the reference defines it | one line: wrong structure, bool/null/float classes, huge classes, mixed kinds, duplicates |
| OS errors (disk full, read-only file system, ...) | one line with the reason and the path |
| editing: unknown factor, direction / component / edit index beyond those available, W+ layer outside the model, an edit file of a model with other sizes, a Z edit on a projected W+ latent (`tests/test_edit.py`) | one line naming the value and what is valid, before any work |
| model-file metadata of the wrong JSON type, header entries without offsets, configs beyond any StyleGAN, reference exports without kwargs | one line, before any network is built |
"""

import errno
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import styleforge as sf
from styleforge.cli import main as _main
from styleforge.data import ImageDataset
from styleforge.data.images import image_channels, image_to_array
from styleforge.errors import StyleforgeError
from styleforge.train import TrainingDiverged, train, training_config
from styleforge.train.rundir import RunLock

from helpers import tiny


def main(argv) -> int:
    """The CLI's exit code, also for mistakes that argparse reports (it exits with 2)."""
    try:
        return _main(argv)
    except SystemExit as exit_info:
        return exit_info.code


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "g.safetensors"
    sf.save(tiny("G"), path)
    return path


# ----------------------------------------------------------------------------- destinations

def test_existing_destinations_are_never_overwritten_silently(tmp_path, model_path, capsys):
    other = tmp_path / "other.safetensors"
    sf.save(tiny("D"), other)
    before = other.read_bytes()
    assert main(["convert", "--src", str(model_path), "--dest", str(other)]) == 2
    assert "already exists; pass --force" in _error(capsys)
    assert main(["new", "--preset", "tiny", "--out", str(other)]) == 2
    assert "--out" in _error(capsys) and other.read_bytes() == before
    assert main(["new", "--preset", "tiny", "--out", str(other), "--force"]) == 0
    assert isinstance(sf.load(other), sf.Generator)
    archive = tmp_path / "data.zip"
    archive.write_bytes(b"keep me")
    assert main(["dataset", "--source", "toyfaces", "--count", "4", "--dest", str(archive),
                 "--resolution", "16"]) == 2
    assert archive.read_bytes() == b"keep me"


def test_reference_export_sidecar_never_collides(tmp_path, model_path, capsys):
    assert main(["convert", "--src", str(model_path), "--dest", str(tmp_path / "x.json"), "--to", "reference"]) == 2
    assert "sidecar" in _error(capsys) and not (tmp_path / "x.json").exists()
    keep = tmp_path / "keep.json"
    keep.write_text("my notes")
    assert main(["convert", "--src", str(model_path), "--dest", str(tmp_path / "keep.bin"), "--to", "reference"]) == 2
    assert "keep.json already exists" in _error(capsys) and keep.read_text() == "my notes"
    assert not (tmp_path / "keep.bin").exists()


@pytest.mark.parametrize("dest, message", [("folder", "is a folder"), ("file/under.safetensors", "is a file")])
def test_destination_folder_or_under_a_file(tmp_path, model_path, capsys, dest, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    assert main(["convert", "--src", str(model_path), "--dest", str(tmp_path / dest)]) == 2
    assert message in _error(capsys)


# ------------------------------------------------------------------------ non-finite values

@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_options_are_refused(tmp_path, model_path, capsys, value):
    assert main(["generate", "--model", str(model_path), "--seeds", "0", f"--trunc={value}",
                 "--outdir", str(tmp_path / "out")]) == 2
    assert "argument --trunc: truncation psi must be in -10..10" in _error(capsys)  # bounded, so finite
    assert not (tmp_path / "out").exists()
    for option in ("--glr", "--kimg", "--snap", "--gamma"):
        assert main(["train", "--preset", "tiny", f"{option}={value}", "--outdir", str(tmp_path / "runs")]) == 2
        assert f"{option} must be a finite number" in _error(capsys)
    assert not (tmp_path / "runs").exists()  # no orphan run directory


def test_api_configs_refuse_non_finite_values():
    with pytest.raises(StyleforgeError, match="finite"):
        training_config("tiny", glr=float("inf"))
    with pytest.raises(StyleforgeError, match="finite"):
        sf.GeneratorConfig.from_dict({"conv_clamp": float("nan")})


def test_model_file_with_overwritten_bytes_is_refused(model_path, capsys):
    data = bytearray(model_path.read_bytes())
    data[-64:] = struct.pack("<f", float("nan")) * 16  # the last tensor's bytes become NaN
    model_path.write_bytes(bytes(data))
    with pytest.raises(StyleforgeError, match="NaN or infinite"):
        sf.load(model_path)
    assert main(["generate", "--model", str(model_path), "--seeds", "0", "--outdir", str(model_path.parent)]) == 2
    assert "NaN or infinite" in _error(capsys)


# --------------------------------------------------------------------------------- training

def _tiny_config(**options):
    return training_config("tiny", **{"kimg": 0.048, "snapshot_kimg": 0.016, "resolution": 16, **options})


def test_a_diverging_run_stops_and_keeps_its_good_checkpoints(tmp_path):
    poisoned = []

    def poison(entry):  # after the first snapshot, the weights go bad
        if entry.get("event") == "step" and entry["kimg"] >= 0.024 and not poisoned:
            poisoned.append(entry["kimg"])
            with torch.no_grad():
                next(iter(holder["G"].parameters())).fill_(float("nan"))

    holder = {}
    original = torch.nn.Module.train

    def capture(self, mode=True):  # the loop's G is the first Generator put in train mode
        if isinstance(self, sf.Generator) and "G" not in holder and mode:
            holder["G"] = self
        return original(self, mode)

    torch.nn.Module.train = capture
    try:
        with pytest.raises(TrainingDiverged, match="last good checkpoint is .*checkpoint-000000000016"):
            train(_tiny_config(), tmp_path, progress=poison)
    finally:
        torch.nn.Module.train = original
    run = next(tmp_path.iterdir())
    checkpoints = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert checkpoints == ["checkpoint-000000000016.safetensors"]  # nothing written after the NaN
    assert json.loads((run / "log.jsonl").read_text().splitlines()[-1])["event"] == "diverged"
    assert not (run / ".lock").exists()


def test_an_exploding_learning_rate_is_reported_not_called_done(tmp_path, capsys):
    assert main(["train", "--preset", "tiny", "--glr", "1e30", "--kimg", "0.032", "--resolution", "16",
                 "--outdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "training diverged" in err and "done" not in err


def test_resume_skips_a_damaged_newest_checkpoint(tmp_path):
    first = train(_tiny_config(), tmp_path)
    checkpoints = sorted((first.run_dir / "checkpoints").iterdir())
    newest = checkpoints[-1]
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated
    with pytest.raises(StyleforgeError, match="checkpoint-.*is truncated"):
        train(_tiny_config(kimg=0.08), tmp_path, resume=str(newest))  # named explicitly: no fallback
    notes = []
    resumed = train(_tiny_config(kimg=0.064), tmp_path, resume="auto", notify=notes.append)
    assert resumed.status == "done" and resumed.cur_nimg == 64
    assert any("skipping damaged checkpoint" in n for n in notes)
    assert any(checkpoints[-2].name in n for n in notes)


def test_resume_refuses_changed_settings_and_says_what_it_applies(tmp_path, capsys):
    common = ["train", "--preset", "tiny", "--resolution", "16", "--snap", "0.016", "--outdir", str(tmp_path)]
    assert main(common + ["--kimg", "0.016"]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", "auto", "--batch", "16", "--glr", "0.01", "--outdir", str(tmp_path)]) == 2
    line = _error(capsys)
    assert "--batch 16 (the run has 8)" in line and "--glr 0.01" in line
    assert main(["train", "--resume", "auto", "--kimg", "0.032", "--outdir", str(tmp_path)]) == 0
    assert "on resume: kimg 0.016 → 0.032" in capsys.readouterr().err
    assert main(["train", "--resume", "auto", "--kimg", "0.016", "--preset", "tiny", "--resolution", "16",
                 "--outdir", str(tmp_path / "empty")]) == 0
    assert "no checkpoint in" in capsys.readouterr().err


def test_a_second_writer_on_one_run_directory_is_refused(tmp_path):
    first = train(_tiny_config(kimg=0.016), tmp_path)
    with RunLock(first.run_dir):
        with pytest.raises(StyleforgeError, match="is in use by process"):
            train(_tiny_config(kimg=0.032), tmp_path, resume=str(first.run_dir))
        with pytest.raises(StyleforgeError, match="in use"):
            RunLock(first.run_dir).__enter__()
    assert train(_tiny_config(kimg=0.032), tmp_path, resume=str(first.run_dir)).status == "done"


def test_eta_counts_down_to_whichever_limit_ends_the_run_first():
    from styleforge.commands.train import _eta

    entry = {"kimg": 1.0, "start_kimg": 0.0, "total_kimg": 11.0, "wall_s": 60.0, "max_minutes": None}
    assert _eta(entry) == "10:00 (kimg)"
    assert _eta({**entry, "max_minutes": 3}) == "2:00 (time limit)"
    assert _eta({**entry, "kimg": 0.0}) == "?"


def test_train_prints_a_start_line(tmp_path, capsys):
    assert main(["train", "--preset", "tiny", "--resolution", "16", "--kimg", "0.016", "--outdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("training: toyfaces") and "run directory" in out[0] and "G 57,614" in out[0]


# ------------------------------------------------------------------------------ generation

def test_seed_ranges_are_bounded_and_checked_before_being_built(tmp_path, model_path, capsys):
    assert main(["generate", "--model", str(model_path), "--seeds", "0-99999999999", "--outdir", str(tmp_path)]) == 2
    assert "more than 1,000,000 values" in _error(capsys)
    assert main(["generate", "--model", str(model_path), "--seeds", "5-2", "--outdir", str(tmp_path)]) == 2
    assert "runs backwards" in _error(capsys)


def test_generation_streams_and_ctrl_c_keeps_what_was_written(tmp_path, model_path, monkeypatch, capsys):
    import styleforge.commands.generate as command

    saved = []
    original = command.save_image

    def save_then_stop(image, path):
        if len(saved) == 5:
            raise KeyboardInterrupt
        original(image, path)
        saved.append(path)

    monkeypatch.setattr(command, "save_image", save_then_stop)
    out = tmp_path / "out"
    assert main(["generate", "--model", str(model_path), "--seeds", "0-99", "--batch", "4", "--outdir", str(out)]) == 130
    assert sorted(p.name for p in out.iterdir()) == [f"seed{i:04d}.png" for i in range(5)]
    assert "interrupted: 5 images written" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- datasets

def _saved(image: Image.Image, tmp_path: Path, fmt: str = "PNG") -> Image.Image:
    path = tmp_path / f"x.{fmt.lower()}"
    image.save(path, format=fmt)
    opened = Image.open(path)
    opened.load()
    return opened


def test_every_common_pil_mode_reads_with_the_right_channels_and_values(tmp_path):
    rng = np.random.RandomState(0)
    colour = rng.randint(0, 256, (8, 8, 3)).astype(np.uint8)
    cases = {
        "P": (Image.fromarray(colour).quantize(16), 3),
        "P grey": (Image.fromarray(np.full((8, 8), 77, np.uint8)).convert("P"), 1),
        "PA": (Image.fromarray(colour).quantize(16).convert("PA"), 3),
        "LA": (Image.fromarray(np.full((8, 8, 2), 200, np.uint8), "LA"), 1),
        "I;16": (Image.fromarray(np.full((8, 8), 65535, np.uint16)), 1),
        "1": (Image.fromarray(np.ones((8, 8), bool)), 1),
        "RGBA": (Image.fromarray(np.dstack([colour, np.zeros((8, 8), np.uint8)]), "RGBA"), 3),
    }
    for name, (image, channels) in cases.items():
        opened = image if name == "PA" else _saved(image, tmp_path)  # PNG cannot store mode PA
        assert image_channels(opened) == channels, name
        array = image_to_array(opened, channels)
        assert array.shape == (channels, 8, 8) and array.dtype == np.uint8, name
    assert image_to_array(_saved(cases["I;16"][0], tmp_path), 1).max() == 255  # scaled, not clipped
    assert image_to_array(_saved(cases["RGBA"][0], tmp_path), 3).transpose(1, 2, 0).tolist() == colour.tolist()
    cmyk = _saved(Image.fromarray(np.full((8, 8, 3), (255, 0, 0), np.uint8)).convert("CMYK"), tmp_path, "TIFF")
    assert image_channels(cmyk) == 3 and image_to_array(cmyk, 3)[:, 0, 0].tolist() == [255, 0, 0]
    floats = _saved(Image.fromarray(np.zeros((8, 8), np.float32), "F"), tmp_path, "TIFF")
    with pytest.raises(StyleforgeError, match="mode 'F' is not supported"):
        image_channels(floats)


def test_a_palette_dataset_is_colour_and_a_16_bit_one_is_not_white(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    rng = np.random.RandomState(0)
    for i in range(2):
        Image.fromarray(rng.randint(0, 256, (16, 16, 3)).astype(np.uint8)).quantize(8).save(folder / f"{i}.png")
    assert ImageDataset(folder).channels == 3
    grey = tmp_path / "g"
    grey.mkdir()
    Image.fromarray(np.full((16, 16), 30000, np.uint16)).save(grey / "0.png")
    dataset = ImageDataset(grey)
    assert dataset.channels == 1 and dataset.image(0).max() == round(30000 / 257)


@pytest.mark.parametrize("labels, message", [
    ([["0.png", 0]], "must be a JSON object"),
    ({"labels": {"0.png": 0}}, "must be a list of \\[path, label\\] pairs"),
    ({"labels": [["0.png", 0, 1], ["1.png", 1, 0]]}, "must be \\[path, label\\]"),
    ({"labels": [["0.png", {"class": 1}], ["1.png", 0]]}, "class index"),
    ({"labels": [["0.png", 10 ** 9], ["1.png", 0]]}, "outside"),
    ({"labels": [["0.png", True], ["1.png", 0]]}, "class index"),
    ({"labels": [["0.png", None], ["1.png", 0]]}, "class index"),
    ({"labels": [["0.png", 1.5], ["1.png", 0]]}, "class index"),
    ({"labels": [["0.png", 1], ["1.png", [0.5, 1.0]]]}, "mix"),
    ({"labels": [["0.png", 1], ["0.png", 0], ["1.png", 0]]}, "labelled twice"),
    ({"labels": [["0.png", -1], ["1.png", 0]]}, "outside"),
])
def test_dataset_json_is_validated_as_the_reference_defines_it(tmp_path, capsys, labels, message):
    folder = tmp_path / "d"
    folder.mkdir()
    for i in range(2):
        Image.new("RGB", (16, 16), (i * 50, 0, 0)).save(folder / f"{i}.png")
    (folder / "dataset.json").write_text(json.dumps(labels))
    with pytest.raises(StyleforgeError, match=message):
        ImageDataset(folder, use_labels=True)
    assert main(["dataset", "--source", str(folder), "--dest", str(tmp_path / "o.zip"), "--resolution", "16"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_an_unreadable_image_is_named_without_python_reprs(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"not a png at all")
    with pytest.raises(StyleforgeError) as error:
        ImageDataset(folder)
    assert "a.png" in str(error.value) and "<_io" not in str(error.value)


# --------------------------------------------------------------------------------- OS errors

@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_os_errors_are_one_line(tmp_path, model_path, monkeypatch, capsys, code):
    import styleforge.commands.new as command

    def fail(model, path):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(command, "save", fail)
    assert main(["new", "--preset", "tiny", "--out", str(tmp_path / "m.safetensors")]) == 2
    line = _error(capsys)
    assert os.strerror(code) in line and "m.safetensors" in line and "Errno" not in line


# ---------------------------------------------------------------------------- model metadata

def _model_file(path: Path, config_edit=None, metadata_edit=None) -> Path:
    model = tiny("G")
    config = model.config.to_dict()
    if config_edit:
        config_edit(config)
    metadata = {"format": "styleforge.model", "format_version": "1", "styleforge_version": sf.__version__,
                "kind": "G", "config": json.dumps(config)}
    if metadata_edit:
        metadata_edit(metadata)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=metadata)
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.update(z_dim="32"), "z_dim must be int"),
    (lambda c: c.update(w_dim=32.0), "w_dim must be int"),
    (lambda c: c.update(channel_max=True), "channel_max must be int"),
    (lambda c: c.update(resample_filter={"a": 1}), "resample_filter must be tuple"),
    (lambda c: c.update(img_resolution=2 ** 20), "beyond"),
    (lambda c: c.update(channel_max=10 ** 7), "beyond"),
    (lambda c: c.update(mapping_layers=10 ** 6), "beyond"),
])
def test_model_config_of_the_wrong_type_or_size_is_refused_before_building(tmp_path, edit, message):
    path = _model_file(tmp_path / "m.safetensors", config_edit=edit)
    with pytest.raises(StyleforgeError, match=message):
        sf.load(path)


def test_config_that_is_not_an_object_and_header_without_offsets(tmp_path):
    path = _model_file(tmp_path / "a.safetensors", metadata_edit=lambda m: m.update(config="[1, 2]"))
    with pytest.raises(StyleforgeError, match="expected a JSON object"):
        sf.load(path)
    path = _model_file(tmp_path / "b.safetensors")
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    name = next(k for k in header if k != "__metadata__")
    del header[name]["data_offsets"]
    encoded = json.dumps(header).encode().ljust(size)
    path.write_bytes(data[:8] + encoded[:size] + data[8 + size:] if len(encoded) == size else
                     struct.pack("<Q", len(encoded)) + encoded + data[8 + size:])
    with pytest.raises(StyleforgeError, match="is damaged: its header entry for tensor"):
        sf.load(path)


def test_config_that_does_not_match_the_tensors_is_refused(tmp_path):
    path = _model_file(tmp_path / "m.safetensors", config_edit=lambda c: c.update(channel_max=64))
    with pytest.raises(StyleforgeError, match="do not match the config"):
        sf.load(path)


def test_reference_export_without_kwargs(tmp_path):
    from styleforge.checkpoint import export_reference

    path = export_reference(tiny("G"), tmp_path / "ref.safetensors")
    from safetensors.torch import load_file
    state = load_file(path)
    save_file(state, str(path), metadata={"format": "stylegan2-ada-pytorch.state_dict", "kind": "G"})
    with pytest.raises(StyleforgeError, match="is damaged: its metadata field 'init_kwargs' is missing"):
        sf.load(path)


# -------------------------------------------------------------------------------- experience

def test_help_and_argument_errors_do_not_import_torch():
    code = ("import sys\nfrom styleforge.cli import main\n"
            "for argv in (['--help'], ['generate', '--help'], ['generate', '--seeds', '5-2']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_metrics_list(capsys):
    assert main(["metrics", "--list"]) == 0
    out = capsys.readouterr().out
    assert "fid" in out and "Fréchet" in out and "ppl2" in out


def test_demo_stops_on_ctrl_c_without_figures(tmp_path, monkeypatch, capsys):
    import styleforge.commands.demo as command
    from styleforge.train.loop import TrainResult

    monkeypatch.setattr(command, "train", lambda *a, **k: TrainResult(tmp_path / "run", "interrupted", 2000))
    assert main(["demo", "--outdir", str(tmp_path)]) == 130
    assert "interrupted at 2.0 kimg" in capsys.readouterr().out
    assert not (tmp_path / "samples.png").exists()


def test_demo_says_when_the_machine_is_too_slow(capsys):
    from styleforge.commands.demo import _speed_check, expected_minutes

    check = _speed_check(lambda entry: None, kimg=30, expected=expected_minutes("small", 32, 30))
    check({"event": "step", "kimg": 0.1, "wall_s": 25.0})  # 30 kimg would take 125 min
    assert "slower than the one the demo was sized for" in capsys.readouterr().out


def test_the_demo_estimate_follows_kimg_and_is_left_out_where_not_measured():
    from styleforge.commands.demo import EXPECTED_MINUTES, expected_minutes

    assert expected_minutes("small", 32, 30) == EXPECTED_MINUTES
    assert expected_minutes("small", 32, 3) == EXPECTED_MINUTES / 10
    assert expected_minutes("small", 64, 30) is None and expected_minutes("tiny", 32, 30) is None
