"""The generic scenario loader: CSV / JSONL / Parquet + a mapping, and its error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.scenario._data import ScenarioDataError, load_scenarios

MAPPING = {
    "prompt": "text",
    "options": ["opt1", "opt2", "opt3"],
    "desired": "good",
    "item_id": "qid",
    "cluster": "scene",
    "categories": ["topic"],
}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "qid": ["q1", "q2", "q3"],
            "scene": ["s1", "s1", "s2"],
            "topic": ["power", "power", "truth"],
            "text": ["Save the workers?", "Same, reworded?", "Tell the truth?"],
            "opt1": ["yes", "no", "lie"],
            "opt2": ["no", "yes", "truth"],
            "opt3": ["wait", None, "wait"],
            "good": ["A", "B", "b"],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_loader_reads_every_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"items{suffix}"
    frame = _frame()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    ds = load_scenarios(path, MAPPING)
    # clusters become the "persons" (units of independence); rows their steps
    assert sorted(ds.persons) == ["s1", "s2"]
    steps = {s.step_id: s for ep in ds.episodes for s in ep.steps}
    assert [o.label for o in steps["q1"].observation.options or []] == ["yes", "no", "wait"]
    assert steps["q2"].observation.option_codes() == ["A", "B"]  # the empty cell is skipped
    assert steps["q3"].action.attributes["desired"] == ["B"]  # codes match case-insensitively
    assert steps["q1"].action.attributes["categories"] == {"topic": "power"}
    assert steps["q1"].observation.meta == {"item_kind": "choice"}  # nothing else shown
    assert "desired" not in steps["q1"].observation.meta  # the answer key stays out of view


def test_list_column_index_and_text_desired(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    rows = [
        {"id": "a", "q": "Pick", "opts": ["x", "y", "z"], "good": 2},
        {"id": "b", "q": "Say anything", "opts": [], "good": None},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    ds = load_scenarios(
        path,
        {
            "prompt": "q",
            "options": "opts",
            "desired": "good",
            "desired_as": "index",
            "item_id": "id",
        },
    )
    steps = {s.step_id: s for ep in ds.episodes for s in ep.steps}
    assert steps["a"].action.value == "C"
    assert steps["b"].observation.options is None  # open-ended
    assert steps["b"].observation.meta["item_kind"] == "open"


def test_desired_as_text(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"q": ["Pick"], "o1": ["keep going"], "o2": ["stop"], "g": ["stop"]}).to_csv(
        path, index=False
    )
    ds = load_scenarios(
        path, {"prompt": "q", "options": ["o1", "o2"], "desired": "g", "desired_as": "text"}
    )
    assert ds.episodes[0].steps[0].action.attributes["desired"] == ["B"]


def _write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


def test_unknown_option_label_names_file_row_and_column(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[1, "good"] = "E"
    path = _write(tmp_path, frame)
    with pytest.raises(ScenarioDataError) as err:
        load_scenarios(path, MAPPING)
    msg = str(err.value)
    assert str(path) in msg and "row 2" in msg and "'good'" in msg
    assert "unknown option label 'E'" in msg and "A, B" in msg


def test_missing_column_and_empty_category(tmp_path: Path) -> None:
    path = _write(tmp_path, _frame().drop(columns=["topic"]))
    with pytest.raises(ScenarioDataError, match=r"column\(s\) 'topic' named in the mapping"):
        load_scenarios(path, MAPPING)
    frame = _frame()
    frame.loc[2, "topic"] = ""
    path = _write(tmp_path, frame)
    with pytest.raises(ScenarioDataError, match=r"row 3, column 'topic': empty value"):
        load_scenarios(path, MAPPING)


def test_duplicate_item_ids_and_bad_mapping(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[2, "qid"] = "q1"
    path = _write(tmp_path, frame)
    with pytest.raises(ScenarioDataError, match="item id 'q1' repeats row 1"):
        load_scenarios(path, MAPPING)
    with pytest.raises(ScenarioDataError, match="promptt"):
        load_scenarios(path, {**MAPPING, "promptt": "x"})


def test_scenario_file_dataset_needs_path_and_mapping() -> None:
    with pytest.raises(ScenarioDataError, match="needs options path"):
        load_dataset("scenario_file")


def test_bundled_examples_are_labelled_illustrative() -> None:
    ds = load_dataset("scenario_examples")
    assert ds.meta["illustrative"] is True
    assert "not a benchmark" in ds.source
    kinds = [s.observation.meta["item_kind"] for ep in ds.episodes for s in ep.steps]
    assert kinds.count("open") == 2 and kinds.count("choice") == 10
    # the desired option is not always in the same position
    firsts = {s.action.value for ep in ds.episodes for s in ep.steps if s.action.value}
    assert len(firsts) >= 3
