"""The editing-method registry: every registered method is described, documents every option and
shows examples in `styleforge edit --help`; a method added from outside (one module: a settings
dataclass, a compute function, `register`) becomes a CLI action with its options, writes its edit file
and figure, is named in comparisons, and needs no other file changed."""

import dataclasses

import pytest
import torch
from helpers import tiny

import styleforge as sf
from styleforge.cli import build_parser, main
from styleforge.edit import (METHODS, EditContext, EditMethod, MethodResult, index_list, load_edits, method_label,
                             register, setting)
from styleforge.edit.edits import Edit, model_dims


def test_every_method_is_described_with_options_and_examples(capsys):
    assert list(METHODS)[:4] == ["sefa", "ganspace", "interfacegan", "stylespace"]
    for name, method in METHODS.items():
        assert method.description and method.examples, name
        assert all(line.startswith(f"styleforge edit {name} ") for line in method.examples), name
        for spec in dataclasses.fields(method.settings):
            assert spec.metadata.get("help"), f"{name}: --{spec.name} has no help"
        method.settings()                                  # every setting has a default
        with pytest.raises(SystemExit):
            main(["edit", name, "--help"])
        text = capsys.readouterr().out.split("Examples:")[0]
        for spec in dataclasses.fields(method.settings):
            assert "--" + spec.name.replace("_", "-") in text, (name, spec.name)
        assert ("--predictor" in text) == method.learns, name


def test_top_level_help_does_not_read_the_registry():
    parser = build_parser("generate")                       # any other command: no edit methods built
    edit = parser._subparsers._group_actions[0].choices["edit"]
    assert set(edit._subparsers._group_actions[0].choices) == {"apply", "compare"}


@dataclasses.dataclass(frozen=True)
class RandomSettings:
    """Options of the test's method."""

    count: int = setting(2, "how many random directions")
    seed: int = setting(0, "seed of the directions")
    rows: tuple = setting((0, 1), "W+ rows the directions act on", parse=index_list)


def _random_directions(G, settings: RandomSettings, context: EditContext) -> MethodResult:
    generator = torch.Generator().manual_seed(settings.seed)
    directions = torch.nn.functional.normalize(torch.randn(settings.count, G.w_dim, generator=generator), dim=1)
    return MethodResult([Edit(f"random-{i}", "random", "w", d, layers=settings.rows, dims=model_dims(G),
                              info={"seed": settings.seed}) for i, d in enumerate(directions)],
                        records={"seeds": {"seed": settings.seed}}, lines=[f"{settings.count} random directions"])


@pytest.fixture
def random_method():
    method = register(EditMethod("random", "random unit directions in W (a baseline)", RandomSettings,
                                 _random_directions, label=lambda edit: f"random-{edit.info['seed']}",
                                 examples=("styleforge edit random --model m.safetensors --count 4 --out r.safetensors",)))
    yield method
    METHODS.pop("random")


def test_a_method_in_one_module_becomes_a_command(random_method, tmp_path, capsys):
    G = tiny()
    sf.save(G, tmp_path / "m.safetensors")
    with pytest.raises(SystemExit):
        main(["edit", "--help"])
    assert "random unit directions in W" in capsys.readouterr().out
    assert main(["edit", "random", "--model", str(tmp_path / "m.safetensors"), "--count", "3", "--seed", "5",
                 "--rows", "0-2", "--seeds", "0", "--strengths", "-2,2", "--out", str(tmp_path / "r.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "3 random directions" in out and "wrote" in out
    edits = load_edits(tmp_path / "r.safetensors")
    assert [e.name for e in edits] == ["random-0", "random-1", "random-2"] and edits[0].layers == (0, 1, 2)
    assert (tmp_path / "r.png").is_file() and (tmp_path / "r.seeds.json").read_text().strip().startswith("{")
    assert method_label(edits[0]) == "random-5"
    with pytest.raises(SystemExit):
        main(["edit", "random", "--model", str(tmp_path / "m.safetensors"), "--rows", "x",
              "--out", str(tmp_path / "bad.safetensors")])
    assert "argument --rows: indices: cannot read 'x'" in capsys.readouterr().err


def test_registering_twice_or_without_settings_is_refused(random_method):
    with pytest.raises(ValueError, match="registered twice"):
        register(random_method)
    with pytest.raises(TypeError, match="settings must be a dataclass"):
        register(EditMethod("other", "x", dict, _random_directions))
