from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from behaviorlab.runs import ExperimentSpec, SpecError, load_spec, parse_spec

GOOD = """\
name: t1
task: survey
data:
  source: anes96
  target: vote
  people: 50
simulators:
  - {name: llm, backend: mock, answer: score}
  - {name: majority}
conditions: [full, no_persona]
"""


def test_parse_good_spec() -> None:
    spec = parse_spec(GOOD)
    assert spec.data.source == "anes96" and spec.data.split.test == 0.5
    assert spec.simulators[0].options() == {"backend": "mock", "answer": "score"}
    assert spec.run_id().startswith("t1-")


def test_run_id_ignores_concurrency_but_not_content() -> None:
    spec = parse_spec(GOOD)
    assert spec.model_copy(update={"concurrency": 4}).run_id() == spec.run_id()
    assert spec.model_copy(update={"seeds": [1]}).run_id() != spec.run_id()


def test_malformed_yaml_gives_line() -> None:
    with pytest.raises(SpecError, match=r"exp.yaml:3: malformed YAML"):
        parse_spec("name: x\ndata: {source: a}\nkey: value: other\n", origin="exp.yaml")


def test_invalid_field_gives_line_and_field() -> None:
    bad = GOOD.replace("  people: 50", "  people: -3")
    with pytest.raises(SpecError) as info:
        parse_spec(bad, origin="exp.yaml")
    assert "exp.yaml:6: data.people" in str(info.value)
    with pytest.raises(SpecError, match=r"exp.yaml:2: tsak: Extra inputs"):
        parse_spec(GOOD.replace("task:", "tsak:"), origin="exp.yaml")


def test_bad_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="name"):
        parse_spec(GOOD.replace("name: t1", "name: ../evil"))
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "nope.yaml")


def test_python_construction_equals_yaml() -> None:
    spec = ExperimentSpec.model_validate(
        {
            "name": "t1",
            "data": {"source": "anes96", "target": "vote", "people": 50},
            "simulators": [
                {"name": "llm", "backend": "mock", "answer": "score"},
                {"name": "majority"},
            ],
            "conditions": ["full", "no_persona"],
        }
    )
    assert spec.spec_hash() == parse_spec(GOOD).spec_hash()


def test_a_loader_option_written_under_data_says_where_it_goes() -> None:
    from behaviorlab.runs import SpecError, parse_spec

    text = "name: x\ndata:\n  source: opera\n  on_invalid: skip\nsimulators: [{name: majority}]\n"
    with pytest.raises(SpecError) as err:
        parse_spec(text, origin="exp.yaml")
    assert "exp.yaml:4: data.on_invalid: not a field of data:" in str(err.value)
    assert "data: {options: {on_invalid: ...}}" in str(err.value)


def test_a_dataframe_as_the_data_source_says_what_to_do() -> None:
    import pandas as pd

    spec: dict[str, Any] = {"name": "x", "data": {"source": pd.DataFrame({"a": [1]})}}
    spec["simulators"] = [{"name": "majority"}]
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    text = str(err.value)
    assert text.startswith("invalid experiment spec\ndata.source: data.source is a dataset")
    assert "df.to_parquet('answers.parquet')" in text
    assert "validation error for" not in text and "input_value" not in text
    # a path object is a path
    spec["data"]["source"] = Path("survey.csv")
    assert load_spec(spec).data.source == "survey.csv"
