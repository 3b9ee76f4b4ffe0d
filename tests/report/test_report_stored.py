"""The report of a stored run reads it chunk by chunk (issue 21 §4): its gap equals the gap of
the whole frame and its text the text of a report built from the whole frame, for several
families; the raw model text is read for the failed trials alone."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from behaviorlab.analysis import gap
from behaviorlab.cli import app
from behaviorlab.report._collect import RunData, collect
from behaviorlab.report._markdown import render_markdown
from behaviorlab.report._report import build_document
from behaviorlab.runs import Run, open_run
from behaviorlab.store import ResultStore

RESAMPLES = 200


def _same(a: Any, b: Any, where: str = "report") -> None:
    """``a`` equals ``b``, floats to 1e-12 (NaN equal to NaN)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(
            a, b, rel_tol=1e-12, abs_tol=1e-12
        ), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _whole(run: Run) -> RunData:
    """The report's data as it was read before: every row of every column at once."""
    data = collect(run, n_resamples=RESAMPLES)
    frame = run.to_pandas()
    report = gap(frame, persons=data.persons, n_resamples=RESAMPLES)
    return dataclasses.replace(data, frame=frame, report=report)


def _check(run: Run) -> RunData:
    data = collect(run, n_resamples=RESAMPLES)
    whole = _whole(run)
    _same(whole.report.to_dict(), data.report.to_dict())
    _same(
        gap(run, n_resamples=RESAMPLES).to_dict(), gap(whole.frame, n_resamples=RESAMPLES).to_dict()
    )
    assert render_markdown(build_document(data)) == render_markdown(build_document(whole))
    # the sections' frame: the same rows and values, the raw output only where a trial failed
    assert "prompt_hash" not in data.frame and len(data.frame) == len(whole.frame)
    failed = (whole.frame["error"].notna() | whole.frame["error_kind"].notna()).to_numpy()
    raw = data.frame["raw_output"]
    assert raw[~failed].isna().all()
    assert raw[failed].tolist() == whole.frame["raw_output"][failed].tolist()
    keep = [c for c in data.frame.columns if c != "raw_output"]
    pd.testing.assert_frame_equal(
        data.frame[keep].astype(object), whole.frame[keep].astype(object), check_dtype=False
    )
    return data


def test_a_survey_report_from_chunks_equals_the_report_of_the_whole_frame(main_run: Run) -> None:
    # a flaky arm (failed and invalid trials with raw output), baselines, persona ablations
    data = _check(main_run)
    assert data.report.rows and any(r.n_failed for r in data.report.rows)
    assert data.report.effects and not data.report.comparisons.empty


@pytest.mark.slow
@pytest.mark.parametrize("which", ["game", "choice"])
def test_a_demo_report_from_chunks_equals_the_report_of_the_whole_frame(
    which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEHAVIORLAB_CACHE_DIR", str(tmp_path / "cache"))
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        res = CliRunner().invoke(app, ["demo", which, "--backend", "mock", "--out", "runs"])
    finally:
        os.chdir(here)
    assert res.exit_code == 0, res.output
    paths = sorted((tmp_path / "runs").glob("*/results.sqlite"))
    assert paths
    for path in paths:
        with ResultStore(path, readonly=True) as store:
            assert store.count(store.latest_run_id()) > 0
        _check(open_run(path))


def test_the_report_of_a_stored_run_never_reads_every_row_at_once(
    main_run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    iter_frames = ResultStore.iter_frames

    def counted(self: ResultStore, *args: Any, **kwargs: Any) -> Any:
        for chunk in iter_frames(self, *args, **kwargs):
            sizes.append(len(chunk))
            yield chunk

    def whole(*args: Any, **kwargs: Any) -> pd.DataFrame:
        raise AssertionError("the report read every row of the run at once (to_pandas)")

    monkeypatch.setattr(ResultStore, "iter_frames", counted)
    monkeypatch.setattr(ResultStore, "to_pandas", whole)
    monkeypatch.setattr(Run, "to_pandas", whole)
    data = collect(main_run, n_resamples=RESAMPLES, chunk_rows=100)
    n = len(data.frame)
    assert n > 200 and sum(r.n for r in data.report.rows) == n
    assert max(sizes) <= 100 and sum(sizes) == 2 * n  # the rows, then failed trials' output
    render_markdown(build_document(data))  # no section reads the whole run either
