"""Numbers and labels as the report shows them (the same conventions as the terminal table)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from behaviorlab.analysis import GapReport
from behaviorlab.report._terminal import DASH, LABELS, _num, metric_labels

EXTRA_LABELS = {"wasserstein": "Wasserstein"}


def label(metric: str) -> str:
    """Display name of a metric."""
    return LABELS.get(metric) or EXTRA_LABELS.get(metric, metric)


def header(report: GapReport, metric: str) -> str:
    """``accuracy ↑`` / ``log-loss ↓``."""
    arrow = "↑" if report.higher_is_better.get(metric, True) else "↓"
    # a family's own name for the metric (OPeRA's "exact match" for accuracy)
    shown = metric_labels(report.tasks).get(metric) or label(metric)
    return f"{shown}\u00a0{arrow}"  # no line break before the arrow


def finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def number(x: Any, digits: int = 2, *, signed: bool = False) -> str:
    """A number, or a dash when it is missing or not finite."""
    return _num(float(x), digits, signed) if finite(x) else DASH


def interval(value: Any, low: Any, high: Any, digits: int = 2, *, signed: bool = False) -> str:
    """``0.62 [0.55, 0.69]``; the value alone when the interval is missing; a dash when the
    value is."""
    if not finite(value):
        return DASH
    text = number(value, digits, signed=signed)
    if finite(low) and finite(high):
        return f"{text} [{number(low, digits)}, {number(high, digits)}]"
    return text


def pvalue(p: Any) -> str:
    """``0.023``, ``<0.001``, or a dash."""
    if not finite(p):
        return DASH
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def percent(x: Any) -> str:
    return f"{float(x):.0%}" if finite(x) else DASH


def arm(simulator: str, condition: str, task: str | None = None) -> str:
    """``llm:smollm2 · full`` (prefixed with the task when there are several)."""
    text = f"{simulator} · {condition}"
    return f"{task}: {text}" if task else text


def text(value: Any) -> str:
    """A cell from a data frame value (None / NaN become a dash)."""
    if value is None or value is pd.NA:
        return DASH
    if isinstance(value, float):
        return number(value) if math.isfinite(value) else DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def stacked(cell: str) -> str:
    """``0.62 [0.55, 0.69]`` as the value above its interval (narrower table columns; the
    Markdown summary puts it back on one line)."""
    value, sep, rest = cell.partition(" [")
    return f"{value}\n[{rest}" if sep else cell
