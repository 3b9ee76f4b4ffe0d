"""Stored runs: ``open_run(name)`` and the :class:`Run` it gives (pandas, manifest, persons)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from behaviorlab._registry import import_plugins
from behaviorlab.runs._types import RunSummary
from behaviorlab.store._sqlite import ResultStore
from behaviorlab.tasks._parties import turn_rows


@dataclass
class Run:
    """A run's results on disk: open them as pandas, read the manifest, compute the gap."""

    run_id: str
    results_path: Path
    summary: RunSummary | None = None

    def to_pandas(self, per: Literal["trial", "turn"] = "trial") -> pd.DataFrame:
        """One row per trial (columns: see ``behaviorlab.store.TrialResult``), or with
        ``per="turn"`` one row per turn of the multi-party trials (their speaker role, what it
        saw and answered, tokens, cost and per-turn scores: see ``behaviorlab.analysis.turns``).
        """
        if per not in ("trial", "turn"):
            raise ValueError(f"per must be 'trial' or 'turn', not {per!r}")
        with ResultStore(self.results_path, readonly=True) as store:
            frame = store.to_pandas(self.run_id)
        if per == "turn":
            return turn_rows(frame)
        return frame

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
