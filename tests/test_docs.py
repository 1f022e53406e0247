"""The docs as a user reads them: every `sf.x.y` / `styleforge.x.y` name they mention resolves after a
plain `import styleforge as sf`, and their Python blocks run as written (tiny files stand in for the
model files they name)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import styleforge as sf

from helpers import tiny

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NAME = re.compile(r"\b(?:sf|styleforge)((?:\.[A-Za-z_]\w*)+)")
NOT_NAMES = {".model", ".pkl", ".edits", ".latent"}  # format tags ('styleforge.model') and file names ('sf.pkl')


def _documented_names() -> list[str]:
    names = set()
    for path in DOCS:
        for code in re.findall(r"`([^`\n]+)`", path.read_text()) + re.findall(r"```python\n(.*?)```", path.read_text(),
                                                                              re.S):
            names.update(match.group(1) for match in NAME.finditer(code))
    return sorted(names - NOT_NAMES)


def test_every_documented_name_resolves_after_a_plain_import():
    """In a fresh interpreter: only `import styleforge as sf`, then attribute access as the docs write it."""
    names = _documented_names()
    assert len(names) > 20
    script = ("import styleforge as sf\nmissing = []\nfor dotted in %r:\n    value = sf\n"
              "    for part in dotted.strip('.').split('.'):\n        if not hasattr(value, part):\n"
              "            missing.append(dotted); break\n        value = getattr(value, part)\nprint(missing)" % names)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"documented but not resolvable after `import styleforge as sf`: {run.stdout}"


def _blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize("path", [p for p in DOCS if _blocks(p) and p.name != "formats.md"], ids=lambda p: p.name)
def test_python_blocks_run_as_written(path, tmp_path, monkeypatch):
    """formats.md's block runs inside NVIDIA's checkout: test_file_formats runs it against stand-ins."""
    monkeypatch.chdir(tmp_path)
    sf.save(tiny("G"), "m.safetensors")
    sf.save(tiny("G"), "model.safetensors")
    registered = dict(sf.edit.METHODS)          # a block may register an editing method: undone after
    try:
        for block in _blocks(path):
            exec(compile(block, f"{path.name} block", "exec"), {})
    finally:
        sf.edit.METHODS.clear()
        sf.edit.METHODS.update(registered)
