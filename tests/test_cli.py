"""The CLI: commands work end to end; user mistakes give one line and exit code 2 (M8)."""

import numpy as np
import pytest
from PIL import Image

import styleforge as sf
from styleforge.cli import main


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "g.safetensors"
    assert main(["new", "--preset", "tiny", "--out", str(path)]) == 0
    return path


@pytest.fixture
def cond_model_path(tmp_path):
    path = tmp_path / "cond.safetensors"
    assert main(["new", "--preset", "tiny", "--c-dim", "4", "--out", str(path)]) == 0
    return path


def _error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_new_writes_a_loadable_model(model_path):
    G = sf.load(model_path)
    assert isinstance(G, sf.Generator) and G.img_resolution == 16


def test_generate_writes_one_png_per_seed_and_a_grid(model_path, tmp_path):
    out = tmp_path / "out"
    assert main(["generate", "--model", str(model_path), "--seeds", "0-2,7", "--trunc", "0.7",
                 "--trunc-cutoff", "2", "--outdir", str(out), "--grid"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "grid.png", "seed0000.png", "seed0001.png", "seed0002.png", "seed0007.png"]
    image = np.asarray(Image.open(out / "seed0007.png"))
    assert image.shape == (16, 16, 3)
    assert np.asarray(Image.open(out / "grid.png")).shape == (32, 32, 3)


def test_generate_is_deterministic_per_seed(model_path, tmp_path):
    for name, seeds in (("a", "5"), ("b", "3-5")):
        assert main(["generate", "--model", str(model_path), "--seeds", seeds,
                     "--outdir", str(tmp_path / name)]) == 0
    a = np.asarray(Image.open(tmp_path / "a" / "seed0005.png"))
    assert np.array_equal(a, np.asarray(Image.open(tmp_path / "b" / "seed0005.png")))


def test_generate_conditional_model(cond_model_path, tmp_path):
    assert main(["generate", "--model", str(cond_model_path), "--seeds", "1", "--class", "3",
                 "--outdir", str(tmp_path / "o")]) == 0


def test_mix_writes_the_grid(model_path, tmp_path):
    assert main(["mix", "--model", str(model_path), "--rows", "1,2", "--cols", "3-5",
                 "--styles", "0-2", "--outdir", str(tmp_path)]) == 0
    assert np.asarray(Image.open(tmp_path / "mix-grid.png")).shape == (3 * 16, 4 * 16, 3)


def test_inspect_prints_the_architecture_table(model_path, capsys):
    assert main(["inspect", "--model", str(model_path)]) == 0
    out = capsys.readouterr().out
    assert "synthesis.b16.to_rgb" in out and "W+ row" in out
    assert "S 256 channels in 8 layers (5 conv + 3 ToRGB)" in out


def run_cli(argv):
    """main()'s exit code, whether it returns it or argparse exits."""
    try:
        return main(argv)
    except SystemExit as exit_info:
        return exit_info.code


@pytest.mark.parametrize("argv, message", [
    (["generate", "--seeds", "0-x"], "cannot read '0-x'"),
    (["generate", "--seeds", "1", "--class", "3"], "unconditional"),
    (["generate", "--seeds", "1", "--trunc-cutoff", "9"], "beyond this model's 6 W+ layers"),
    (["generate", "--seeds", "1", "--noise-mode", "loud"], "invalid choice"),
    (["mix", "--rows", "1", "--cols", "2", "--styles", "0-9"], "beyond this model's W+ layers"),
])
def test_user_mistakes_give_one_line_and_exit_2(model_path, tmp_path, capsys, argv, message):
    argv = argv[:1] + ["--model", str(model_path), "--outdir", str(tmp_path / "o")] + argv[1:]
    assert run_cli(argv) == 2
    assert message in _error_line(capsys)


def test_missing_class_for_conditional_model(cond_model_path, tmp_path, capsys):
    assert main(["generate", "--model", str(cond_model_path), "--seeds", "1",
                 "--outdir", str(tmp_path / "o")]) == 2
    assert "give --class" in _error_line(capsys)


def test_missing_model_file(tmp_path, capsys):
    assert main(["generate", "--model", str(tmp_path / "nope.safetensors"), "--seeds", "1",
                 "--outdir", str(tmp_path / "o")]) == 2
    assert "no such file" in _error_line(capsys)


def test_discriminator_file_given_to_generate(tmp_path, capsys):
    path = tmp_path / "d.safetensors"
    assert main(["new", "--kind", "D", "--out", str(path)]) == 0
    capsys.readouterr()
    assert main(["generate", "--model", str(path), "--seeds", "1", "--outdir", str(tmp_path)]) == 2
    assert "discriminator" in _error_line(capsys)


def _every_command() -> list[list[str]]:
    """Every command of the CLI's registry, and every action of the commands that have actions."""
    from styleforge.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    found = []
    for name, sub in commands.items():
        actions = [a for a in sub._actions if a.dest == "action"]
        found += [[name, action] for action in actions[0].choices] if actions else [[name]]
    return found


@pytest.mark.parametrize("argv", _every_command(), ids=lambda argv: " ".join(argv))
def test_every_command_has_examples_in_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "Examples:" in capsys.readouterr().out


def test_demo_trains_then_writes_the_figures(tmp_path):
    assert main(["demo", "--outdir", str(tmp_path), "--preset", "tiny", "--resolution", "16",
                 "--kimg", "0.016"]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"samples.png", "truncation.png", "style-mixing.png", "interpolation.gif", "run"} <= names
    gif = Image.open(tmp_path / "interpolation.gif")
    assert gif.n_frames == 6 * 12


def test_demo_renders_figures_for_an_existing_model(model_path, tmp_path):
    assert main(["demo", "--model", str(model_path), "--outdir", str(tmp_path / "figs")]) == 0
    assert (tmp_path / "figs" / "style-mixing.png").exists()


def test_progress_in_logs_is_a_line_every_interval_with_time_left():
    import io

    from styleforge.commands.common import LogProgress

    stream = io.StringIO()
    with LogProgress(10, "project", unit="step", every=0, stream=stream) as bar:
        for _ in range(10):
            bar.update(1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11 and lines[0].startswith("project: 1/10 step") and "left" in lines[0]
    assert lines[-1].startswith("project: 10/10 step") and lines[-1].endswith("done")
    quiet = io.StringIO()
    with LogProgress(10, "video", every=3600, stream=quiet) as bar:
        bar.update(5)
    assert quiet.getvalue().count("\n") == 1  # only the closing line within the interval


@pytest.mark.parametrize("argv, message", [
    (["generate", "--model", "m.safetensors", "--seeds", "0", "--batch", "0", "--outdir", "o"], "--batch must be at least 1, got 0"),
    (["project", "--model", "m.safetensors", "--target", "t.png", "--steps", "0"], "--steps must be at least 1"),
    (["project", "--model", "m.safetensors", "--target", "t.png", "--video-every", "-1"], "--video-every must be at least 1"),
    (["project", "--model", "m.safetensors", "--target", "t.png", "--w-avg-samples", "1"], "--w-avg-samples must be at least 2"),
    (["attribute", "--model", "m.safetensors", "--num", "1"], "--num must be at least 2"),
    (["analyze", "dci", "--model", "m.safetensors", "--predictor", "p", "--samples", "10"], "--samples must be at least 20"),
    (["analyze", "train-predictor", "--batch", "x"], "--batch must be an integer, got 'x'"),
    (["edit", "compare", "--model", "m", "--predictor", "p", "--edit", "e", "--strength", "0"], "--strength must be in"),
    (["serve", "--model", "m.safetensors", "--port", "0"], "--port must be in 1..65535, got 0"),
])
def test_option_ranges_are_checked_while_parsing(argv, message, capsys):
    """Range checks live in the parsers: one line and exit code 2 before any file is opened."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
