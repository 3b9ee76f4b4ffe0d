"""Everything a report shows about one run, read once: trials, persons, manifest, the gap.

Parts of the analysis are optional (a stand-in report, a run without persona attributes):
:func:`optional_frame` reads them when present, and the sections say "not available" when not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from behaviorlab._registry import import_plugins
from behaviorlab.analysis import GapReport, gap
from behaviorlab.analysis._stored import Stored, read_stored
from behaviorlab.analysis._sums import CHUNK_ROWS
from behaviorlab.plugins import Family, families_for
from behaviorlab.runs import Run
from behaviorlab.store import ResultStore


@dataclass(frozen=True, eq=False)
class RunData:
    """One run as the report reads it. ``name`` is the experiment name, ``status`` the
    runner's (``finished``, ``running``, ...), ``persons`` None when the run stored none."""

    name: str
    run: Run
    manifest: dict[str, Any]
    status: str
    created_at: str
    frame: pd.DataFrame
    persons: pd.DataFrame | None
    report: GapReport

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def folder(self) -> Path:
        return self.run.results_path.parent


def run_families(data: RunData) -> list[Family]:
    """The families whose tasks the run holds (the report loops over these)."""
    if "task" not in data.frame:
        return []
    return families_for(str(t) for t in data.frame["task"].dropna().unique())


def optional_frame(report: GapReport, name: str) -> pd.DataFrame | None:
    """``report.<name>`` when the analysis provides it as a DataFrame, else None."""
    value = getattr(report, name, None)
    return value if isinstance(value, pd.DataFrame) else None


def _persons(run: Run) -> pd.DataFrame | None:
    """The persona attributes of the people simulated; None when the run stored none."""
    persons = run.persons()
    return None if persons.empty or len(persons.columns) < 2 else persons


def _run_row(run: Run) -> dict[str, Any]:
    store = ResultStore(run.results_path, readonly=True)
    try:
        runs = store.runs()
    finally:
        store.close()
    rows = runs.loc[runs["run_id"] == run.run_id]
    return {str(k): v for k, v in rows.iloc[0].to_dict().items()} if len(rows) else {}


def run_gap(
    results: pd.DataFrame | Stored,
    persons: pd.DataFrame | None,
    *,
    n_resamples: int,
    seed: int = 0,
) -> GapReport:
    """:func:`behaviorlab.analysis.gap` with the persons table (for subgroup gaps)."""
    return gap(results, persons=persons, n_resamples=n_resamples, seed=seed)


FAILED_ONLY = ("raw_output",)
"""Columns the report reads only for failed trials (their examples): read for those alone."""


def _with_failed_output(
    store: ResultStore, run_id: str, frame: pd.DataFrame, chunk_rows: int
) -> pd.DataFrame:
    """``frame`` (the store's rows in its order) with :data:`FAILED_ONLY`, None but for the
    failed trials, read a chunk at a time: a real model's raw text is most of a row."""
    values: dict[str, list[Any]] = {c: [] for c in FAILED_ONLY}
    for chunk in store.iter_frames(
        run_id, columns=("error", "error_kind", *FAILED_ONLY), chunk_rows=chunk_rows
    ):
        failed = (chunk["error"].notna() | chunk["error_kind"].notna()).tolist()
        for c in FAILED_ONLY:
            values[c] += [v if f else None for v, f in zip(chunk[c].tolist(), failed, strict=True)]
    columns = {c: pd.Series(v, index=frame.index, dtype=object) for c, v in values.items()}
    return frame.assign(**columns)


def collect(
    run: Run, *, n_resamples: int = 2000, seed: int = 0, chunk_rows: int = CHUNK_ROWS
) -> RunData:
    """Read a stored run and compute its gap report.

    The run is read ``chunk_rows`` rows at a time (``analysis._stored.read_stored``): the
    gap table from per-person sums, the frame the sections read (``RunData.frame``) without
    the prompt hash and without the raw model text but for failed trials; a section that
    needs other columns reads them from ``data.run``."""
    manifest = run.manifest
    spec = manifest.get("spec") or {}
    import_plugins(spec.get("plugins") or [])  # what the run's spec imported, imported again
    with ResultStore(run.results_path, readonly=True) as store:
        stored = read_stored(store, run.run_id, chunk_rows=chunk_rows)
        frame = _with_failed_output(store, run.run_id, stored.frame, chunk_rows)
    if frame.empty:
        raise ValueError(
            f"run {run.run_id!r} in {str(run.results_path)!r} has no trials yet; nothing to report"
        )
    row = _run_row(run)
    persons = _persons(run)
    return RunData(
        name=str(spec.get("name") or row.get("name") or run.results_path.parent.name),
        run=run,
        manifest=manifest,
        status=str(row.get("status") or manifest.get("status") or "unknown"),
        created_at=str(row.get("created_at") or ""),
        frame=frame,
        persons=persons,
        report=run_gap(stored, persons, n_resamples=n_resamples, seed=seed),
    )
