"""What a trial brings is bounded before it is stored, a row SQLite refuses is that trial's
failure (never the run's end), and the store is a context manager."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from behaviorlab.store import ResultStore, TrialResult
from behaviorlab.store._sqlite import RAW_OUTPUT_HEAD_CHARS, STORE_WRITE_ERROR


def _row(trial_id: str, **over: object) -> TrialResult:
    base: dict[str, object] = dict(
        run_id="r",
        trial_id=trial_id,
        task="survey",
        simulator="llm:x",
        condition="full",
        seed=0,
        person_id="p1",
        item_id="q1",
        episode_id="e1",
        step_index=0,
    )
    base.update(over)
    return TrialResult.model_validate(base)


def test_the_store_is_a_context_manager(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "results.sqlite") as store:
        store.start_run("r", "exp", {})
        store.write(_row("t1"))
    with pytest.raises(sqlite3.ProgrammingError):  # closed on leaving the block
        store.count("r")
    with ResultStore(tmp_path / "results.sqlite", readonly=True) as again:
        assert again.count("r") == 1


def test_a_long_raw_output_keeps_its_head_and_full_size(tmp_path: Path) -> None:
    text = "x" * (RAW_OUTPUT_HEAD_CHARS * 3 + 7)
    with ResultStore(tmp_path / "results.sqlite") as store:
        store.start_run("r", "exp", {})
        stored = store.write(_row("t1", raw_output=text))
        frame = store.to_pandas()
    assert len(stored.raw_output) == RAW_OUTPUT_HEAD_CHARS
    assert stored.meta["raw_output_chars"] == len(text)
    assert len(frame.loc[0, "raw_output"]) == RAW_OUTPUT_HEAD_CHARS


def test_a_row_sqlite_refuses_is_stored_as_that_trials_failure(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "results.sqlite") as store:
        store.start_run("r", "exp", {})
        store._db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 20_000)  # a small limit, a big value
        big = store.write(_row("big", error="e" * 30_000, error_kind="backend"))
        huge = store.write(_row("huge", tokens_in=2**70))
        fine = store.write(_row("fine", answer="A"))
        frame = store.to_pandas().set_index("trial_id")
    assert big.error_kind == STORE_WRITE_ERROR and "too big for SQLite" in (big.error or "")
    assert "error (30,000 characters)" in (big.error or "")
    assert huge.error_kind == STORE_WRITE_ERROR and "tokens_in" in (huge.error or "")
    assert fine.error is None
    assert set(frame.index) == {"big", "huge", "fine"}  # nothing lost, the run goes on
    assert frame.loc["big", "error_kind"] == STORE_WRITE_ERROR
