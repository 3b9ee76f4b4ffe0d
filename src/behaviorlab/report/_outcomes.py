"""The numeric-outcome and answer-key tables in the terminal (:func:`render_numeric`,
:func:`render_answer_key`) and their notes, in the gap table's cell format."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from behaviorlab.analysis import AnswerKeyReport, Estimate, NumericOutcomes
from behaviorlab.report._terminal import DASH, _arm, _EstimateCell, _num

NUMERIC_LABELS = {
    "correlation": "correlation ↑",
    "correlation_flat0": "corr., flat = 0 ↑",
    "std_ratio": "std ratio (1)",
    "glass_delta": "Glass's Δ (0)",
    "glass_delta_abs": "mean |Δ| ↓",
    "mae": "MAE ↓",
    "accuracy": "accuracy ↑",
    "expected_accuracy": "expected acc. ↑",
    "median_accuracy": "median acc. ↑",
}
"""Column headers of the numeric outcomes table (in brackets: the best value)."""
BASELINE_NAMES = {
    "uniform": "uniform over the range",
    "people_mean": "training people's mean",
    "loo_mean": "other test people's mean (in-sample)",
}


def _numeric_cell(row: Mapping[Any, Any], prefix: str = "") -> _EstimateCell:
    """A metric's cell (``prefix`` "": the arm's value; else that baseline's)."""
    name = prefix or "value"
    low, high = (row[f"{prefix}_{end}" if prefix else end] for end in ("low", "high"))
    est = Estimate(float(row[name]), float(low), float(high), 0, 0, "cluster-bootstrap")
    return _EstimateCell(est)


def render_numeric(outcomes: NumericOutcomes | None) -> RenderableType | None:
    """The numeric and ordinal outcomes (:func:`behaviorlab.analysis.numeric_outcomes`): one
    row per arm, one column per metric, and under each task's arms the baselines in italics
    (uniform answers over the range, the training people's mean, the other test people's
    mean) for MAE and accuracy.
    None when there is no numeric trial."""
    if outcomes is None or outcomes.empty:
        return None
    data = outcomes.table
    shown = [
        m
        for m in NUMERIC_LABELS
        if pd.to_numeric(data.loc[data["metric"] == m, "value"]).notna().any()
    ]
    many_tasks = data["task"].nunique() > 1
    table = Table(
        title="Numeric outcomes",
        caption=(
            f"{round(outcomes.level * 100)}% intervals from a bootstrap over people "
            f"({outcomes.n_resamples} resamples), per item across people then averaged over "
            "items (MAE and accuracy over trials); std ratio = twins' spread ÷ people's (best "
            "1), Glass's Δ = (twins' mean − people's) ÷ people's std (best 0); italic rows "
            "are baselines on the same trials"
        ),
        header_style="bold",
    )
    if many_tasks:
        table.add_column("task", no_wrap=True)
    table.add_column("simulator", no_wrap=True)
    table.add_column("condition", no_wrap=True)
    table.add_column("people", justify="right", no_wrap=True)
    for m in shown:
        table.add_column(NUMERIC_LABELS[m], justify="right")
    for task, in_task in data.groupby("task", sort=True):
        arms = in_task.groupby(["simulator", "condition"], sort=True)
        widest: dict[str, Mapping[Any, Any]] = {}
        for (sim, cond), arm in arms:
            by_metric: dict[str, Mapping[Any, Any]] = {
                str(r["metric"]): r for r in arm.to_dict(orient="records")
            }
            first = next(iter(by_metric.values()))
            cells: list[RenderableType] = [str(task)] if many_tasks else []
            cells += [str(sim), str(cond), str(first["n_people"])]
            cells += [_numeric_cell(by_metric[m]) for m in shown]
            table.add_row(*cells)
            if not widest or first["n"] > next(iter(widest.values()))["n"]:
                widest = by_metric
        for base, name in BASELINE_NAMES.items():
            if not any(math.isfinite(float(widest[m][base])) for m in shown if m in widest):
                continue  # e.g. no train_mean arm: the note says so
            cells = [str(task)] if many_tasks else []
            cells += [name, "", ""]
            cells += [
                _numeric_cell(widest[m], base) if m in ("mae", "accuracy") else Text(DASH)
                for m in shown
            ]
            table.add_row(*cells, style="italic")
    return table


