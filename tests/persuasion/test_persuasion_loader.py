"""The attitude-change loader: long tables (CSV, Parquet, DataFrame) into episodes of time
points, the persona from the table or a survey table, and errors that name file, row, column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.persuasion import (
    SYNTHETIC_MAPPING,
    AttitudeScale,
    PersonaColumn,
    PersuasionDataError,
    PersuasionMapping,
    Stance,
    load_persuasion_file,
    persuasion_from_frame,
    synthetic_frame,
)

SCALE = AttitudeScale(
    stances=[
        Stance(code="con", label="against", value="0"),
        Stance(code="pro", label="for", value="1"),
    ],
    strength=(1, 5),
)
MAPPING = PersuasionMapping(strength="strength", scale=SCALE, claim_text="Taxes should rise.")


def rows() -> list[dict[str, Any]]:
    """Two people; p1 reads two arguments (attack first) then is asked again with nothing."""
    a = {"argument_id": None, "argument_text": None, "argument_side": None}
    return [
        {"person": "p1", "time": 0, "stance": 1, "strength": 4, **a},
        {"person": "p1", "time": 1, "stance": 0, "strength": 2, "argument_id": "b",
         "argument_text": "It hurts growth.", "argument_side": "attacks"},
        {"person": "p1", "time": 1, "stance": 0, "strength": 2, "argument_id": "a",
         "argument_text": "It funds schools.", "argument_side": "supports"},
        {"person": "p1", "time": 2, "stance": 0, "strength": 3, **a},
        {"person": "p2", "time": 0, "stance": 0, "strength": 1, **a},
        {"person": "p2", "time": 1, "stance": 0, "strength": 1, "argument_id": "a",
         "argument_text": None, "argument_side": "supports"},
    ]  # fmt: skip


def test_long_table_becomes_time_points_in_order_with_arguments_as_shown() -> None:
    data = persuasion_from_frame(pd.DataFrame(rows()), MAPPING)
    assert sorted(data.persons) == ["p1", "p2"]
    ep = next(e for e in data.episodes if e.person_id == "p1")
    assert [s.action.value for s in ep.steps] == ["pro/4", "con/2", "con/3"]
    shown = ep.steps[1].observation.meta["arguments"]
    assert [(a["id"], a["side"]) for a in shown] == [("b", "attacks"), ("a", "supports")]
    assert ep.steps[2].observation.meta["arguments"] == []
    # an argument's text given once is found by its id on later rows
    p2 = next(e for e in data.episodes if e.person_id == "p2")
    assert p2.steps[1].observation.meta["arguments"][0]["text"] == "It funds schools."
    assert ep.steps[0].observation.content == "Taxes should rise."


def test_csv_and_parquet_load_the_same_records(tmp_path: Path) -> None:
    frame = pd.DataFrame(rows())
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "a.parquet")
    from_csv = load_persuasion_file(tmp_path / "a.csv", MAPPING)
    from_parquet = load_persuasion_file(tmp_path / "a.parquet", MAPPING)
    assert from_csv.episodes == from_parquet.episodes
    assert from_csv.source == str(tmp_path / "a.csv")


def _csv(tmp_path: Path, table: list[dict[str, Any]]) -> Path:
    path = tmp_path / "bad.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    return path


def test_unknown_stance_names_file_row_and_column(tmp_path: Path) -> None:
    table = rows()
    table[3]["stance"] = 7  # the 4th data row: row 5 of the file (header is row 1)
    path = _csv(tmp_path, table)
    with pytest.raises(PersuasionDataError) as err:
        load_persuasion_file(path, MAPPING)
    msg = str(err.value)
    assert f"{path}, row 5, column 'stance'" in msg and "'7' is not on the scale" in msg


def test_strength_off_the_scale_and_disagreeing_rows_are_named(tmp_path: Path) -> None:
    table = rows()
    table[0]["strength"] = 9
    with pytest.raises(PersuasionDataError, match=r"row 2, column 'strength'.*from 1 to 5"):
        load_persuasion_file(_csv(tmp_path, table), MAPPING)
    table = rows()
    table[2]["strength"] = 5  # the second row of p1's time 1 reports another strength
    with pytest.raises(PersuasionDataError, match=r"row 4, column 'strength'.*one answer"):
        load_persuasion_file(_csv(tmp_path, table), MAPPING)


def test_missing_column_side_and_text_are_errors_a_user_can_act_on(tmp_path: Path) -> None:
    frame = pd.DataFrame(rows()).drop(columns=["strength"])
    with pytest.raises(PersuasionDataError, match=r"no column 'strength'"):
        persuasion_from_frame(frame, MAPPING)
    table = rows()
    table[1]["argument_side"] = "neutral"
    with pytest.raises(PersuasionDataError, match=r"row 3, column 'argument_side'.*'neutral'"):
        load_persuasion_file(_csv(tmp_path, table), MAPPING)
    table = rows()
    table[2]["argument_text"] = None
    table[5]["argument_text"] = None
    with pytest.raises(PersuasionDataError, match=r"argument 'a' has no text"):
        load_persuasion_file(_csv(tmp_path, table), MAPPING)


def test_persona_joined_from_a_survey_table(tmp_path: Path) -> None:
    survey = tmp_path / "survey.csv"
    pd.DataFrame({"pid": ["p1", "p2"], "age": [34, 61]}).to_csv(survey, index=False)
    mapping = MAPPING.model_copy(
        update={"persona": [PersonaColumn(name="age", column="age", text="You are {value}.")],
                "persona_key": "pid"}
    )  # fmt: skip
    data = load_persuasion_file(_csv(tmp_path, rows()), mapping, persona_file=survey)
    assert data.persons["p2"].attributes == {"age": 61}
    assert data.persons["p2"].description == "You are 61."
    pd.DataFrame({"pid": ["p1"], "age": [34]}).to_csv(survey, index=False)
    with pytest.raises(PersuasionDataError, match=r"survey.csv, column 'pid'.*\['p2'\]"):
        load_persuasion_file(_csv(tmp_path, rows()), mapping, persona_file=survey)


def test_persona_from_the_table_itself_must_be_one_value_per_person(tmp_path: Path) -> None:
    table = [{**r, "age": 30} for r in rows()]
    mapping = MAPPING.model_copy(update={"persona": [PersonaColumn(name="age", column="age")]})
    assert persuasion_from_frame(pd.DataFrame(table), mapping).persons["p1"].attributes["age"] == 30
    table[2]["age"] = 31
    with pytest.raises(PersuasionDataError, match=r"row 4, column 'age'.*one value per person"):
        load_persuasion_file(_csv(tmp_path, table), mapping)


def test_mapping_from_yaml_and_errors_in_it(tmp_path: Path) -> None:
    good = tmp_path / "m.yaml"
    good.write_text(
        "strength: strength\nscale:\n  stances:\n    - {code: con, label: against, value: '0'}\n"
        "    - {code: pro, label: for, value: '1'}\n  strength: [1, 5]\n"
    )
    frame = pd.DataFrame(rows())
    frame.to_csv(tmp_path / "d.csv", index=False)
    data = load_dataset("persuasion_file", path=str(tmp_path / "d.csv"), mapping=str(good))
    assert len(data.episodes) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("scale:\n  stances: [{code: a/b, label: x}, {code: c, label: y}]\n")
    with pytest.raises(PersuasionDataError, match=r"bad.yaml: field scale.stances.0.code"):
        load_persuasion_file(tmp_path / "d.csv", bad)


def test_synthetic_data_goes_through_the_loader_with_its_mapping() -> None:
    frame = synthetic_frame(people=5, items=2, seed=3)
    data = persuasion_from_frame(frame, SYNTHETIC_MAPPING)
    assert len(data.persons) == 5 and len(data.episodes) == 10
    assert all(len(e.steps) == 3 for e in data.episodes)
    again = load_dataset("persuasion_synthetic", people=5, items=2, seed=3)
    assert again.episodes == data.episodes
    assert again.meta["planted"]["change_rate"] == 0.3


def test_argument_order_column_and_json_lines(tmp_path: Path) -> None:
    table = [{**r, "shown": {1: 2, 2: 1, 5: 1}.get(i)} for i, r in enumerate(rows())]
    mapping = MAPPING.model_copy(update={"argument_order": "shown"})
    path = tmp_path / "a.jsonl"
    pd.DataFrame(table).to_json(path, orient="records", lines=True)
    ep = next(e for e in load_persuasion_file(path, mapping).episodes if e.person_id == "p1")
    assert [a["id"] for a in ep.steps[1].observation.meta["arguments"]] == ["a", "b"]
    table[1]["shown"] = "first"
    with pytest.raises(PersuasionDataError, match=r"row 3, column 'shown'.*not a number"):
        load_persuasion_file(_csv(tmp_path, table), mapping)


def test_json_lines_errors_name_the_line(tmp_path: Path) -> None:
    table = rows()
    table[3]["stance"] = 7
    path = tmp_path / "bad.jsonl"
    pd.DataFrame(table).to_json(path, orient="records", lines=True)
    with pytest.raises(PersuasionDataError, match=r"bad.jsonl, line 4, column 'stance'"):
        load_persuasion_file(path, MAPPING)
