"""The module import graph of ``behaviorlab`` has no cycle (issue 11).

Every import counts, at module level and inside functions, except those under
``if TYPE_CHECKING:`` (they never run). ``from pkg import name`` counts as an import of
``pkg.name`` when that is a module, else of ``pkg``; importing ``pkg.sub`` also runs
``pkg/__init__``, which is counted as an edge to the package too.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "behaviorlab"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    for sub in ast.walk(child):
                        if hasattr(sub, "lineno"):
                            lines.add(sub.lineno)
    return lines


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name if is_pkg else name.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    pkg = pkg.rsplit(".", 1)[0]
                base = f"{pkg}.{base}" if base else pkg
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.append(full if full in known else base)
        for target in targets:
            if not target.startswith(PACKAGE):
                continue
            # importing a.b.c runs a, a.b and a.b.c
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                mod = ".".join(parts[:i])
                if mod in known and mod != name and not name.startswith(mod + "."):
                    out.add(mod)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: list[str] = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read() -> None:
    g = graph()
    assert "behaviorlab.runs._lifecycle" in g
    assert "behaviorlab.runs._planning" in g["behaviorlab.runs._lifecycle"]


def test_a_planted_cycle_is_found() -> None:
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(g) == [["a", "b", "c"]]


def test_the_module_import_graph_has_no_cycle() -> None:
    cycles = find_cycles(graph())
    assert cycles == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


RANK = {
    "_registry": 0,
    "_ratelimit": 0,
    "plugins": 1,
    "models": 1,
    "store": 1,
    "data": 2,
    "tasks": 3,
    "simulators": 4,
    "runs": 5,
    "analysis": 5,
    "collect": 5,
    "report": 6,
    "families": 7,
    "cli": 8,
    "": 8,
}
"""Data flows one way (docs/architecture.md): a package imports only packages ranked lower.
``plugins`` holds the family contract the core loops over; families sit above the core they
plug into; the CLI and ``behaviorlab/__init__`` on top."""


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_imports_follow_the_data_flow() -> None:
    against = sorted(
        f"{a} -> {b}"
        for a, targets in graph().items()
        for b in targets
        if _package(a) != _package(b) and RANK[_package(b)] >= RANK[_package(a)]
    )
    assert against == [], "imports against the data flow:\n" + "\n".join(against)


def test_every_package_has_a_rank() -> None:
    assert {_package(m) for m in graph()} <= set(RANK)
