"""``behaviorlab mapping infer FILE`` proposes a survey mapping that loads (issue 15 §3):
options from each column's distinct answers, a default persona sentence per column. The app
is invoked directly, and through the main CLI as ``behaviorlab mapping infer``."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from behaviorlab.cli._mapping import mapping_app
from behaviorlab.data import SurveyMapping, load_survey_file


def _questionnaire(tmp_path: Path) -> Path:
    rng = random.Random(15)
    rows = []
    for k in range(40):
        row: dict[str, object] = {"respondent": f"r{k:03d}", "age": 18 + k, "city": f"town {k}"}
        for q in range(1, 26):
            row[f"item_{q:02d}"] = rng.choice([1, 2, 3, 4, 5, 10]) if q != 7 else rng.choice("yn")
        rows.append(row)
    path = tmp_path / "likert.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_25_item_questionnaire_gets_a_mapping_that_loads(tmp_path: Path) -> None:
    path = _questionnaire(tmp_path)
    out = tmp_path / "mapping.yaml"
    res = CliRunner().invoke(mapping_app, ["infer", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith("# A PROPOSED survey mapping")
    proposal = yaml.safe_load(text)
    assert proposal["id_column"] == "respondent" and proposal["name"] == "likert"
    assert [q["column"] for q in proposal["questions"]] == [f"item_{q:02d}" for q in range(1, 26)]
    first = proposal["questions"][0]
    assert list(first["options"]) == ["1", "2", "3", "4", "5", "10"]  # numbers in numeric order
    assert first["text"] == "item 01?"
    assert proposal["questions"][6]["options"] == {"n": "n", "y": "y"}
    assert proposal["persona"] == [
        {"column": "age", "template": "Your age is {value}."},
        {"column": "city", "template": "Your city is {value}."},
    ]
    mapping = SurveyMapping.from_yaml(out)
    data = load_survey_file(path, mapping)
    assert len(data.persons) == 40
    description = data.persons[next(iter(data.persons))].description
    assert description is not None and description.startswith("Your age is ")


def test_it_prints_without_out_and_takes_persona_columns(tmp_path: Path) -> None:
    path = _questionnaire(tmp_path)
    res = CliRunner().invoke(mapping_app, ["infer", str(path), "--persona", "item_07"])
    assert res.exit_code == 0, res.output
    proposal = yaml.safe_load(res.stdout)
    assert "item_07" in [p["column"] for p in proposal["persona"]]
    assert len(proposal["questions"]) == 24


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(mapping_app, ["infer", str(tmp_path / "nope.csv")])
    assert res.exit_code == 1 and "no such file" in res.output
    path = _questionnaire(tmp_path)
    res = runner.invoke(mapping_app, ["infer", str(path), "--max-options", "1"])
    assert res.exit_code == 1 and "raise --max-options" in res.output
    res = runner.invoke(mapping_app, ["infer", str(path), "--persona", "nosuch"])
    assert res.exit_code == 1 and "not in the table" in res.output
    out = tmp_path / "m.yaml"
    out.write_text("keep")
    res = runner.invoke(mapping_app, ["infer", str(path), "--out", str(out)])
    assert res.exit_code == 1 and "--force" in res.output and out.read_text() == "keep"


def test_the_main_cli_has_the_command(tmp_path: Path) -> None:
    from behaviorlab.cli import app

    path = _questionnaire(tmp_path)
    res = CliRunner().invoke(app, ["mapping", "infer", str(path)])
    assert res.exit_code == 0, res.output
    assert "id_column: respondent" in res.output


def test_an_id_column_is_found_and_a_numeric_age_goes_to_the_persona(tmp_path: Path) -> None:
    """A pilot file of 3 rows (review 15, defect 7): ``pid`` is unique per row and named
    like an id, so it is the id column and not a question whose options are the ids; ``age``
    is numeric and named like a demographic, so it is a persona column with a default
    sentence, not a question with the ages as options."""
    path = tmp_path / "s.csv"
    path.write_text("pid,q1,q2,age\np1,a,b,25\np2,b,b,30\np3,a,a,41\n", encoding="utf-8")
    res = CliRunner().invoke(mapping_app, ["infer", str(path)])
    assert res.exit_code == 0, res.output
    proposal = yaml.safe_load(res.stdout.split("\n", 1)[1])
    assert proposal["id_column"] == "pid" and "'pid' (every value distinct)" in res.stdout
    assert [q["column"] for q in proposal["questions"]] == ["q1", "q2"]
    assert proposal["persona"] == [{"column": "age", "template": "Your age is {value}."}]
    mapping = SurveyMapping.from_dict(proposal, where="test")
    persons = load_survey_file(path, mapping).persons
    assert sorted(persons) == ["p1", "p2", "p3"]
    assert persons["p2"].description == "Your age is 30."


def test_an_unnamed_first_column_unique_per_row_is_the_id(tmp_path: Path) -> None:
    """With no id-like name, the first column is the id when every value is distinct and
    there are more of them than a question may have options."""
    path = tmp_path / "t.csv"
    rows = [{"code": f"x{k:02d}", "q1": "ab"[k % 2], "q2": "yn"[k % 3 == 0]} for k in range(20)]
    pd.DataFrame(rows).to_csv(path, index=False)
    res = CliRunner().invoke(mapping_app, ["infer", str(path)])
    assert res.exit_code == 0, res.output
    proposal = yaml.safe_load(res.stdout)
    assert proposal["id_column"] == "code"
    assert "code" not in [p["column"] for p in proposal["persona"]]
