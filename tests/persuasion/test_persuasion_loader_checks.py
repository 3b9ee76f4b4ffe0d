"""The attitude-change loader refuses what it would otherwise read wrongly, silently: a
strength column without its range (or the reverse), arguments with no earlier answer to move
from, and an argument listed twice at one time point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from behaviorlab.families.persuasion import (
    AttitudeScale,
    PersonaColumn,
    PersuasionDataError,
    PersuasionMapping,
    Stance,
    load_persuasion_file,
)
from behaviorlab.families.persuasion._mapping import as_mapping

STANCES = [{"code": "con", "label": "against"}, {"code": "pro", "label": "for"}]
SCALE = AttitudeScale(
    stances=[Stance(**s, value=v) for s, v in zip(STANCES, ["0", "1"], strict=True)],
    strength=(1, 5),
)
MAPPING = PersuasionMapping(strength="strength", scale=SCALE, claim_text="Taxes should rise.")
NONE = {"argument_id": None, "argument_text": None, "argument_side": None}


def _arg(
    arg_id: str, side: str = "supports", text: str | None = "It funds schools."
) -> dict[str, Any]:
    return {"argument_id": arg_id, "argument_text": text, "argument_side": side}


def _csv(tmp_path: Path, table: list[dict[str, Any]]) -> Path:
    path = tmp_path / "data.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    return path


def test_strength_column_and_range_are_given_together() -> None:
    with pytest.raises(PersuasionDataError, match=r"strength.*scale\.strength"):
        as_mapping({"scale": {"stances": STANCES, "strength": [1, 5]}})
    with pytest.raises(PersuasionDataError, match=r"strength.*scale\.strength"):
        as_mapping({"strength": "confidence", "scale": {"stances": STANCES}})
    both = as_mapping({"strength": "confidence", "scale": {"stances": STANCES, "strength": [1, 3]}})
    assert both.strength == "confidence"
    assert as_mapping({"scale": {"stances": STANCES}}).strength is None


def test_arguments_before_the_first_time_point_are_an_error(tmp_path: Path) -> None:
    first = [
        {"person": "p1", "time": 0, "stance": 0, "strength": 2, **_arg("a")},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, **NONE},
    ]
    path = _csv(tmp_path, first)
    with pytest.raises(PersuasionDataError) as err:
        load_persuasion_file(path, MAPPING)
    msg = str(err.value)
    assert f"{path}, row 2, column 'argument_id'" in msg and "no earlier answer" in msg
    alone = [{"person": "p2", "time": 3, "stance": 0, "strength": 2, **_arg("a")}]
    with pytest.raises(PersuasionDataError, match=r"row 2, column 'argument_id'.*time 3"):
        load_persuasion_file(_csv(tmp_path, alone), MAPPING)


def test_an_argument_listed_twice_at_one_time_point_names_both_rows(tmp_path: Path) -> None:
    table = [
        {"person": "p1", "time": 0, "stance": 0, "strength": 2, **NONE},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, **_arg("a")},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, **_arg("b", "attacks", "No.")},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, **_arg("a")},
    ]
    path = _csv(tmp_path, table)
    with pytest.raises(PersuasionDataError) as err:
        load_persuasion_file(path, MAPPING)
    msg = str(err.value)
    assert f"{path}, row 5, column 'argument_id'" in msg and "(also row 3)" in msg
    assert "'a' is listed twice" in msg
    # the same argument at two time points is fine
    table[3] = {"person": "p1", "time": 2, "stance": 1, "strength": 2, **_arg("a")}
    ep = load_persuasion_file(_csv(tmp_path, table), MAPPING).episodes[0]
    assert [len(s.observation.meta["arguments"]) for s in ep.steps] == [0, 2, 1]


def test_ids_in_a_csv_are_read_as_written(tmp_path: Path) -> None:
    table = [
        {"person": "007", "time": 0, "stance": 0, "strength": 2, **NONE},
        {"person": "007", "time": 1, "stance": 1, "strength": 2, **_arg("01")},
        {"person": "7", "time": 0, "stance": 0, "strength": 2, **NONE},
        {"person": "7", "time": 1, "stance": 0, "strength": 2, **_arg("1", "attacks", "No.")},
    ]
    survey = tmp_path / "survey.csv"
    survey.write_text("person,age\n007,34\n7,61\n")
    mapping = MAPPING.model_copy(update={"persona": [PersonaColumn(name="age", column="age")]})
    data = load_persuasion_file(_csv(tmp_path, table), mapping, persona_file=survey)
    assert sorted(data.persons) == ["007", "7"]
    assert data.persons["007"].attributes == {"age": 34}
    shown = {e.person_id: e.steps[1].observation.meta["arguments"][0]["id"] for e in data.episodes}
    assert shown == {"007": "01", "7": "1"}


def test_an_argument_text_given_only_on_a_later_row_is_found(tmp_path: Path) -> None:
    table = [  # p1's rows come first when sorted, p2's row gives the text
        {"person": "p1", "time": 0, "stance": 0, "strength": 2, **NONE},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, **_arg("a", text=None)},
        {"person": "p2", "time": 0, "stance": 0, "strength": 2, **NONE},
        {"person": "p2", "time": 1, "stance": 1, "strength": 2, **_arg("a", text="Late.")},
    ]
    data = load_persuasion_file(_csv(tmp_path, table), MAPPING)
    texts = [e.steps[1].observation.meta["arguments"][0]["text"] for e in data.episodes]
    assert texts == ["Late.", "Late."]
    table[3]["argument_text"] = None
    path = _csv(tmp_path, table)
    with pytest.raises(PersuasionDataError, match=rf"{path}, row 3, column 'argument_text'.*'a'"):
        load_persuasion_file(path, MAPPING)


def test_one_argument_id_with_two_texts_or_sides_is_an_error(tmp_path: Path) -> None:
    table = [
        {"person": "p1", "time": 0, "stance": 0, "strength": 2, **NONE},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, **_arg("a", text="Schools.")},
        {"person": "p2", "time": 0, "stance": 0, "strength": 2, **NONE},
        {"person": "p2", "time": 1, "stance": 1, "strength": 2, **_arg("a", text="Roads.")},
    ]
    path = _csv(tmp_path, table)
    with pytest.raises(PersuasionDataError) as err:
        load_persuasion_file(path, MAPPING)
    msg = str(err.value)
    assert f"{path}, row 5, column 'argument_text'" in msg and "'Schools.' in row 3" in msg
    table[3]["argument_text"] = "Schools."
    table[3]["argument_side"] = "attacks"
    with pytest.raises(PersuasionDataError, match=r"row 5, column 'argument_side'.*row 3"):
        load_persuasion_file(_csv(tmp_path, table), MAPPING)
    # the same id in another item is another argument
    items = [{**r, "item": "tax" if r["person"] == "p1" else "roads"} for r in table]
    mapping = MAPPING.model_copy(update={"item": "item"})
    data = load_persuasion_file(_csv(tmp_path, items), mapping)
    sides = {
        e.episode_id: e.steps[1].observation.meta["arguments"][0]["side"] for e in data.episodes
    }
    assert sides == {"p1:tax": "supports", "p2:roads": "attacks"}


def test_a_shown_argument_needs_its_place_in_the_order_column(tmp_path: Path) -> None:
    table = [
        {"person": "p1", "time": 0, "stance": 0, "strength": 2, "shown": None, **NONE},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, "shown": 2, **_arg("a")},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, "shown": 1, **_arg("b")},
    ]
    mapping = MAPPING.model_copy(update={"argument_order": "shown"})
    ep = load_persuasion_file(_csv(tmp_path, table), mapping).episodes[0]
    assert [a["id"] for a in ep.steps[1].observation.meta["arguments"]] == ["b", "a"]
    table[1]["shown"] = None
    with pytest.raises(PersuasionDataError, match=r"row 3, column 'shown': empty.*'a'"):
        load_persuasion_file(_csv(tmp_path, table), mapping)


def test_errors_show_cells_and_rows_as_a_person_reads_them(tmp_path: Path) -> None:
    table = [
        {"person": "p1", "time": 0, "stance": 0, "strength": None, **NONE},
        {"person": "p1", "time": 1, "stance": 1, "strength": 2, **_arg("a")},
    ]
    path = _csv(tmp_path, table)
    with pytest.raises(PersuasionDataError) as err:
        load_persuasion_file(path, MAPPING)
    msg = str(err.value)
    assert f"{path}, row 2, column 'strength': strength empty is not a whole number" in msg
    assert "np." not in msg and "nan" not in msg
    table[0]["strength"] = 2.5
    with pytest.raises(PersuasionDataError, match=r"strength '2.5' is not a whole number"):
        load_persuasion_file(_csv(tmp_path, table), MAPPING)
    table[0]["strength"] = 2
    table.append({**table[1], "strength": 3, "argument_id": "b"})
    with pytest.raises(PersuasionDataError) as err:
        load_persuasion_file(path := _csv(tmp_path, table), MAPPING)
    msg = str(err.value)
    assert f"{path}, row 4, column 'strength'" in msg and "strength than row 3;" in msg


def test_csv_rows_are_counted_as_the_file_shows_them_after_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text(
        "person,time,stance,strength,argument_id,argument_text,argument_side\n"
        "p1,0,0,2,,,\n"
        "\n"
        "p1,1,1,2,a,Funds schools.,supports\n"
        "\n"
        "\n"
        "p1,2,7,2,,,\n"
    )
    with pytest.raises(PersuasionDataError, match=r"gaps.csv, row 7, column 'stance'"):
        load_persuasion_file(path, MAPPING)
    path.write_text(path.read_text().replace("p1,2,7", "p1,2,1"))
    assert len(load_persuasion_file(path, MAPPING).episodes[0].steps) == 3
