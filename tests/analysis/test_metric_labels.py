"""A family's metric names in the report's tables and sentences (issue 15 §2): OPeRA's
headline ``accuracy`` reads "exact match", as the paper calls it; results keep ``accuracy``."""

from __future__ import annotations

from typing import Any

from behaviorlab.analysis import gap
from behaviorlab.report._sections import metrics_table
from behaviorlab.report._terminal import gap_summary_lines, render_gap


def _rows(task: str) -> list[dict[str, Any]]:
    return [
        {
            "task": task,
            "person_id": f"p{p:02d}",
            "item_id": f"q{i}",
            "human_answer": "a",
            "answer": "a" if (p + i) % 2 else "b",
            "options": ["a", "b"],
            "simulator": sim,
            "condition": "full",
        }
        for p in range(8)
        for i in range(3)
        for sim in ("llm:mock", "majority")
    ]


def test_next_action_reports_exact_match(frame_of: Any) -> None:
    report = gap(frame_of(_rows("next_action")), n_resamples=50, metrics=["accuracy"])
    assert "accuracy" in report.metrics  # the metric keeps its name
    assert metrics_table(report).columns[-1] == "exact match\u00a0↑"
    assert str(render_gap(report).columns[-1].header) == "exact match ↑"
    assert "exact match is the metric accuracy" in (render_gap(report).caption or "")
    lines = " ".join(gap_summary_lines(report))
    assert "on exact match" in lines and "on accuracy" not in lines


def test_a_survey_keeps_accuracy(frame_of: Any) -> None:
    report = gap(frame_of(_rows("survey")), n_resamples=50, metrics=["accuracy"])
    assert metrics_table(report).columns[-1] == "accuracy\u00a0↑"
    assert "exact match" not in str(render_gap(report).caption)