def numeric_lines(outcomes: NumericOutcomes | None, *, markup: bool = True) -> list[str]:
    """Sentences under the numeric table: items where the twins' values do not vary, and
    range-based metrics refused for questions without a range (naming where to add it).
    With ``markup`` (for Rich), brackets are escaped."""
    if outcomes is None or outcomes.empty:
        return []
    notes: dict[tuple[str, str], list[str]] = {}  # (arm, note) -> metrics
    data = outcomes.table
    for r in data.loc[data["note"].astype(str) != ""].to_dict(orient="records"):
        what = NUMERIC_LABELS.get(str(r["metric"]), str(r["metric"])).rstrip(" ↑↓()01")
        arm = _arm(str(r["simulator"]), str(r["condition"]))
        notes.setdefault((arm, str(r["note"])), []).append(what)
    # printed through Rich: the brackets of "range: [lo, hi]" are escaped, not markup
    lines = [f"{arm}: {', '.join(what)}: {note}" for (arm, note), what in notes.items()]
    return [escape(line) for line in lines] if markup else lines


KEY_LABELS = {
    "human_accuracy": "people's accuracy",
    "model_accuracy": "model's accuracy",
    "difficulty_pearson": "item difficulty r",
    "difficulty_spearman": "item difficulty ρ",
    "kappa": "error-pattern κ",
    "kappa_pooled": "pooled κ",
}
"""Column headers of the answer-key table."""


def render_answer_key(report: AnswerKeyReport | None, top: int = 3) -> RenderableType | None:
    """People's against the model's correctness (:func:`behaviorlab.analysis.
    answer_key_agreement`): one row per arm (accuracies, item-difficulty correlations, the
    mean per-person kappa), then the items where they disagree most. None without keyed
    trials."""
    if report is None or report.empty:
        return None
    data = report.summary
    shown = [m for m in KEY_LABELS if (data["measure"] == m).any()]
    table = Table(
        title="Answer key: people against the model",
        caption=(
            "accuracies and κ: intervals from a bootstrap over people; item difficulty: over "
            "items; κ = Cohen's kappa of person and model being right, per person over the "
            "items both answered, averaged; pooled κ = over every person-item pair at once "
            "(no one left out; it is the one that estimates a population's kappa)"
        ),
        header_style="bold",
    )
    table.add_column("simulator", no_wrap=True)
    table.add_column("condition", no_wrap=True)
    for m in shown:
        table.add_column(KEY_LABELS[m], justify="right")
    for (sim, cond), arm in data.groupby(["simulator", "condition"], sort=True):
        by = {str(r["measure"]): r for r in arm.to_dict(orient="records")}
        cells: list[RenderableType] = [str(sim), str(cond)]
        cells += [_numeric_cell(by[m]) if m in by else Text(DASH) for m in shown]
        table.add_row(*cells)
    worst = report.disagreements(top)
    items = Table(title=f"Items where they disagree most (top {top})", header_style="bold")
    for name in ("simulator", "item", "people right", "model right", "difference"):
        items.add_column(name, justify="left" if name in ("simulator", "item") else "right")
    for r in worst.to_dict(orient="records"):
        items.add_row(
            str(r["simulator"]),
            str(r["item_id"]),
            f"{float(r['human_accuracy']):.0%}",
            f"{float(r['model_accuracy']):.0%}",
            _num(float(r["difference"]), 2, signed=True),
        )
    return Group(table, items)


def answer_key_lines(report: AnswerKeyReport | None, *, markup: bool = True) -> list[str]:
    """The notes of the answer-key table (people without a kappa and why, what the pooled
    kappa is), each after its measure's label."""
    if report is None or report.empty:
        return []
    data = report.summary
    lines = [
        f"{_arm(str(r['simulator']), str(r['condition']))}: "
        f"{KEY_LABELS.get(str(r['measure']), str(r['measure']))}: {r['note']}"
        for r in data.loc[data["note"].astype(str) != ""].to_dict(orient="records")
    ]
    return [escape(line) for line in lines] if markup else lines
