"""The core never dispatches on a task family's name (issue 11).

Outside ``src/behaviorlab/families/``, no module imports a family module, and no family or
task name of ours appears as a string in a comparison, a subscript, a call's argument, a
dict key, a default value or a match case. Words that merely look like a family's name are
listed in ``ORDINARY`` with the reason they are not dispatch; a new one fails this test until
someone reads it and either moves the logic into the family or adds it here with a reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "behaviorlab"
FAMILIES = SRC / "families"
NAMES = {"survey", "next_action", "scenario", "choice", "game", "transcript"}
"""Our families and their tasks (each family's one task carries its name)."""

ORDINARY: dict[tuple[str, str], str] = {
    ("collect/_questionnaire.py", "choice"): "a questionnaire question's kind (single choice)",
    ("data/_opera_schema.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_opera_rows.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_opera_export.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_opera.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_opera_shoppers.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("data/_survey.py", "survey"): "a survey table's episode kind and meta key (the format)",
    ("collect/_export.py", "survey"): "OPeRA's user-table column `survey` (the format)",
    ("collect/_server.py", "survey"): "the questionnaire answers' field `survey` (OPeRA's)",
}


def _family_names_of_interest(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def check(node: ast.AST | None) -> None:
        if node is None:
            return
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value in NAMES:
                found.append((sub.lineno, sub.value))

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            check(node)
        elif isinstance(node, ast.Subscript):
            check(node.slice)
        elif isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                check(arg)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                check(key)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                check(default)
        elif isinstance(node, ast.AnnAssign):
            check(node.value)
        elif isinstance(node, ast.match_case):
            check(node.pattern)
    return sorted(set(found))


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
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        if any(n.startswith("behaviorlab.families") for n in names):
            out.append(f"{rel}:{node.lineno}: imports a family module")
    for line, value in _family_names_of_interest(tree):
        if (rel, value) not in ORDINARY:
            out.append(f"{rel}:{line}: the family name {value!r}")
    return out


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
    # an ordinary word where it is listed is not dispatch, elsewhere it is
    ordinary = "def ask(q):\n    return q.kind == 'choice'\n"
    assert dispatches("collect/_questionnaire.py", ordinary) == []
    assert dispatches("runs/_planted.py", ordinary) != []


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
                        wrong.append(f"{path.relative_to(SRC)}:{node.lineno}: imports {mod}")
    assert wrong == [], "\n".join(wrong)


def test_every_family_folder_is_an_entry_point() -> None:
    from importlib.metadata import entry_points

    folders = {p.name for p in FAMILIES.iterdir() if (p / "__init__.py").exists()}
    points = {e.name: e.value for e in entry_points(group="behaviorlab")}
    assert {f: f"behaviorlab.families.{f}" for f in folders}.items() <= points.items()
