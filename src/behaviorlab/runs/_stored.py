"""Stored runs: ``open_run(name)`` and the :class:`Run` it gives (pandas, manifest, persons)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from behaviorlab._registry import import_plugins
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
        manifest = store.manifest(rid)  # raises with the file name when the run is unknown
    finally:
        store.close()
    # the modules its spec listed under plugins: register what the report reads (metrics,
    # report blocks), as they did when the run was planned
    import_plugins(manifest.get("spec", {}).get("plugins", []) or [])
    return Run(rid, path)
