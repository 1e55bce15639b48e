"""Architecture gates (issues 13 and 16): no import cycle, a lazy package and CLI, an honest ``__all__``.

- The import graph of vpgeo is built from the source with ``ast``: imports at module level and inside
  functions both count (a function-level import is a cycle waiting for the first call), imports under
  ``if TYPE_CHECKING:`` do not (they never run).
- ``import vpgeo``, ``vpgeo --help`` and ``vpgeo data list`` load none of the heavy stack (checked in a fresh
  interpreter, so nothing imported by other tests can hide an eager import).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "vpgeo"
HEAVY = ("geopandas", "pandas", "shapely", "folium", "scipy", "matplotlib")


# ------------------------------------------------------------------------------------------ import graph


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: module level, in functions and classes, not under TYPE_CHECKING."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The package's modules an import statement loads (``from vpgeo import x`` is module x when x is one)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the module's package, up level - 1
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    out = set()
    for name in names:
        # the longest known module that the name is or lies in (importing a.b.c runs a and a.b too)
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            candidate = ".".join(parts[:i])
            if candidate in known:
                out.add(candidate)
                break
    return out


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports at run time (the package itself is its ``__init__``)."""
    files = {_module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node in _runtime_imports(tree):
            edges |= _targets(node, module, path.name == "__init__.py", known)
        graph[module] = edges - {module}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted, largest first.

    Importing the package ``vpgeo`` (its ``__init__``) from a submodule is not a cycle edge: every
    ``import vpgeo.x`` runs ``vpgeo/__init__.py`` first by Python's rules, and the lazy ``__init__`` imports
    no submodule at run time (that is tested below).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out, key=lambda c: (-len(c), c))


def _without_package_root(graph: Mapping[str, set[str]], package: str) -> dict[str, set[str]]:
    return {m: (e - {package} if m != package else e) for m, e in graph.items()}


def _example(graph: Mapping[str, set[str]], component: list[str]) -> str:
    """One cycle through the component, spelled out: a -> b -> a."""
    members = set(component)
    path = [component[0]]
    while True:
        nxt = sorted(graph[path[-1]] & members)
        step = next((n for n in nxt if n not in path), None)
        if step is None:
            back = next(n for n in nxt if n in path)
            return " -> ".join([*path[path.index(back) :], back])
        path.append(step)


def test_cycle_finder_sees_function_level_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "toy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toy import a\n")
    (pkg / "a.py").write_text("import toy.b\n")
    (pkg / "b.py").write_text("def f():\n    from toy.a import x  # at call time\n    return x\n")
    (pkg / "c.py").write_text("from . import a\nfrom .b import f\n")
    (pkg / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toy import c\n")
    graph = import_graph(tmp_path, "toy")
    assert graph == {
        "toy": set(),
        "toy.a": {"toy.b"},
        "toy.b": {"toy.a"},
        "toy.c": {"toy", "toy.a", "toy.b"},
        "toy.d": set(),
    }
    assert cycles(_without_package_root(graph, "toy")) == [["toy.a", "toy.b"]]
    assert _example(graph, ["toy.a", "toy.b"]) == "toy.a -> toy.b -> toy.a"


def test_no_import_cycle_among_vpgeo_modules() -> None:
    graph = _without_package_root(import_graph(ROOT, "vpgeo"), "vpgeo")
    assert len(graph) > 10 and graph["vpgeo.rules"], "the graph was not built"
    found = cycles(graph)
    assert not found, "import cycles (function-level imports count): " + "; ".join(_example(graph, c) for c in found)


def test_package_init_imports_no_submodule_at_run_time() -> None:
    graph = import_graph(ROOT, "vpgeo")
    allowed = {"vpgeo._version"}  # the version string, and nothing heavy
    assert graph["vpgeo"] <= allowed, f"vpgeo/__init__.py imports {sorted(graph['vpgeo'] - allowed)} eagerly"


# ------------------------------------------------------------------------------------------ lazy start-up


def _loaded_after(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; return which heavy modules it loaded (and its exit status)."""
    probe = (
        f"import json, sys\n{code}\nprint('@@' + json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("@@")]
    assert p.returncode == 0 and line, p.stderr[-2000:]
    return {"heavy": json.loads(line[-1][2:]), "stdout": p.stdout}


def test_import_vpgeo_loads_no_heavy_module() -> None:
    got = _loaded_after("import vpgeo\nassert vpgeo.__version__")
    assert got["heavy"] == []


def test_first_use_of_a_name_loads_what_it_needs() -> None:
    # the probe itself must see heavy modules when they are loaded, or the two tests above prove nothing
    got = _loaded_after("import vpgeo\nvpgeo.load_sites")
    assert {"geopandas", "pandas", "shapely"} <= set(got["heavy"])  # type: ignore[arg-type]


@pytest.mark.parametrize("argv", [["--help"], ["data", "list"], ["report", "--help"], ["score", "--help"]])
def test_cli_help_and_data_list_load_no_heavy_module(argv: list[str]) -> None:
    got = _loaded_after(f"from vpgeo.cli import main\nrc = main({argv!r})\nassert rc == 0, rc\n")
    assert "usage" in str(got["stdout"]).lower() or argv == ["data", "list"]
    assert got["heavy"] == [], f"vpgeo {' '.join(argv)} imports {got['heavy']}"


# ------------------------------------------------------------------------------------------ public names


def test_every_name_in_all_resolves() -> None:
    import vpgeo

    assert len(vpgeo.__all__) == len(set(vpgeo.__all__)) > 20
    missing = []
    for name in vpgeo.__all__:
        try:
            value = getattr(vpgeo, name)
        except Exception as exc:  # report every broken name, not only the first
            missing.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        module = getattr(value, "__module__", None)
        if callable(value) and module is not None and not module.startswith("vpgeo"):
            missing.append(f"{name}: resolves to {module}.{name}, not vpgeo's own")
    assert not missing, "\n".join(missing)
    assert set(vpgeo.__all__) <= set(dir(vpgeo))
    with pytest.raises(AttributeError):
        vpgeo.no_such_name  # noqa: B018
