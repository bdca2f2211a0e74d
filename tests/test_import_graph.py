"""The package's import graph: no circle, and no arrow running back up.

An arrow runs back up when a module imports the ``__init__`` of a package it lives in (``advisor.cli.audit`` doing
``from advisor.cli import x``): that package's ``__init__`` is where its parts are put together, so importing it
from a part is a circle waiting to happen. Imports under ``if TYPE_CHECKING:`` count too; only a type checker runs
them, but a circle through them is still a circle for the reader.
"""

import ast
from pathlib import Path

import advisor

ROOT = Path(advisor.__file__).parent


def modules(root: Path) -> dict[str, Path]:
    """Every module under ``root`` by dotted name (a package by its own name, for its __init__.py)."""
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ours ``name`` imports (``from a import b`` is module a.b when that is a module, else a)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: climb from the importer's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return {t for t in targets if t in known}


def graph(root: Path) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def upward_arrows(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} imports {t}" for m, targets in edges.items() for t in targets if m.startswith(t + "."))


def find_circle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle (depth-first search), or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module):], module]
        if module in done:
            return None
        for target in sorted(edges[module]):
            if circle := visit(target, [*path, module]):
                return circle
        done.add(module)
        return None

    return next((c for m in sorted(edges) if (c := visit(m, []))), None)


def parts_graph(edges: dict[str, set[str]], depth: int = 2) -> dict[str, set[str]]:
    """The graph between the package's parts (``advisor.engine``, ``advisor.model``): every module folded into the
    part it belongs to, arrows inside a part dropped."""
    def part(module: str) -> str:
        return ".".join(module.split(".")[:depth])

    folded: dict[str, set[str]] = {}
    for module, targets in edges.items():
        folded.setdefault(part(module), set()).update(part(t) for t in targets if part(t) != part(module))
    return folded


def test_no_import_circle():
    assert find_circle(graph(ROOT)) is None


def test_no_circle_between_the_package_parts():
    """A low module importing one file of a higher folder (``model`` -> ``engine.stats`` while the engine imports
    the model) is no circle between files, but it is one between the parts: the floors stop meaning anything."""
    assert find_circle(parts_graph(graph(ROOT))) is None


def test_no_arrow_runs_back_up():
    assert upward_arrows(graph(ROOT)) == []


def toy_package(root, files: dict[str, str]):
    """A package ``toy`` under ``root`` with these files (relative paths) and their text."""
    package = root / "toy"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


def test_the_checks_see_a_circle_and_an_upward_arrow(tmp_path):
    """The two checks can fail: a toy package with both faults trips both."""
    edges = graph(toy_package(tmp_path, {
        "cli/__init__.py": "from toy.cli import audit\n",
        "cli/audit.py": "import os\nfrom . import console\nfrom toy.cli import helper\n",
        "cli/console.py": ""}))
    assert edges["toy.cli.audit"] == {"toy.cli.console", "toy.cli"}
    assert find_circle(edges) == ["toy.cli", "toy.cli.audit", "toy.cli"]
    assert upward_arrows(edges) == ["toy.cli.audit imports toy.cli"]


def test_the_parts_check_sees_a_low_module_importing_a_higher_folder(tmp_path):
    edges = graph(toy_package(tmp_path, {
        "engine/__init__.py": "", "engine/stats.py": "", "engine/pipeline.py": "from toy import model\n",
        "model.py": "from toy.engine.stats import Buckets\n"}))
    assert find_circle(edges) is None
    assert find_circle(parts_graph(edges)) == ["toy.engine", "toy.model", "toy.engine"]
