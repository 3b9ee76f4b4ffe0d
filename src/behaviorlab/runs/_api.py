"""The Python API of runs: ``bl.run(spec)`` and ``bl.open_run(name)``."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from behaviorlab.runs._lifecycle import run_async
from behaviorlab.runs._spec import ExperimentSpec, load_spec
from behaviorlab.runs._types import RunSummary
from behaviorlab.store._sqlite import ResultStore


@dataclass
class Run:
    """A run's results on disk: open them as pandas, read the manifest, compute the gap."""

    run_id: str
    results_path: Path
    summary: RunSummary | None = None

    def to_pandas(self) -> pd.DataFrame:
        """One row per trial (columns: see ``behaviorlab.store.TrialResult``)."""
        store = ResultStore(self.results_path, readonly=True)
        try:
            return store.to_pandas(self.run_id)
        finally:
            store.close()

    def persons(self) -> pd.DataFrame:
        """The people simulated: ``person_id`` and one column per persona attribute."""
        store = ResultStore(self.results_path, readonly=True)
        try:
            return store.persons(self.run_id)
        finally:
            store.close()

    @property
    def manifest(self) -> dict[str, Any]:
        store = ResultStore(self.results_path, readonly=True)
        try:
            return store.manifest(self.run_id)
        finally:
            store.close()

    def to_parquet(self, path: str | Path) -> Path:
        path = Path(path)
        self.to_pandas().to_parquet(path, index=False)
        return path


def run(
    spec: str | Path | ExperimentSpec | dict[str, Any],
    *,
    out: str | Path = "runs",
    progress: bool = True,
    limit: int | None = None,
    executor: Literal["local", "ray"] | None = None,
    address: str | None = None,
) -> Run:
    """Run (or resume) an experiment and return its results.

    Works in a notebook too (where an event loop is already running, the run gets a thread
    with its own loop); inside async code, ``await run_async(...)`` directly. ``executor="ray"``
    (with ``address`` of a running cluster, or none for a local one) spreads the trials over
    Ray workers; the default is the spec's ``executor``, else local.
    """
    spec = load_spec(spec)
    opts: dict[str, Any] = {"out": out, "limit": limit, "executor": executor, "address": address}
    if progress:
        from behaviorlab.runs._progress import RunProgress

        with RunProgress(spec.name) as bar:
            summary = _run_sync(
                run_async(spec, on_plan=bar.on_plan, on_progress=bar.on_progress, **opts)
            )
    else:
        summary = _run_sync(run_async(spec, **opts))
    return Run(summary.run_id, summary.results_path, summary)


def _run_sync(coro: Coroutine[Any, Any, RunSummary]) -> RunSummary:
    """``asyncio.run``, or the same in a worker thread when a loop already runs (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def open_run(
    name_or_path: str | Path, *, out: str | Path = "runs", run_id: str | None = None
) -> Run:
    """Open stored results: a run name (``runs/NAME/results.sqlite``), a run folder or a
    ``.sqlite`` file. ``run_id`` picks one run when the file holds several (default: latest)."""
    p = Path(name_or_path)
    if p.suffix in (".sqlite", ".db"):
        path = p
    elif p.is_dir():
        path = p / "results.sqlite"
    else:
        path = Path(out) / str(name_or_path) / "results.sqlite"
    if not path.exists():
        runs_dir = Path(out)
        known = (
            sorted(d.name for d in runs_dir.iterdir() if (d / "results.sqlite").exists())
            if runs_dir.is_dir()
            else []
        )
        raise FileNotFoundError(
            f"no results at {str(path)!r}; runs in {str(runs_dir)!r}: {', '.join(known) or 'none'}"
        )
    store = ResultStore(path, readonly=True)
    try:
        rid = run_id or store.latest_run_id()
        store.manifest(rid)  # raises with the file name when the run is unknown
    finally:
        store.close()
    return Run(rid, path)
