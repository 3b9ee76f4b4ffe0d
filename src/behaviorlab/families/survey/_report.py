"""The survey family's report block: numeric and ordinal outcomes, with their baselines.

Shown in the report's metrics section when the run holds numeric questions (``type:
numeric``) or ordered options (``ordered: true``); nothing otherwise, so a run of plain
questions reads as before.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from behaviorlab.analysis import numeric_outcomes
from behaviorlab.report._document import Block, Heading, Paragraph, table
from behaviorlab.report._terminal import NUMERIC_LABELS, numeric_lines

if TYPE_CHECKING:
    from behaviorlab.report._collect import RunData


def _cell(value: Any, low: Any, high: Any) -> str:
    if not math.isfinite(float(value)):
        return "—"
    if not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return f"{float(value):.2f}"
    return f"{float(value):.2f} [{float(low):.2f}, {float(high):.2f}]"


def numeric_blocks(data: RunData) -> list[Block]:
    """Its ``Family.report_blocks`` hook: the numeric outcomes table, one row per arm and
    metric with the two baselines beside, and the notes (flat items, refused metrics)."""
    if "meta" not in data.frame.columns:
        return []
    n_resamples = getattr(data.report, "n_resamples", 2000)
    outcomes = numeric_outcomes(data.frame, n_resamples=n_resamples, seed=data.report.seed)
    if outcomes.empty:
        return []
    rows = []
    for r in outcomes.table.to_dict(orient="records"):
        if not math.isfinite(float(r["value"])):
            continue
        rows.append(
            (
                f"{r['simulator']} ({r['condition']})",
                NUMERIC_LABELS.get(str(r["metric"]), str(r["metric"])),
                _cell(r["value"], r["low"], r["high"]),
                _cell(r["uniform"], r["uniform_low"], r["uniform_high"]),
                _cell(r["people_mean"], r["people_mean_low"], r["people_mean_high"]),
                f"{r['n_items']} / {r['n_people']}",
            )
        )
    columns = ("arm", "metric", "value", "uniform over the range", "other people's mean")
    blocks: list[Block] = [
        Heading("Numeric outcomes"),
        table(
            (*columns, "items / people"),
            rows,
            numeric=columns[2:],
            caption=f"{round(outcomes.level * 100)}% intervals from a bootstrap over people; "
            "per item across people, then averaged over items (MAE and accuracy over trials)",
        ),
    ]
    blocks += [Paragraph(line, tone="note") for line in numeric_lines(outcomes, markup=False)]
    return blocks
