"""No import cycles between the modules of ``yiwang``.

Imports are read from the source with ``ast`` — function-level imports included, since a cycle hidden
in a function is still a cycle — and resolved to the module they load: ``from yiwang.cases import
services`` is an edge to the package ``yiwang.cases.services`` (its ``__init__``), ``from .intake
import _accept`` inside that package an edge to its module ``intake``. A parent package that Python
initialises on the way is not counted, so that a package's ``__init__`` may re-export its modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yiwang

Graph = dict[str, dict[str, int]]  # module → {imported module: line of its first import}


def module_graph(package_dir: Path) -> Graph:
    """The import graph of every module under ``package_dir`` (a package directory), by dotted name."""
    root = package_dir.parent
    files: dict[str, tuple[Path, bool]] = {}
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        files[".".join(parts[:-1] if is_package else parts)] = (path, is_package)

    def known(name: str) -> str | None:
        """``name`` if it is one of our modules, else the closest of our modules containing it."""
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: Graph = {}
    for name, (path, is_package) in files.items():
        package = name if is_package else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [known(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                # ``from pkg import sub`` loads the module ``pkg.sub`` when there is one
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in files else known(module) for a in node.names]
            for target in targets:
                if target and target != name:
                    edges[target] = min(edges.get(target, node.lineno), node.lineno)
        graph[name] = edges
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle (first module repeated at the end) for each group of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for group in groups:
        start = min(group)
        paths = {start: [start]}
        queue = [start]
        while queue:  # shortest way round from ``start`` back to itself, inside the group
            v = queue.pop(0)
            for w in sorted(graph[v]):
                if w == start:
                    found.append([*paths[v], start])
                    queue = []
                    break
                if w in group and w not in paths:
                    paths[w] = [*paths[v], w]
                    queue.append(w)
    return found


def describe(graph: Graph, cycle: list[str]) -> str:
    return " → ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)) + f" → {cycle[0]}"


def test_no_module_of_yiwang_takes_part_in_an_import_cycle():
    graph = module_graph(Path(yiwang.__file__).parent)
    assert "yiwang.cases.services.submission" in graph["yiwang.cases.services"]  # the graph sees packages
    found = [describe(graph, c) for c in cycles(graph)]
    assert found == [], "import cycles:\n" + "\n".join(found)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "app" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "app"


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    app = _package(
        tmp_path,
        {
            "__init__.py": "",
            "selectors.py": "def read():\n    from .services import ROLES\n    return ROLES\n",
            "services.py": "from app import selectors\n\nROLES = {1}\n",
        },
    )
    graph = module_graph(app)
    assert cycles(graph) == [["app.selectors", "app.services", "app.selectors"]]
    assert describe(graph, cycles(graph)[0]) == "app.selectors (line 2) → app.services (line 1) → app.selectors"


def test_modules_of_a_package_import_each_other_not_its_init(tmp_path):
    direct = {
        "__init__.py": "",
        "services/__init__.py": "from .intake import accept\nfrom .submission import submit\n",
        "services/intake.py": "def accept():\n    pass\n",
        "services/submission.py": "from .intake import accept\n\ndef submit():\n    accept()\n",
    }
    assert cycles(module_graph(_package(tmp_path / "direct", direct))) == []
    through_init = {**direct, "services/submission.py": "from app.services import accept\n"}
    assert cycles(module_graph(_package(tmp_path / "init", through_init))) == [
        ["app.services", "app.services.submission", "app.services"]
    ]
