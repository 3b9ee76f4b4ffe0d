from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from behaviorlab.store import (
    MIGRATIONS,
    RESULTS_SCHEMA_VERSION,
    NewerStoreError,
    ResultStore,
    TrialResult,
)


def _row(i: int, **over: object) -> TrialResult:
    base: dict[str, object] = dict(
        run_id="r1",
        trial_id=f"t{i}",
        task="survey",
        simulator="majority",
        condition="full",
        seed=0,
        person_id=f"p{i}",
        item_id="q",
        episode_id=f"e{i}",
        step_index=0,
        answer="1",
        human_answer="1",
        options=["0", "1"],
        probabilities={"0": 0.25, "1": 0.75},
        correct=1.0,
        scores={"correct": 1.0},
        meta={"k": [1, 2]},
    )
    base.update(over)
    return TrialResult.model_validate(base)


def test_round_trip_and_json_columns(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "r.sqlite")
    store.start_run("r1", "exp", {"name": "exp"})
    store.write_many([_row(i) for i in range(3)])
    store.write(_row(0, answer="0"))  # a trial already stored is kept, never duplicated
    frame = store.to_pandas("r1")
    assert len(frame) == 3 and frame["trial_id"].is_unique
    assert frame.loc[0, "answer"] == "1"
    assert frame.loc[0, "probabilities"] == {"0": 0.25, "1": 0.75}
    assert frame.loc[0, "options"] == ["0", "1"] and frame.loc[0, "meta"] == {"k": [1, 2]}
    assert store.done_ids("r1") == {"t0", "t1", "t2"}
    store.write_persons("r1", [("p0", {"age": 40, "party": "left"}), ("p1", {"age": 50})])
    persons = store.persons("r1")
    assert persons.set_index("person_id").loc["p0", "party"] == "left"
    store.close()


def test_reader_sees_committed_rows_while_writer_is_open(tmp_path: Path) -> None:
    writer = ResultStore(tmp_path / "r.sqlite")
    writer.start_run("r1", "exp", {})
    writer.write(_row(1))
    reader = ResultStore(tmp_path / "r.sqlite", readonly=True)
    assert len(reader.to_pandas("r1")) == 1
    writer.write(_row(2))
    assert len(reader.to_pandas("r1")) == 2
    reader.close()
    writer.close()


def test_old_file_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0][2](db)  # a file as version 1 wrote it
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO runs VALUES ('r1', 'exp', '{}', NULL, 'finished', '2026-01-01', '2026-01-01')"
    )
    db.close()
    assert ResultStore(path, readonly=True).persons("r1").empty  # readable before migration
    store = ResultStore(path)
    assert store.schema_version() == RESULTS_SCHEMA_VERSION == 3
    assert store.latest_run_id() == "r1"
    store.write_persons("r1", [("p1", {"age": 30})])
    assert store.persons("r1")["person_id"].tolist() == ["p1"]


def test_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(NewerStoreError, match="newer than this behaviorlab"):
        ResultStore(path)


def test_missing_file_read_only(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ResultStore(tmp_path / "nope.sqlite", readonly=True)


def test_a_time_written_without_microseconds_reads_back(tmp_path: Path) -> None:
    from datetime import datetime

    # isoformat() leaves the microseconds out when they are 0: once in a million trials the
    # frame read failed ("doesn't match format %Y-%m-%dT%H:%M:%S.%f") and so did the run
    store = ResultStore(tmp_path / "r.sqlite")
    store.start_run("r1", "exp", {"name": "exp"})
    rows = [_row(0), _row(1)]
    rows[0] = rows[0].model_copy(update={"created_at": datetime(2026, 12, 7, 13, 10, 9, 123456)})
    rows[1] = rows[1].model_copy(update={"created_at": datetime(2026, 12, 7, 13, 10, 9)})
    store.write_many(rows)
    frame = store.to_pandas("r1").sort_values("trial_id")
    assert [t.microsecond for t in frame["created_at"]] == [123456, 0]
    store.close()
