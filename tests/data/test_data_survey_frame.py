"""survey_from_frame / load_survey_file: a table + a mapping → people and survey episodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from behaviorlab.data import Dataset, SurveyMapping, load_survey_file, survey_from_frame

MAPPING: dict[str, Any] = {
    "name": "toy",
    "source": "made up",
    "license": "CC0-1.0",
    "version": "1",
    "persona": [
        {"column": "age", "template": "You are {value} years old."},
        {"column": "sex", "template": "You are {value}.", "values": {0: "a man", 1: "a woman"}},
    ],
    "questions": [
        {
            "column": "q1",
            "text": "Spend more?",
            "options": {-1: "Less", 0: "Same", 1: "More"},
            "paraphrases": ["Should spending go up?", "More money or less?"],
        },
        {"column": "q2", "id": "party", "text": "Party?", "options": {"B": "Blue", "A": "Amber"}},
    ],
}


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [30.0, 41.0, np.nan, 65.0, 50.0],
            "sex": [0, 1, 1, 0, 1],
            "q1": [1.0, -1.0, np.nan, 0.0, np.nan],
            "q2": ["A", None, "B", "A", None],
        }
    )


def test_people_episodes_and_steps() -> None:
    ds = survey_from_frame(frame(), MAPPING)
    assert isinstance(ds, Dataset)
    assert (ds.name, ds.source, ds.license, ds.version) == ("toy", "made up", "CC0-1.0", "1")
    # row 4 answered nothing: dropped
    assert list(ds.persons) == ["0", "1", "2", "3"]
    assert ds.meta["dropped_people"] == 1
    assert ds.meta["targets"] == ["q1", "party"]
    assert ds.meta["mapping"]["name"] == "toy"

    p0 = ds.persons["0"]
    assert p0.attributes == {"age": 30, "sex": 0}
    assert type(p0.attributes["age"]) is int
    assert p0.description == "You are 30 years old. You are a man."
    assert p0.meta["row"] == 0

    ep = ds.episodes[0]
    assert (ep.episode_id, ep.person_id, ep.kind) == ("toy:0", "0", "survey")
    assert [s.step_id for s in ep.steps] == ["0:q1", "0:party"]
    obs = ep.steps[0].observation
    assert obs.kind == "question"
    assert obs.content == "Spend more?"
    assert [(o.code, o.label) for o in obs.options or []] == [
        ("-1", "Less"),
        ("0", "Same"),
        ("1", "More"),
    ]
    assert obs.alternatives == ["Should spending go up?", "More money or less?"]
    assert obs.meta == {"question_id": "q1"}
    assert ep.steps[1].observation.option_codes() == ["B", "A"]
    assert [(s.action.action_type, s.action.value) for s in ep.steps] == [
        ("answer", "1"),
        ("answer", "A"),
    ]


def test_codes_are_normalised_to_strings() -> None:
    ds = survey_from_frame(frame(), MAPPING)
    values = [s.action.value for ep in ds.episodes for s in ep.steps if s.step_id.endswith("q1")]
    assert values == ["1", "-1", "0"]
    as_text = frame().assign(q1=["1", "-1", None, "0", None])
    assert survey_from_frame(as_text, MAPPING).content_hash() == ds.content_hash()


def test_missing_answers_and_persona_values_are_omitted() -> None:
    ds = survey_from_frame(frame(), MAPPING)
    assert [s.step_id for s in ds.episodes[1].steps] == ["1:q1"]  # q2 missing
    assert [s.step_id for s in ds.episodes[2].steps] == ["2:party"]  # q1 missing
    p2 = ds.persons["2"]
    assert p2.attributes == {"age": None, "sex": 1}
    assert p2.description == "You are a woman."


def test_id_column_and_duplicate_ids() -> None:
    df = frame().assign(pid=[10.0, 11.0, 12.0, 13.0, 14.0])
    ds = survey_from_frame(df, {**MAPPING, "id_column": "pid"})
    assert list(ds.persons) == ["10", "11", "12", "13"]
    assert ds.episodes[0].episode_id == "toy:10"
    with pytest.raises(ValueError, match="person id '10' appears twice"):
        survey_from_frame(df.assign(pid=10), {**MAPPING, "id_column": "pid"})


def test_targets_restrict_questions() -> None:
    ds = survey_from_frame(frame(), MAPPING, targets=["party"])
    assert ds.meta["targets"] == ["party"]
    assert list(ds.persons) == ["0", "2", "3"]
    assert ds.meta["dropped_people"] == 2
    assert survey_from_frame(frame(), MAPPING, targets="party").content_hash() == (
        ds.content_hash()
    )


def test_unknown_target_lists_valid_ids() -> None:
    with pytest.raises(ValueError) as err:
        survey_from_frame(frame(), MAPPING, targets=["partyy"])
    message = str(err.value)
    assert "'partyy'" in message
    assert "Did you mean 'party'?" in message
    assert "q1, party" in message


def test_invalid_value_error_names_everything() -> None:
    df = frame()
    df.loc[3, "q1"] = 7.0
    with pytest.raises(ValueError) as err:
        survey_from_frame(df, MAPPING)
    message = str(err.value)
    for part in ("'toy'", "column 'q1'", "row 3", "value '7'", "'-1', '0', '1'"):
        assert part in message


def test_invalid_values_can_be_skipped() -> None:
    df = frame()
    df.loc[3, "q1"] = 7.0
    df.loc[0, "sex"] = 9
    ds = survey_from_frame(df, MAPPING, on_invalid="skip")
    assert ds.meta["skipped_values"] == 2
    assert [s.step_id for s in ds.episodes[3].steps] == ["3:party"]
    assert ds.persons["0"].description == "You are 30 years old."


def test_invalid_persona_value_names_the_labelled_codes() -> None:
    df = frame()
    df.loc[0, "sex"] = 9
    with pytest.raises(ValueError, match=r"persona column 'sex', row 0: value '9'.*'0', '1'"):
        survey_from_frame(df, MAPPING)


def test_unknown_column_suggests_and_lists_columns() -> None:
    bad = {**MAPPING, "persona": [{"column": "agee", "template": "{value}"}]}
    with pytest.raises(ValueError) as err:
        survey_from_frame(frame(), bad)
    message = str(err.value)
    assert "'agee'" in message
    assert "Did you mean 'age'?" in message
    assert "age, sex, q1, q2" in message


def test_target_in_persona_is_an_error() -> None:
    leaky = {**MAPPING, "persona": [*MAPPING["persona"], {"column": "q1", "template": "{value}"}]}
    with pytest.raises(ValueError, match="held-out questions are never part of the persona"):
        survey_from_frame(frame(), leaky)
    # fine when the persona column is not a target
    ds = survey_from_frame(frame(), leaky, targets=["party"])
    assert ds.persons["0"].attributes["q1"] == 1


def test_people_sampling_is_reproducible() -> None:
    df = pd.DataFrame({"age": range(50), "sex": [0, 1] * 25, "q1": [0] * 50, "q2": ["A"] * 50})
    a = survey_from_frame(df, MAPPING, people=10, seed=3)
    b = survey_from_frame(df, MAPPING, people=10, seed=3)
    c = survey_from_frame(df, MAPPING, people=10, seed=4)
    assert len(a.persons) == 10
    assert list(a.persons) == list(b.persons)
    assert list(a.persons) != list(c.persons)
    assert [e.person_id for e in a.episodes] == list(a.persons)
    assert a.meta["people_available"] == 50


def test_too_many_people_names_both_numbers() -> None:
    with pytest.raises(ValueError, match=r"people=9 but only 4 people"):
        survey_from_frame(frame(), MAPPING, people=9)
    with pytest.raises(ValueError, match="at least 1"):
        survey_from_frame(frame(), MAPPING, people=0)


def test_mapping_object_dict_and_yaml_path_agree(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(MAPPING, sort_keys=False))
    from_dict = survey_from_frame(frame(), MAPPING)
    assert survey_from_frame(frame(), path).content_hash() == from_dict.content_hash()
    model = SurveyMapping.model_validate(MAPPING)
    assert survey_from_frame(frame(), model).content_hash() == from_dict.content_hash()


def test_csv_errors_point_at_the_file_line(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("age,sex,q1,q2\n30,0,1,A\n41,1,5,B\n")
    with pytest.raises(ValueError, match=r"row 1 \(line 3 of .*s\.csv\): value '5'"):
        load_survey_file(path, MAPPING)


def test_csv_and_parquet_files(tmp_path: Path) -> None:
    df = frame().assign(pid=["007", "008", "009", "010", "011"])
    mapping = {**MAPPING, "id_column": "pid"}
    df.to_csv(tmp_path / "s.csv", index=False)
    df.to_parquet(tmp_path / "s.parquet")
    from_csv = load_survey_file(tmp_path / "s.csv", mapping)
    from_parquet = load_survey_file(str(tmp_path / "s.parquet"), mapping)
    in_memory = survey_from_frame(df, mapping)
    assert list(from_csv.persons) == ["007", "008", "009", "010"]
    assert from_csv.content_hash() == from_parquet.content_hash() == in_memory.content_hash()
    assert from_csv.source == "made up"
    unsourced = load_survey_file(tmp_path / "s.csv", {**mapping, "source": ""})
    assert unsourced.source == str(tmp_path / "s.csv")


def test_file_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"s\.xlsx.*\.csv, \.parquet"):
        load_survey_file(tmp_path / "s.xlsx", MAPPING)
    with pytest.raises(FileNotFoundError, match=r"missing\.csv"):
        load_survey_file(tmp_path / "missing.csv", MAPPING)
