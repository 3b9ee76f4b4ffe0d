"""Reading some columns of a run, whole or in chunks of a bounded number of rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from behaviorlab.store import ResultStore, TrialResult


def _row(i: int, run_id: str = "r1") -> TrialResult:
    return TrialResult(
        run_id=run_id,
        trial_id=f"t{i:03d}",
        task="survey",
        simulator=("llm:a", "majority")[i % 2],
        condition="full",
        seed=0,
        person_id=f"p{i % 7}",
        item_id=f"q{i % 5}",
        episode_id=f"e{i % 7}",
        step_index=i,
        raw_output="x" * 100,
        answer=str(i % 3),
        human_answer="1",
        options=["0", "1", "2"],
        probabilities={"0": 0.5, "1": 0.5} if i % 4 else None,
        correct=float(i % 3 == 1),
        meta={"i": i},
    )


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    with ResultStore(tmp_path / "r.sqlite") as writer:
        writer.start_run("r1", "exp", {})
        writer.write_many([_row(i) for i in range(23)])
        writer.start_run("r2", "exp", {})
        writer.write_many([_row(i, "r2") for i in range(4)])
    return ResultStore(tmp_path / "r.sqlite", readonly=True)


def test_chunks_hold_at_most_chunk_rows_and_together_are_the_columns_read_at_once(
    store: ResultStore,
) -> None:
    columns = ["person_id", "correct", "probabilities", "meta"]
    with store:
        chunks = list(store.iter_frames("r1", columns=columns, chunk_rows=5))
        whole = store.to_pandas("r1", columns=columns)
        full = store.to_pandas("r1")
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
    assert all(list(c.columns) == columns for c in chunks)
    together = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(together, whole)
    pd.testing.assert_frame_equal(whole, full[columns])
    assert whole["meta"].tolist() == [{"i": i} for i in full["step_index"]]  # JSON decoded


def test_unknown_column_and_bad_chunk_size_are_refused_with_what_to_do(
    store: ResultStore,
) -> None:
    with store:
        with pytest.raises(ValueError, match=r"unknown results column\(s\) 'colour'.*trial_id"):
            store.iter_frames("r1", columns=["trial_id", "colour"])
        with pytest.raises(ValueError, match="unknown results column"):
            store.to_pandas("r1", columns=["colour"])
        with pytest.raises(ValueError, match="chunk_rows must be a whole number of rows"):
            store.iter_frames("r1", columns=["trial_id"], chunk_rows=0)
        assert len(store.to_pandas(columns=["trial_id"])) == 4  # the latest run by default
