"""The core never dispatches on a task family's name (issue 11).

Outside ``src/behaviorlab/families/``, no module imports a family module (absolute, relative,
or by a ``"behaviorlab.families..."`` string given to ``importlib``), and no name a family
registers (the family, its tasks, demos, datasets, metrics, simulators and conditions, read
from the registries) appears as a string constant anywhere but a docstring, nor a prefix of
one as ``startswith``'s argument. Words that merely look like such a name are listed in
``ORDINARY`` with the reason they are not dispatch; a new one fails this test until someone
reads it and either moves the logic into the family or adds it here with a reason.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "behaviorlab"
FAMILIES = SRC / "families"
OURS = {"survey", "next_action", "scenario", "choice", "game", "transcript"}
"""Our families (the registries must know each of them: a check that the names are read)."""

ORDINARY: dict[tuple[str, str], str] = {
    ("collect/_questionnaire.py", "choice"): "a questionnaire question's kind (single choice)",
    ("data/_opera_schema.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_opera_rows.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_opera_export.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_opera.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_opera.py", "opera"): "the OPeRA format's dataset name and a person's provenance",
    ("data/_opera_files.py", "opera"): "the extra that loads OPeRA from the Hub (the format)",
    ("data/_opera_shoppers.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_survey.py", "survey"): "a survey table's episode kind and meta key (the format)",
    ("collect/_export.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("collect/_server.py", "survey"): "the questionnaire answers' field `survey` (OPeRA's)",
    ("cli/_collect.py", "opera"): "the export format of `collect export` (OPeRA's layout)",
}


@cache
def family_names() -> frozenset[str]:
    """Every name a family registers: itself, and the tasks, demos, datasets, metrics,
    simulators and conditions defined in its folder."""
    from behaviorlab.analysis._metrics import metrics
    from behaviorlab.data._sources import datasets
    from behaviorlab.plugins import families
    from behaviorlab.runs._conditions import conditions
    from behaviorlab.simulators._base import simulators
    from behaviorlab.tasks._base import tasks

    names = set(families.names())
    for name in families.names():
        names |= {d.name for d in families.get(name).demos}
    for registry in (tasks, datasets, metrics, conditions, simulators):
        for name in registry.names():
            module = getattr(registry.get(name), "__module__", "") or ""
            if module.startswith("behaviorlab.families."):
                names.add(name)
    return frozenset(names)


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings (of modules, classes, functions,
    and attribute docstrings: a bare string statement)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        for stmt in body if isinstance(body, list) else []:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                out.add(id(stmt.value))
    return out


def _family_names_of_interest(tree: ast.AST) -> list[tuple[int, str]]:
    names = family_names()
    docs = _docstrings(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if node.value in names:
                found.append((node.lineno, node.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("startswith", "removeprefix")
        ):
            for arg in ast.walk(ast.Tuple(elts=list(node.args))):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                    hit = [n for n in names if n.startswith(arg.value) and n != arg.value]
                    if hit and len(arg.value) >= 3:
                        found.append((node.lineno, arg.value))
    return sorted(set(found))


def _absolute(rel: str, node: ast.ImportFrom) -> str:
    """The module an ``ImportFrom`` names, relative imports resolved against ``rel``."""
    if not node.level:
        return node.module or ""
    # the package holding the module (an __init__.py's own package)
    package = ["behaviorlab", *Path(rel).with_suffix("").parts][:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def core_modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if FAMILIES not in p.parents]


def dispatches(rel: str, source: str) -> list[str]:
    """Where the module ``rel`` (path under ``src/behaviorlab``) of this source dispatches."""
    tree = ast.parse(source)
    out: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(rel, node)
            names = [module, *(f"{module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value]  # importlib.import_module("behaviorlab.families.x")
        if any(n.startswith("behaviorlab.families") for n in names):
            out.append(f"{rel}:{getattr(node, 'lineno', 0)}: imports a family module")
    for line, value in _family_names_of_interest(tree):
        if (rel, value) not in ORDINARY:
            out.append(f"{rel}:{line}: the family name {value!r}")
    return out


def test_the_names_come_from_the_registries() -> None:
    names = family_names()
    assert names >= OURS
    # a demo, a dataset, a metric and a simulator that families register
    assert {"opera", "games", "action_type_accuracy", "scripted_partner"} <= names
    assert "accuracy" not in names and "llm" not in names  # the core's own


def test_the_check_catches_dispatch() -> None:
    code = (
        "from behaviorlab.families.survey import SurveyTask\n"
        "def f(spec, task='game'):\n"
        "    if spec.task == 'next_action':\n"
        "        return tasks.get('scenario')\n"
        "    return {'choice': 1}\n"
    )
    found = dispatches("runs/_planted.py", code)
    assert len(found) == 5, found
    # the blind spots of the first version of this check
    hidden = (
        "import importlib\n"
        "from ..families import game\n"  # relative
        "from . import families\n"  # runs/families: not ours, fine
        "WHICH = 'transcript'\n"  # a plain assignment, compared later
        "def g(x, which):\n"
        "    importlib.import_module('behaviorlab.families.choice')\n"
        "    if x in {'opera', 'games'}:\n"  # a demo and a dataset name
        "        return which == WHICH\n"
        "    return x.startswith('next_')\n"
    )
    found = dispatches("runs/_planted.py", hidden)
    assert [f.split(": ", 1)[1] for f in found] == [
        "imports a family module",  # from ..families import game
        "imports a family module",  # import_module("behaviorlab.families.choice")
        "the family name 'transcript'",
        "the family name 'games'",
        "the family name 'opera'",
        "the family name 'next_'",
    ], found
    # an ordinary word where it is listed is not dispatch, elsewhere it is
    ordinary = "def ask(q):\n    return q.kind == 'choice'\n"
    assert dispatches("collect/_questionnaire.py", ordinary) == []
    assert dispatches("runs/_planted.py", ordinary) != []
    # docstrings may name families
    assert dispatches("runs/_planted.py", '"""The game family."""\nX = 1\n"""survey"""\n') == []


def test_no_core_module_dispatches_on_a_family() -> None:
    found = [
        line
        for path in core_modules()
        for line in dispatches(path.relative_to(SRC).as_posix(), path.read_text("utf-8"))
    ]
    assert found == [], "\n".join(found)


def test_every_ordinary_exception_is_still_needed() -> None:
    used = set()
    for path in core_modules():
        rel = path.relative_to(SRC).as_posix()
        for _, value in _family_names_of_interest(ast.parse(path.read_text(encoding="utf-8"))):
            used.add((rel, value))
    assert set(ORDINARY) <= used, sorted(set(ORDINARY) - used)


def test_a_family_imports_only_the_families_it_builds_on() -> None:
    from behaviorlab.plugins import families

    wrong: list[str] = []
    for folder in sorted(p for p in FAMILIES.iterdir() if (p / "__init__.py").exists()):
        declared = set(families.get(folder.name).builds_on) | {folder.name}
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                mod = node.module if isinstance(node, ast.ImportFrom) else None
                if mod and mod.startswith("behaviorlab.families."):
                    other = mod.split(".")[2]
                    if other not in declared:
                        wrong.append(
                            f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}: imports {mod}"
                        )
    assert wrong == [], "\n".join(wrong)


def test_every_family_folder_is_an_entry_point() -> None:
    from importlib.metadata import entry_points

    folders = {p.name for p in FAMILIES.iterdir() if (p / "__init__.py").exists()}
    points = {e.name: e.value for e in entry_points(group="behaviorlab")}
    assert {f: f"behaviorlab.families.{f}" for f in folders}.items() <= points.items()
