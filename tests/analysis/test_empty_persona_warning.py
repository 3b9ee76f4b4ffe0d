"""A persona condition on data whose persona is empty changes nothing, so its effect is an
exact zero; the terminal and the report warn instead of printing "+0.00 [0.00, 0.00]"
(issue 15 §3)."""

from __future__ import annotations

from typing import Any

import pytest

from behaviorlab.analysis import Estimate, GapReport, gap
from behaviorlab.report._sections import _persona_sentence
from behaviorlab.report._terminal import gap_summary_lines, persona_unchanged


def _rows(differ: bool) -> list[dict[str, Any]]:
    rows = []
    for p in range(12):
        for i in range(3):
            human = "a" if (p + i) % 3 else "b"
            for cond in ("full", "no_persona"):
                answer = human if (differ and cond == "full") else "a"
                rows.append(
                    {
                        "person_id": f"p{p:02d}",
                        "item_id": f"q{i}",
                        "human_answer": human,
                        "answer": answer,
                        "options": ["a", "b"],
                        "condition": cond,
                    }
                )
    return rows


@pytest.fixture
def empty(frame_of: Any) -> GapReport:
    return gap(frame_of(_rows(differ=False)), n_resamples=50, metrics=["accuracy"])


def test_an_exact_zero_persona_effect_warns(empty: GapReport) -> None:
    lines = [ln for ln in gap_summary_lines(empty) if "persona effect" in ln]
    assert lines and all(
        ln.startswith("warning: persona effect (full − no_persona)") for ln in lines
    )
    assert not any("+0.00 [0.00, 0.00]" in ln for ln in lines)
    assert "persona is probably empty" in lines[0]
    (effect,) = [e for e in empty.effects if e.kind == "persona"]
    assert "probably empty" in _persona_sentence(empty, effect)


def test_a_real_persona_effect_is_reported_as_before(frame_of: Any) -> None:
    report = gap(frame_of(_rows(differ=True)), n_resamples=50, metrics=["accuracy"])
    lines = [ln for ln in gap_summary_lines(report) if "persona effect" in ln]
    assert lines and lines[0].startswith("persona effect (full − no_persona), llm:mock: +")
    assert not persona_unchanged(Estimate(0.0, -0.01, 0.02, 5, 10, "b"))
    assert persona_unchanged(Estimate(0.0, 0.0, 0.0, 5, 10, "b"))


def test_every_trial_scoring_zero_is_not_called_an_empty_persona(frame_of: Any) -> None:
    """Review 15, defect 2: when every trial scores 0 under both conditions (the demo's
    exact match for a weak model) the persona could not change a score whatever it holds;
    the warning says that, names the metric, and each effect prints once."""
    rows = _rows(differ=False)
    for r in rows:
        r["answer"] = "b" if r["human_answer"] == "a" else "a"  # every answer wrong
    report = gap(frame_of(rows), n_resamples=50, metrics=["accuracy"])
    lines = [ln for ln in gap_summary_lines(report) if "persona effect" in ln]
    assert len(lines) == len(set(lines)) == 1
    assert lines[0].startswith("warning: persona effect (full − no_persona), llm:mock, accuracy")
    assert "every trial scored 0.00 accuracy under both conditions" in lines[0]
    assert "empty" not in lines[0]
    (effect,) = [e for e in report.effects if e.kind == "persona"]
    sentence = _persona_sentence(report, effect)
    assert "every trial scored 0.00" in sentence and "empty" not in sentence
