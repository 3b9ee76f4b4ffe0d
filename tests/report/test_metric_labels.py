"""A family's display name for a metric reaches every report, not only the terminal: OPeRA's
headline reads "exact match" for ``accuracy`` in Markdown and HTML too (issue 15 §2)."""

from __future__ import annotations

from types import SimpleNamespace

from behaviorlab.report._format import header


def test_a_familys_metric_label_is_the_report_header() -> None:
    opera = SimpleNamespace(tasks=["next_action"], higher_is_better={"accuracy": True})
    survey = SimpleNamespace(tasks=["survey"], higher_is_better={"accuracy": True})
    assert header(opera, "accuracy") == "exact match\u00a0↑"  # type: ignore[arg-type]
    assert header(survey, "accuracy") == "accuracy\u00a0↑"  # type: ignore[arg-type]
