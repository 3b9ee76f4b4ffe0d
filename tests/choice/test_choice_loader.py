"""The choice loader (long and wide layouts), its errors, and the modechoice adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.choice._loader import choice_from_frame, load_choice_file
from behaviorlab.families.choice._mapping import ChoiceDataError, duration

LONG = {
    "name": "trips",
    "format": "long",
    "person": "pid",
    "situation": "trip",
    "option": "mode",
    "chosen": "picked",
    "question": "How do you travel?",
    "options": [
        {"code": "train", "name": "Train", "value": "1"},
        {"code": "car", "name": "Car", "value": "2", "describe": ["time", "cost"]},
    ],
    "attributes": [
        {"name": "time", "column": "time", "text": "{value} in the vehicle", "unit": "minutes"},
        {"name": "wait", "column": "wait", "text": "{value} waiting", "unit": "minutes"},
        {"name": "cost", "column": "cost", "text": "costs ${value}"},
    ],
    "persona": [{"name": "income", "column": "inc", "text": "Income: {value}."}],
}


def long_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": ["a", "a", "a", "a", "b", "b"],
            "trip": [1, 1, 2, 2, 1, 1],
            "mode": [1, 2, 1, 2, 2, 1],
            "picked": [1, 0, 0, 1, "no", "yes"],
            "time": [372, 180, 60, 45.0, 90, 125],
            "wait": [35, 0, 10, 0, 0, 20],
            "cost": [28, 10, 5.5, 3, 7, 12],
            "inc": [35, 35, 35, 35, 50, 50],
        }
    )


def write(frame: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "trips.csv"
    frame.to_csv(path, index=False)
    return path


def test_duration_in_words() -> None:
    assert duration(372) == "6 h 12 min"
    assert duration(45) == "45 min"
    assert duration(120) == "2 h"


def test_long_format_to_records(tmp_path: Path) -> None:
    data = load_choice_file(write(long_frame(), tmp_path), LONG)
    assert sorted(data.persons) == ["a", "b"]
    assert data.persons["a"].attributes == {"income": 35.0}
    assert data.persons["a"].description == "Income: 35."
    (ep_a,) = list(data.episodes_of("a"))
    assert [s.action.value for s in ep_a.steps] == ["train", "car"]
    first = ep_a.steps[0].observation
    assert first.content == "How do you travel?"
    assert [o.label for o in first.options or []] == [
        "Train: 6 h 12 min in the vehicle, 35 min waiting, costs $28",
        "Car: 3 h in the vehicle, costs $10",
    ]
    assert first.meta["option_attributes"]["car"] == {"time": 180.0, "wait": 0.0, "cost": 10.0}
    assert "picked" not in str(first.meta)  # the choice never leaks into the observation
    second = ep_a.steps[1].observation.options or []
    assert second[0].label == "Train: 1 h in the vehicle, 10 min waiting, costs $5.5"
    (ep_b,) = list(data.episodes_of("b"))
    assert ep_b.steps[0].action.value == "train"  # "yes" on the second row


def test_wide_format_to_records(tmp_path: Path) -> None:
    mapping: dict[str, Any] = {
        **{k: v for k, v in LONG.items() if k not in ("option", "situation")},
        "format": "wide",
        "chosen": "choice",
        "attributes": [
            {"name": "time", "column": "time_{option}", "text": "{value}", "unit": "minutes"},
            {"name": "cost", "column": "cost_{option}", "text": "${value}"},
        ],
    }
    frame = pd.DataFrame(
        {
            "pid": ["a", "b"],
            "choice": ["2", "1"],
            "time_1": [90, None],  # b is not offered the train... but chose it: an error below
            "cost_1": [9, None],
            "time_2": [30, 40],
            "cost_2": [3, 4],
            "inc": [1, 2],
        }
    )
    with pytest.raises(ChoiceDataError, match=r"row 2: .*chose 'train', which it does not offer"):
        choice_from_frame(frame, mapping, origin="wide.parquet")
    frame.loc[1, "choice"] = "2"
    frame.loc[1, "time_1"] = 50
    data = choice_from_frame(frame, mapping)
    steps = [ep.steps[0] for ep in data.episodes]
    assert [s.action.value for s in steps] == ["car", "car"]
    assert [o.label for o in steps[1].observation.options or []] == [
        "Train: 50 min",
        "Car: 40 min, $4",
    ]
    assert steps[1].observation.meta["option_attributes"]["train"] == {"time": 50.0, "cost": None}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.drop(columns=["cost"]),
            r"trips\.csv: column\(s\) not in the file: 'cost' \(mapping field attributes\[2\]",
        ),
        (
            lambda f: f.assign(mode=[1, 2, 1, 7, 2, 1]),
            r"trips\.csv, line 5, column 'mode': unknown option '7'.*train \(1\), car \(2\)",
        ),
        (
            lambda f: f.assign(picked=[1, 1, 0, 1, 0, 1]),
            r"trips\.csv, line 2: 2 options are marked chosen in column 'picked' for the choice "
            r"situation of person 'a', situation '1' \(marked: line 2, line 3\)",
        ),
        (
            lambda f: f.assign(picked=[1, 0, 0, 0, 0, 1]),
            r"line 4: 0 options are marked chosen .* situation '2' \(marked: none\)",
        ),
        (
            lambda f: f.assign(picked=[1, 0, 0, 1, 0, "maybe"]),
            r"line 7, column 'picked': chosen flag 'maybe' is not 1/0",
        ),
        (
            lambda f: f.assign(cost=[28, 10, "cheap", 3, 7, 12]),
            r"line 4, column 'cost': 'cheap' is not a number",
        ),
        (
            lambda f: f.assign(inc=[35, 35, 36, 36, 50, 50]),
            r"line 4, column 'inc': chooser 'a' has income = 36.0 here but 35.0 on line 2",
        ),
        (
            lambda f: f.assign(pid=["a", "a", None, "a", "b", "b"]),
            r"line 4, column 'pid': empty person id",
        ),
    ],
)
def test_bad_input_names_file_row_column(change: Any, message: str, tmp_path: Path) -> None:
    with pytest.raises(ChoiceDataError, match=message):
        load_choice_file(write(change(long_frame()), tmp_path), LONG)


def test_empty_category_and_bad_mapping(tmp_path: Path) -> None:
    path = write(long_frame(), tmp_path)
    extra = {**LONG, "options": [*LONG["options"], {"code": "bus", "name": "Bus", "value": "3"}]}
    with pytest.raises(
        ChoiceDataError, match=r"option\(s\) 'bus' of the mapping are never offered"
    ):
        load_choice_file(path, extra)
    with pytest.raises(ChoiceDataError, match=r"format 'long' needs 'option'"):
        load_choice_file(path, {**LONG, "option": None})
    with pytest.raises(ChoiceDataError, match=r"unknown persona attribute\(s\) \['age'\]"):
        load_choice_file(path, LONG, persona=["age"])


def test_choice_file_source_reads_a_yaml_mapping(tmp_path: Path) -> None:
    import yaml

    mapping = tmp_path / "trips.yaml"
    mapping.write_text(yaml.safe_dump(LONG))
    data = load_dataset(
        "choice_file", path=str(write(long_frame(), tmp_path)), mapping=str(mapping)
    )
    assert data.name == "trips" and len(data.episodes) == 2
    with pytest.raises(ChoiceDataError, match=r"needs data\.options\.path"):
        load_dataset("choice_file", mapping=str(mapping))


def test_modechoice_adapter() -> None:
    data = load_dataset("modechoice")
    assert len(data.persons) == 210 and all(len(ep.steps) == 1 for ep in data.episodes)
    # statsmodels' individual 1: train invt 372, ttme 34, invc 31; car invt 180, invc 10
    labels = {o.code: o.label for o in data.episodes[0].steps[0].observation.options or []}
    assert (
        labels["train"]
        == "Train: 6 h 12 min in the vehicle, 34 min waiting at the terminal, costs $31"
    )
    assert labels["car"] == "Car: 3 h in the vehicle, costs $10"
    person = data.persons["1"]
    assert person.attributes == {"hinc": 35.0, "psize": 1.0}
    assert "35 thousand dollars" in (person.description or "")
    chosen = pd.Series([ep.steps[0].action.value for ep in data.episodes]).value_counts()
    # the sample's published composition (Greene and Hensher): 58 air, 63 train, 30 bus, 59 car
    assert chosen.to_dict() == {"train": 63, "car": 59, "air": 58, "bus": 30}
    small = load_dataset("modechoice", people=20, persona=["hinc"], seed=3)
    assert len(small.persons) == 20
    assert all(set(p.attributes) == {"hinc"} for p in small.persons.values())
