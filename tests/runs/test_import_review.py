"""What a review of the import found (issue 16 §4), each fixed: the run id follows the seed
used, two rows resolving to one trial are a duplicate, "NaN" is not a number, files that are
not UTF-8 or hold a huge cell are read or located, a header column given twice is refused,
labels with brackets print as written, and one label may come in several conditions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from behaviorlab.cli import app
from behaviorlab.runs import AnswerImportError, import_answers

DATA = {"source": "synthetic-test"}


def _csv(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(rows) + "\n", encoding=encoding)
    return path


def _people() -> list[tuple[str, str, str]]:
    from behaviorlab.data import load_dataset

    ds = load_dataset("synthetic-test")
    return [
        (ep.person_id, str(s.observation.meta["question_id"]), str(s.action.value))
        for ep in ds.episodes
        for s in ep.steps
    ]


def test_another_seed_into_the_same_run_is_refused_not_stored_twice(tmp_path: Path) -> None:
    person, item, value = _people()[0]
    frame = pd.DataFrame([{"person_id": person, "item_id": item, "value": value}])
    first = import_answers(frame, run="s", data=DATA, out=tmp_path, label="a", seed=0)
    with pytest.raises(AnswerImportError, match=r"already holds run .* seed 5"):
        import_answers(frame, run="s", data=DATA, out=tmp_path, label="a", seed=5)
    again = import_answers(frame, run="s", data=DATA, out=tmp_path, label="a", seed=0)
    assert again.run_id == first.run_id and again.stored == 0 and again.already_stored == 1
    assert len(first.run().to_pandas()) == 1


def test_two_rows_resolving_to_one_trial_are_a_duplicate_naming_both(tmp_path: Path) -> None:
    (person, item, value), *_ = _people()
    from behaviorlab.data import load_dataset

    episode = next(
        ep.episode_id for ep in load_dataset("synthetic-test").episodes if ep.person_id == person
    )
    frame = pd.DataFrame(
        [
            {"person_id": person, "item_id": item, "value": value, "episode_id": None},
            {"person_id": person, "item_id": item, "value": value, "episode_id": episode},
        ]
    )
    with pytest.raises(AnswerImportError, match=r"row 1 and row 2 both answer person"):
        import_answers(frame, run="d", data=DATA, out=tmp_path, label="a")


def test_stored_counts_what_the_store_took(tmp_path: Path) -> None:
    person, item, value = _people()[0]
    frame = pd.DataFrame([{"person_id": person, "item_id": item, "value": value}])
    assert import_answers(frame, run="c", data=DATA, out=tmp_path, label="a").stored == 1
    assert import_answers(frame, run="c", data=DATA, out=tmp_path, label="a").stored == 0


def _numeric(tmp_path: Path) -> dict[str, object]:
    pd.DataFrame({"pid": ["r1", "r2", "r3"], "temp": [1.0, 5.0, 9.0]}).to_csv(
        tmp_path / "people.csv", index=False
    )
    mapping = {
        "name": "warmth",
        "id_column": "pid",
        "questions": [{"column": "temp", "text": "How warm?", "type": "numeric", "range": [0, 10]}],
    }
    return {"source": str(tmp_path / "people.csv"), "mapping": mapping}


def test_nan_inf_and_digit_groups_are_not_numbers(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "a.csv",
        ["person_id,item_id,value,simulator", "r1,temp,NaN,t", "r2,temp,1_0,t", "r3,temp,4.5,t"],
    )
    summary = import_answers(path, run="n", data=_numeric(tmp_path), out=tmp_path)
    assert summary.matched == {"t": 1}
    reasons = {u.value: u.reason for u in summary.unmatched}
    assert set(reasons) == {"NaN", "1_0"} and all("is not a number" in r for r in reasons.values())


def test_utf16_is_read_and_latin1_is_located(tmp_path: Path) -> None:
    person, item, value = _people()[0]
    rows = ["person_id,item_id,value,simulator", f"{person},{item},{value},café"]
    wide = _csv(tmp_path / "u16.csv", rows, encoding="utf-16")
    assert import_answers(wide, run="u", data=DATA, out=tmp_path).matched == {"café": 1}
    latin = _csv(tmp_path / "l1.csv", rows, encoding="latin-1")
    with pytest.raises(AnswerImportError, match=r"l1\.csv, line 2: not UTF-8 .*save the file"):
        import_answers(latin, run="l", data=DATA, out=tmp_path)


def test_a_huge_rationale_is_read_and_a_repeated_column_refused(tmp_path: Path) -> None:
    person, item, value = _people()[0]
    long = "because " * 40_000  # 320 kB: more than csv's default field limit
    big = _csv(
        tmp_path / "big.csv",
        ["person_id,item_id,value,simulator,rationale", f"{person},{item},{value},t,{long}"],
    )
    assert import_answers(big, run="b", data=DATA, out=tmp_path).matched == {"t": 1}
    twice = _csv(
        tmp_path / "twice.csv",
        ["person_id,item_id,value,simulator,value", f"{person},{item},{value},t,4"],
    )
    with pytest.raises(AnswerImportError, match=r"twice\.csv, line 1: column\(s\) 'value'"):
        import_answers(twice, run="t", data=DATA, out=tmp_path)


def test_one_label_in_another_condition_from_another_file_joins(tmp_path: Path) -> None:
    person, item, value = _people()[0]
    base = {"person_id": person, "item_id": item, "value": value, "simulator": "gpt"}
    import_answers(pd.DataFrame([base]), run="k", data=DATA, out=tmp_path)
    other = pd.DataFrame([{**base, "condition": "no_persona", "value": value}])
    joined = import_answers(other, run="k", data=DATA, out=tmp_path)
    frame = joined.run().to_pandas()
    assert sorted(frame["condition"]) == ["full", "no_persona"]


def test_labels_with_brackets_print_as_written(tmp_path: Path) -> None:
    person, item, value = _people()[0]
    path = _csv(
        tmp_path / "r.csv",
        ["person_id,item_id,value,simulator", f"{person},{item},{value},[/b]gpt [t=0]"],
    )
    result = CliRunner().invoke(
        app,
        ["import", str(path), "--run", "r", "--data", "synthetic-test", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "[/b]gpt [t=0] (1)" in result.output
