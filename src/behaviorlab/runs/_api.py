"""The Python API of runs: ``bl.run(spec)`` and ``bl.open_run(name)``."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from behaviorlab.runs._lifecycle import run_async
from behaviorlab.runs._spec import ExperimentSpec, load_spec
from behaviorlab.runs._stored import Run, open_run
from behaviorlab.runs._types import RunSummary


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


__all__ = ["Run", "open_run", "run"]
