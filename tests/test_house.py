"""House rules that hold the whole code base to its shape: modules under 400 lines, no import cycles, one
way for tests to import their helpers. Static checks of the source; nothing here imports ecsched."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ecsched"
MAX_LINES = 400

# Modules over the limit, each with the reason it may be (none today: issue 12 split the last ones).
TOO_LONG_FOR_NOW: set[str] = set()

# Import cycles allowed for now, each as the set of its modules. A deferred import (inside a function)
# hides a cycle without removing it, so those count. Each entry names what breaks the cycle.
CYCLES_FOR_NOW: list[set[str]] = []


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, not `__init__`)."""
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


# --- size ------------------------------------------------------------------------------------------------


def test_every_module_is_at_most_400_lines() -> None:
    too_long = {str(p.relative_to(PACKAGE)): n for p in modules().values()
                if (n := line_count(p)) > MAX_LINES and str(p.relative_to(PACKAGE)) not in TOO_LONG_FOR_NOW}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}; split them by concern"


def test_the_size_allowlist_has_no_entry_left_over() -> None:
    done = sorted(name for name in TOO_LONG_FOR_NOW
                  if not (PACKAGE / name).is_file() or line_count(PACKAGE / name) <= MAX_LINES)
    assert not done, f"split or gone, take them out of TOO_LONG_FOR_NOW in {__file__}: {done}"


# --- import cycles ----------------------------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import that can run: at top level and deferred into functions (a deferred import hides a cycle,
    it does not remove it), but not under `if TYPE_CHECKING:`, which never runs."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            todo += node.orelse
        else:
            todo += ast.iter_child_nodes(node)
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The ecsched modules `name` imports. `from a import b` is module a.b when that is a module, else a;
    the parent packages Python also imports on the way are not counted."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        for a in node.names:
            sub = f"{base}.{a.name}"
            out.add(sub if sub in known else base)
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle_and_only_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_read_as_python_runs_them(tmp_path: Path) -> None:
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "m.py").write_text(
        "from __future__ import annotations\nimport json\nfrom typing import TYPE_CHECKING\n"
        "from . import a\nfrom .b import thing\nfrom p.c import d\n"
        "try:\n    import p.e\nexcept ImportError:\n    pass\n"
        "if TYPE_CHECKING:\n    from p import f\n"
        "def later():\n    from p import g\n")
    known = {"p", "p.m", "p.a", "p.b", "p.c", "p.c.d", "p.e", "p.f", "p.g"}
    assert imports_of("p.m", pkg / "m.py", known) == {"p.a", "p.b", "p.c.d", "p.e", "p.g"}


def test_no_import_cycles() -> None:
    new = [sorted(c) for c in cycles(import_graph()) if c not in CYCLES_FOR_NOW]
    assert not new, f"import cycles among ecsched modules (import lazily, or move the shared part out): {new}"


def test_the_cycle_allowlist_has_no_entry_left_over() -> None:
    found = cycles(import_graph())
    gone = [sorted(c) for c in CYCLES_FOR_NOW if c not in found]
    assert not gone, f"cycles no longer there, take them out of CYCLES_FOR_NOW in {__file__}: {gone}"


# --- tests ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((ROOT / "tests").rglob("*.py")), ids=lambda p: p.name)
def test_tests_import_their_helpers_one_way(path: Path) -> None:
    """`from tests.conftest import ...` at the top of a file: the repository root is on sys.path (pyproject's
    `pythonpath`) in every xdist worker and from any working directory, and conftest makes that name the
    module pytest loaded."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"^(from conftest import|import conftest\b)", text, re.MULTILINE), \
        f"{path.name}: import the helpers with `from tests.conftest import ...`"


def test_the_dev_profile_reaches_tests_that_pin_their_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest holds a pinned max_examples to the profile's; if Hypothesis stops reading the attribute
    it sets, the small default no longer applies and this fails."""
    from types import SimpleNamespace

    from hypothesis import given, settings
    from hypothesis import strategies as st

    import tests.conftest as conftest

    seen: list[int] = []

    @settings(max_examples=1000, database=None)
    @given(st.integers())
    def pinned(x: int) -> None:
        seen.append(x)

    monkeypatch.setattr(conftest, "HYPOTHESIS_PROFILE", "dev")
    conftest._fit_to_profile(SimpleNamespace(obj=pinned))  # type: ignore[arg-type]
    pinned()
    assert 0 < len(seen) <= settings.default.max_examples < 1000
