"""The terminal rendering of the gap report (behaviorlab.report._terminal)."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from rich.console import Console

from behaviorlab.analysis import Estimate, GapReport, gap
from behaviorlab.report._terminal import format_estimate, gap_summary_lines, render_gap

NUM = r"[+−]?\d\.\d\d"
CI = rf"{NUM} \[{NUM}, {NUM}\]"


@pytest.fixture(scope="module")
def report(results: pd.DataFrame) -> GapReport:
    return gap(results, n_resamples=100)


def _text(report: GapReport) -> str:
    console = Console(width=250, record=True, color_system=None)
    console.print(render_gap(report))
    return console.export_text()


@pytest.mark.parametrize(
    ("est", "signed", "text"),
    [
        (Estimate(0.62, 0.55, 0.69, 10, 100, "b"), False, "0.62 [0.55, 0.69]"),
        (Estimate(0.03, -0.05, 0.11, 10, 100, "b"), True, "+0.03 [−0.05, 0.11]"),
        (Estimate(-0.121, -0.2, -0.04, 10, 100, "b"), True, "−0.12 [−0.20, −0.04]"),
        (Estimate(-0.001, -0.004, 0.002, 10, 100, "b"), False, "0.00 [0.00, 0.00]"),
        (Estimate(math.nan, math.nan, math.nan, 0, 0, "b"), False, "—"),
        (None, False, "—"),
    ],
)
def test_format_estimate(est: Estimate | None, signed: bool, text: str) -> None:
    assert format_estimate(est, signed=signed) == text


def test_table_has_a_column_per_metric_and_dashes_where_missing(report: GapReport) -> None:
    table = render_gap(report)
    headers = [str(c.header) for c in table.columns]
    assert headers[:5] == ["simulator", "condition", "n", "failed", "invalid"]
    assert "accuracy ↑" in headers and "log-loss ↓" in headers and "JS distance ↓" in headers
    assert table.row_count == len(report.rows)
    text = _text(report)
    argmax_line = next(line for line in text.splitlines() if "llm:argmax" in line)
    assert argmax_line.count("—") == 4
    assert re.search(CI, argmax_line)


def test_summary_lines(report: GapReport) -> None:
    lines = gap_summary_lines(report)
    assert any(
        re.fullmatch(rf"persona effect \(full − shuffled_persona\), llm:probs: {CI} accuracy", x)
        for x in lines
    ), lines
    assert any(x.startswith("human split-half noise floor (JS distance): ") for x in lines)
    missing = next(x for x in lines if x.startswith("JS distance, TV distance: — for"))
    assert "llm:argmax (full)" in missing and "collapses to the mode" in missing
    assert any("best LLM simulator llm:probs" in x for x in lines)
    assert any("failed (backend or timeout)" in x for x in lines)


def test_says_plainly_when_a_baseline_beats_every_llm(results: pd.DataFrame) -> None:
    weak = results[
        (results["simulator"] == "majority")
        | ((results["simulator"] == "llm:probs") & (results["condition"] != "full"))
    ]
    lines = gap_summary_lines(gap(weak, n_resamples=100, metrics=["accuracy"]))
    line = next(x for x in lines if "every LLM simulator" in x)
    assert line.startswith("baseline majority beats every LLM simulator on accuracy: ")
    assert "on the same trials" in line


def test_position_bias_line(results: pd.DataFrame) -> None:
    biased = results.copy()
    chosen = (biased["simulator"] == "llm:probs") & biased["answer_position"].notna()
    biased.loc[chosen, "answer_position"] = 0
    lines = gap_summary_lines(gap(biased, n_resamples=100, metrics=["accuracy"]))
    line = next(x for x in lines if x.startswith("position bias, llm:probs (full)"))
    assert "position 1 is chosen 100%" in line and "33% if position were ignored" in line
    assert not any(x.startswith("position bias, majority") for x in lines)


def test_several_tasks_are_labelled(results: pd.DataFrame) -> None:
    both = pd.concat([results, results.assign(task="other")], ignore_index=True)
    rep = gap(both, n_resamples=50, metrics=["accuracy", "js_distance"])
    assert str(render_gap(rep).columns[0].header) == "task"
    lines = gap_summary_lines(rep)
    assert any(x.startswith("other: human split-half") for x in lines)
    console = Console(width=1000, record=True, color_system=None)
    for line in lines:  # printed through Rich unchanged: nothing is read as markup
        console.print(line)
    assert console.export_text().splitlines() == lines


def test_a_narrow_terminal_gets_one_row_per_arm_and_metric(report: GapReport) -> None:
    console = Console(width=80, record=True, color_system=None)
    console.print(render_gap(report))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for word in ("llm:argmax", "shuffled_persona", "majority", "JS distance ↓", "trials"):
        assert word in text
    assert re.search(rf"accuracy ↑ +│ +{CI}", text)


def test_lines_for_comparisons_yardsticks_and_small_samples(results: pd.DataFrame) -> None:
    ids = sorted(results["person_id"].unique())
    persons = pd.DataFrame({"person_id": ids, "half": ["x"] * 15 + ["y"] * 15})
    rep = gap(results, persons=persons, n_resamples=100, n_flips=1000, epsilon=0.3)
    lines = gap_summary_lines(rep)
    assert any(x.startswith("no human ceiling: ") for x in lines)
    line = next(x for x in lines if x.startswith("paired comparisons: "))
    assert "after Holm correction" in line and "llm:probs (full) − majority (full)" in line
    assert any(
        x.startswith("majority (full): answer distribution within 0.3 of people's") for x in lines
    )
    assert any(x.startswith("accuracy, log-loss, Brier: cluster-robust t intervals") for x in lines)
    console = Console(width=2000, record=True, color_system=None)
    for x in lines:
        console.print(x)
    assert console.export_text().splitlines() == lines
