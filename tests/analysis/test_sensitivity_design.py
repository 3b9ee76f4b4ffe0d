"""A stored sweep run is read as the design its spec asked for: an unfinished run is refused
naming its missing and short cells, and cells answering different trials are flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.analysis import sensitivity
from behaviorlab.runs import parse_spec

SPEC = """\
name: swd
data: {source: synthetic-test, people: 10, split: {test: 1.0}}
sweep:
  simulator: {name: llm, backend: mock, answer: sample, n: 2}
  factors:
    model: [a, b]
    seed: [0, 2]
"""
CELLS = [f"sweep[model={m},seed={s}]" for m in ("a", "b") for s in ("0", "2")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    root: Path = tmp_path_factory.mktemp("swd")
    spec = parse_spec(SPEC)
    full = bl.run(spec, out=root / "full", progress=False)
    part = bl.run(spec, out=root / "part", progress=False, limit=30)
    return full, part


def test_an_unfinished_run_is_refused_naming_missing_and_short_cells(runs: Any) -> None:
    full, part = runs
    per_cell = part.to_pandas().groupby("simulator").size()
    assert per_cell.sum() == 30 and len(per_cell) < 4  # what the rows alone show
    with pytest.raises(ValueError) as err:
        sensitivity(part, n_resamples=100)
    msg = str(err.value)
    missing = [c for c in CELLS if c not in per_cell.index]
    short = [c for c in per_cell.index if per_cell[c] < 20]
    assert missing and all(c in msg for c in missing + short)
    assert "no results" in msg and "resume with behaviorlab run SPEC" in msg
    # read anyway on request: the notes say loudly what is missing; levels come from the spec
    got = sensitivity(part, n_resamples=100, allow_partial=True)
    note = next(n for n in got.notes if "unfinished" in n)
    assert missing[0] in note and "model: a, b; seed: 0, 2" in note
    done = sensitivity(full, n_resamples=100)
    assert len(done.cells) == 4 and set(done.cells["n"]) == {20}
    assert not any("unfinished" in n or "same trials" in n for n in done.notes)


class _Rows:
    """A run's manifest with other rows (as an edited or merged store would give)."""

    def __init__(self, run: Any, frame: pd.DataFrame) -> None:
        self.manifest = run.manifest
        self._frame = frame

    def to_pandas(self) -> pd.DataFrame:
        return self._frame


def test_cells_answering_different_trials_are_flagged(runs: Any) -> None:
    full, _ = runs
    frame = full.to_pandas()
    cell = frame["simulator"] == CELLS[1]
    people = sorted(frame["person_id"].unique())
    # one cell answered another person's trials in place of one person's: same count, other set
    swapped = frame.loc[cell & (frame["person_id"] == people[0])].assign(person_id="p-other")
    edited = pd.concat([frame.loc[~(cell & (frame["person_id"] == people[0]))], swapped])
    for rows in (edited, _Rows(full, edited)):
        got = sensitivity(rows, n_resamples=100)
        note = next(n for n in got.notes if "same trials" in n)
        assert CELLS[1] in note and CELLS[0] not in note.split("lack")[0]
