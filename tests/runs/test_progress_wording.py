"""The progress bar and the summary line count invalid answers the same way: before, the bar
said "450 failed" where the summary said "0 failed, 450 invalid" (issue 15 §3)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from behaviorlab.runs._progress import RunProgress, progress_status
from behaviorlab.runs._types import RunSummary


def test_the_bar_says_failed_and_invalid_apart() -> None:
    summary = RunSummary("r", Path("x"), planned=450, invalid=450, cache_hits=3, cache_misses=7)
    assert progress_status(summary) == "cache 3/10 · 0 failed, 450 invalid"
    both = RunSummary("r", Path("x"), planned=10, failed=2, invalid=1)
    assert progress_status(both).endswith("· 2 failed, 1 invalid")


def test_the_bar_shows_it() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None, force_terminal=False)
    summary = RunSummary("r", Path("x"), planned=4, completed=4, invalid=4)
    with RunProgress("run", console=console) as bar:
        bar.on_progress(summary, 0)
    assert "0 failed, 4 invalid" in out.getvalue() and "4 failed" not in out.getvalue()
