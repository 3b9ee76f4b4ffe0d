"""The wide layout's chosen column through a value map, and ``values:`` relabelling of
choice personas (issue 15 §3). Before, the chosen column had to write each option's value
(the one that fills the column template), so a 0/1 chosen column next to ``cost_Ha`` /
``cost_Hb`` could not be mapped, and a persona coded 1/2 read "sex: 1."."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from behaviorlab.families.choice._loader import choice_from_frame
from behaviorlab.families.choice._mapping import ChoiceDataError, as_choice_mapping

MAPPING: dict[str, Any] = {
    "name": "gamble",
    "format": "wide",
    "person": "pid",
    "chosen": "took_a",
    "chosen_values": {1: "A", 0: "B"},  # YAML would read these keys as integers
    "options": [
        {"code": "A", "name": "Gamble A", "value": "Ha"},
        {"code": "B", "name": "Gamble B", "value": "Hb"},
    ],
    "attributes": [{"name": "payoff", "column": "payoff_{option}", "text": "pays {value}"}],
    "persona": [
        {
            "name": "sex",
            "column": "sex",
            "text": "Sex: {value}.",
            "values": {1: "female", 2: "male"},
        }
    ],
}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": ["p1", "p1", "p2"],
            "took_a": [1, 0, 1.0],
            "payoff_Ha": [10, 12, 9],
            "payoff_Hb": [5, 6, 7],
            "sex": [1, 1, 2],
        }
    )


def test_a_zero_one_chosen_column_maps_through_chosen_values() -> None:
    data = choice_from_frame(_frame(), MAPPING, origin="gambles.csv")
    assert [s.action.value for ep in data.episodes for s in ep.steps] == ["A", "B", "A"]
    options = data.episodes[0].steps[0].observation.options or []
    assert [o.label for o in options] == ["Gamble A: pays 10", "Gamble B: pays 5"]


def test_a_persona_code_reads_as_its_label_and_keeps_the_code() -> None:
    data = choice_from_frame(_frame(), MAPPING)
    assert (
        data.persons["gamble:p1"].description == "Sex: female."
        if "gamble:p1" in data.persons
        else True
    )
    people = sorted(data.persons.values(), key=lambda p: p.person_id)
    assert [p.description for p in people] == ["Sex: female.", "Sex: male."]
    assert [p.attributes["sex"] for p in people] == [1.0, 2.0]


def test_a_cell_outside_a_value_map_names_row_and_column() -> None:
    bad = _frame()
    bad.loc[2, "took_a"] = 3
    with pytest.raises(
        ChoiceDataError,
        match=r"gambles\.csv, line 4, column 'took_a': '3' is not in the mapping's chosen_values",
    ):
        choice_from_frame(bad, MAPPING, origin="gambles.csv", csv=True)
    bad = _frame()
    bad.loc[0, "sex"] = 9
    with pytest.raises(ChoiceDataError, match=r"row 1, column 'sex': '9' is not in persona 'sex'"):
        choice_from_frame(bad, MAPPING)


def test_chosen_values_are_checked() -> None:
    with pytest.raises(ChoiceDataError, match=r"unknown option code\(s\) \['C'\]"):
        as_choice_mapping({**MAPPING, "chosen_values": {1: "A", 0: "C"}})
    long = {**MAPPING, "format": "long", "option": "opt", "attributes": []}
    with pytest.raises(ChoiceDataError, match="chosen_values is for format 'wide'"):
        as_choice_mapping(long)
