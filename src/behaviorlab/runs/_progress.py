"""A Rich progress bar for runs: trials done / planned, elapsed, cache hits, failures."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from behaviorlab.runs._types import Plan, RunSummary


def progress_status(summary: RunSummary) -> str:
    """The bar's status: cache hits, then failed and invalid trials counted apart, in the
    words of the run's summary line ("0 failed, 450 invalid")."""
    calls = summary.cache_hits + summary.cache_misses
    return (
        f"cache {summary.cache_hits}/{calls} · {summary.failed} failed, {summary.invalid} invalid"
    )


class RunProgress:
    """Use as ``on_plan``/``on_progress`` hooks of :func:`behaviorlab.runs.run_async`."""

    def __init__(self, name: str, console: Console | None = None) -> None:
        self.name = name
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(compact=True),
            TextColumn("{task.fields[status]}"),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task(name, total=None, status="loading data")

    def __enter__(self) -> RunProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)

    def on_plan(self, plan: Plan) -> None:
        self._progress.update(self._task, total=plan.planned, status="starting")

    def on_progress(self, summary: RunSummary, remaining: int) -> None:
        status = progress_status(summary)
        self._progress.update(
            self._task,
            completed=summary.already_done + summary.completed,
            status=status,
        )
