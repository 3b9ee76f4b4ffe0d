"""The survey family's report blocks: numeric and ordinal outcomes with their baselines, and
people's against the model's correctness on items with an answer key.

Shown in the report's metrics section when the run holds numeric questions (``type:
numeric``), ordered options (``ordered: true``) or keyed questions (``answer:``); nothing
otherwise, so a run of plain questions reads as before.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from behaviorlab.analysis import answer_key_agreement, numeric_outcomes
from behaviorlab.families.survey._values import CORRECTNESS_ONLY
from behaviorlab.report._document import Block, Heading, Paragraph, table
from behaviorlab.report._outcomes import KEY_LABELS, NUMERIC_LABELS, answer_key_lines, numeric_lines

if TYPE_CHECKING:
    from behaviorlab.report._collect import RunData


def _cell(value: Any, low: Any, high: Any) -> str:
    if not math.isfinite(float(value)):
        return "—"
    if not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return f"{float(value):.2f}"
    return f"{float(value):.2f} [{float(low):.2f}, {float(high):.2f}]"


def survey_blocks(data: RunData) -> list[Block]:
    """Its ``Family.report_blocks`` hook: :func:`numeric_blocks` and :func:`key_blocks`."""
    return numeric_blocks(data) + key_blocks(data)


def key_blocks(data: RunData, top: int = 5) -> list[Block]:
    """People's and the model's accuracy on keyed items, the item-difficulty correlation,
    the error-pattern kappa, and the items where they disagree most."""
    if "scores" not in data.frame.columns:
        return []
    keyed = [isinstance(s, dict) and "key_correct" in s for s in data.frame["scores"].tolist()]
    if not any(keyed):
        return []
    n_resamples = getattr(data.report, "n_resamples", 2000)
    report = answer_key_agreement(data.frame, n_resamples=n_resamples, seed=data.report.seed)
    if report.empty:
        return []
    rows = [
        (
            f"{r['simulator']} ({r['condition']})",
            KEY_LABELS.get(str(r["measure"]), str(r["measure"])),
            _cell(r["value"], r["low"], r["high"]),
            f"{r['n_items']} / {r['n_people']}",
        )
        for r in report.summary.to_dict(orient="records")
    ]
    worst = [
        (
            f"{r['simulator']} ({r['condition']})",
            str(r["item_id"]),
            f"{float(r['human_accuracy']):.0%}",
            f"{float(r['model_accuracy']):.0%}",
            f"{float(r['difference']):+.2f}",
        )
        for r in report.disagreements(top).to_dict(orient="records")
    ]
    blocks: list[Block] = [
        Heading("Answer key: people against the model"),
        table(("arm", "measure", "value", "items / people"), rows, numeric=("value",)),
        table(
            ("arm", "item", "people right", "model right", "difference"),
            worst,
            numeric=("people right", "model right", "difference"),
            caption=f"the {top} items per arm where people's and the model's accuracy differ most",
        ),
    ]
    notes = answer_key_lines(report, markup=False)
    only = sum(
        isinstance(m, dict) and bool(m.get(CORRECTNESS_ONLY))
        for m in (data.frame["meta"].tolist() if "meta" in data.frame.columns else [])
    )
    if only:
        notes.append(correctness_only_note(only))
    return blocks + [Paragraph(x, tone="note") for x in notes]


def correctness_only_note(n: int) -> str:
    """Why trials of correctness-only data have no accuracy against the person's option."""
    return (
        f"{n} trial{'s' if n != 1 else ''} come from correctness-only data: the people's chosen "
        "options are unknown, so they have no accuracy against the person's option (unscored in "
        "the gap table, not scored 0); they are compared here, by the key: whether the person "
        "and the model in their place were right"
    )


def numeric_blocks(data: RunData) -> list[Block]:
    """The numeric outcomes table, one row per arm and metric with the two baselines beside,
    and the notes (flat items, refused metrics)."""
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
                _cell(r["loo_mean"], r["loo_mean_low"], r["loo_mean_high"]),
                f"{r['n_items']} / {r['n_people']}",
            )
        )
    columns = (
        "arm",
        "metric",
        "value",
        "uniform over the range",
        "training people's mean",
        "other test people's mean (in-sample)",
    )
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
