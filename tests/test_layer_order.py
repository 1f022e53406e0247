"""The layering rules of docs/architecture.md, checked on the source: no import cycle among styleforge
modules, imports inside functions only with a stated reason, benchmarks use public names only."""

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src"
BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
REASONS = ("# on use:", "# optional:")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (SRC / "styleforge").rglob("*.py")}


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for _ in range(node.level - 1):
        package = package.rsplit(".", 1)[0]
    return f"{package}.{node.module}" if node.module else package


def _module_level_imports(module: str, path: Path, known: dict) -> set[str]:
    """styleforge modules imported at module level (a name imported from a package counts as that
    submodule when one exists)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        nodes = [node]
        if isinstance(node, ast.Try):
            nodes = node.body
        for item in nodes:
            if isinstance(item, ast.Import):
                found.update(a.name for a in item.names if a.name.startswith("styleforge"))
            elif isinstance(item, ast.ImportFrom):
                target = _resolve(module, path, item)
                if not target.startswith("styleforge"):
                    continue
                submodules = [f"{target}.{a.name}" for a in item.names if f"{target}.{a.name}" in known]
                found.update(submodules or [target])
    return found - {module}


def test_no_import_cycles():
    known = _modules()
    graph = {m: _module_level_imports(m, p, known) & set(known) for m, p in known.items()}
    # Tarjan's strongly connected components.
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            # A package importing its own submodules is how packages work, not a cycle.
            if len(component) > 1 and not _package_and_children(component):
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def _package_and_children(component: list[str]) -> bool:
    packages = [m for m in component if any(o.startswith(m + ".") for o in component)]
    return len(packages) == 1 and all(m == packages[0] or m.startswith(packages[0] + ".") for m in component)


def _function_level_imports(path: Path):
    lines = path.read_text().splitlines()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    yield sub.lineno, lines[sub.lineno - 1]


@pytest.mark.parametrize("path", sorted((SRC / "styleforge").rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_inside_functions_state_their_reason(path):
    unexplained = [f"{path.name}:{n}: {line.strip()}" for n, line in _function_level_imports(path)
                   if not any(reason in line for reason in REASONS)]
    assert not unexplained, unexplained


def test_benchmarks_use_public_names_only():
    private = []
    for path in BENCHMARKS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("styleforge"):
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
                if any(part.startswith("_") for part in node.module.split(".")):
                    private.append(f"{path.name}: {node.module}")
    assert not private, private


# ------------------------------------------------------------------------- the layer order

DOC = Path(__file__).parent.parent / "docs" / "architecture.md"


def layer_table(text: str | None = None) -> dict[str, int]:
    """{top-level name under styleforge: layer} from docs/architecture.md's layer table."""
    text = text if text is not None else DOC.read_text()
    table = text.split("<!-- layers:", 1)[1].split("\n\n", 1)[0]
    layers = {}
    for row in table.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            for name in re.findall(r"`([\w]+)`", cells[1]):
                layers[name] = int(cells[0])
    return layers


def _layer(module: str, layers: dict) -> int | None:
    parts = module.split(".")
    return None if len(parts) == 1 else layers.get(parts[1], -1)


def _all_imports(module: str, path: Path, known: dict) -> set[str]:
    """Module-level imports and those inside functions (they count for the layer order too)."""
    found = _module_level_imports(module, path, known)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom):
                    target = _resolve(module, path, sub)
                    if target.startswith("styleforge"):
                        found |= {f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in sub.names}
                elif isinstance(sub, ast.Import):
                    found |= {a.name for a in sub.names if a.name.startswith("styleforge")}
    return found - {module}


def upward_imports(layers: dict, sources: dict | None = None) -> list[str]:
    known = _modules()
    sources = sources or {m: p for m, p in known.items()}
    found = []
    for module, path in sorted(sources.items()):
        own = _layer(module, layers)
        if own is None:
            continue
        for target in sorted(_all_imports(module, path, known)):
            theirs = _layer(target, layers)
            if theirs is not None and theirs > own:
                found.append(f"{module} (layer {own}) imports {target} (layer {theirs})")
    return found


def test_every_module_has_a_layer():
    layers = layer_table()
    unplaced = sorted({m.split(".")[1] for m in _modules() if "." in m} - set(layers))
    assert not unplaced, f"not in docs/architecture.md's layer table: {unplaced}"
    assert not set(layers) - {m.split(".")[1] for m in _modules() if "." in m}, "the table names modules that are gone"


def test_no_import_goes_up_the_layers():
    assert upward_imports(layer_table()) == []


def test_the_layer_test_catches_an_upward_import(tmp_path):
    """A deliberately added upward import (checkpoint → web) is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..web import Explorer\n")
    sources = {"styleforge.checkpoint.bad": bad}
    (found,) = upward_imports(layer_table(), sources)
    assert "styleforge.checkpoint.bad (layer 4) imports styleforge.web" in found
