"""docs/own-survey.md: the mapping shown is the example file, and the code in it runs."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from behaviorlab._registry import Registry
from behaviorlab.data import SurveyMapping, _sources
from behaviorlab.families.survey import _sources as survey_sources

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "own-survey.md"
EXAMPLE = ROOT / "examples" / "my_survey"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", DOC.read_text(), flags=re.S | re.M)


def test_the_mapping_in_the_doc_is_the_example_file() -> None:
    shown = [b for b in blocks("yaml") if b.startswith("# A made-up commuting survey")]
    assert shown == [(EXAMPLE / "mapping.yaml").read_text()]
    mapping = SurveyMapping.from_yaml(EXAMPLE / "mapping.yaml")
    assert mapping.question_ids() == ["commute", "cycling_spending"]


def test_the_table_excerpt_is_from_the_example_file() -> None:
    lines = set((EXAMPLE / "survey.csv").read_text().splitlines())
    excerpt = blocks("text")[0].splitlines()
    assert [line for line in excerpt if line != "..." and line not in lines] == []


def test_the_python_in_the_doc_runs_and_prints_what_the_doc_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(_sources, "datasets", Registry[_sources.DatasetFactory]("dataset"))
    for name in ("anes96",):  # the doc's last example loads a built-in
        _sources.datasets.register(name)(getattr(survey_sources, name))
    first, *others = blocks("python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(first, str(DOC), "exec"), {})
    assert out.getvalue() == blocks("text")[1]
    for code in others:
        exec(compile(code, str(DOC), "exec"), {})
    assert "my_survey" in _sources.datasets
    ds = _sources.load_dataset("my_survey", target="cycling_spending", people=5, seed=2)
    assert len(ds.persons) == 5


def test_the_run_spec_data_entry_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    monkeypatch.chdir(ROOT)
    spec = next(yaml.safe_load(b) for b in blocks("yaml") if b.startswith("data:"))
    ds = _sources.load_dataset(**spec["data"])
    assert len(ds.persons) == 8
    assert all(list(p.attributes) == ["age", "gender"] for p in ds.persons.values())
