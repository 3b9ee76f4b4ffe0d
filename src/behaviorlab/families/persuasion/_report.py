"""The persuasion part of the report: only for runs of the ``persuasion`` task.

The yardstick first (the test people's test–retest agreement, or a sentence saying the data
has no retest pair), then per simulator and condition the people's and the twin's change
rates, change accuracy and its gain over the base rate, direction accuracy among people who
changed, the correlation of strength changes and the Brier score of P(change), each with a
95% interval clustered by person; then the calibration of P(change) where it exists.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from behaviorlab.analysis._bootstrap import Estimate
from behaviorlab.families.persuasion._metrics import calibration_table, persuasion_table
from behaviorlab.families.persuasion._task import ARM_ARGUMENTS, ARM_RETEST, PERSUASION
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Block, Heading, Paragraph, Table, table


def _ci(e: Estimate | dict[str, Any] | float | None, *, signed: bool = False) -> str:
    if not isinstance(e, Estimate | dict):  # None, or NaN where pandas filled a gap
        return "—"
    d = e.to_dict() if isinstance(e, Estimate) else e
    value, low, high = d.get("value"), d.get("low"), d.get("high")
    if value is None:
        return "—"
    sign = "+" if signed and value > 0 else ""
    if low is None or high is None:
        return f"{sign}{value:.2f}"
    return f"{sign}{value:.2f} [{low:.2f}, {high:.2f}]"


def yardstick_text(task_info: dict[str, Any]) -> str:
    """The test–retest sentence of a run's manifest ``task_info``."""
    retest = task_info.get("retest") or {}
    pairs, gaps = int(retest.get("pairs", 0)), int(retest.get("gap_pairs", 0))
    skipped = (
        f" {gaps} pairs with nothing shown that skip a time point other people answered are "
        "left out (something may have been shown then), and are not trials."
        if gaps
        else ""
    )
    if not pairs:
        return (
            "Yardstick: no test person answered the same item twice with nothing shown in "
            "between, so this data gives no test–retest agreement to compare the twins with."
            + skipped
        )
    return (
        f"Yardstick (test–retest): in {pairs} pairs of answers of {retest.get('people')} test "
        "people who were asked the same item twice with nothing shown in between, the share "
        f"who kept their stance was {_ci(retest.get('same_stance'))} and who gave the same "
        f"stance and strength {_ci(retest.get('same_answer'))} (95% intervals clustered by "
        "person)."
        + skipped
        + " A twin's change accuracy is bounded by how consistently people repeat themselves."
    )


def metrics_table(frame: pd.DataFrame, baselines: set[str]) -> Table:
    """One row per (simulator, condition) of :func:`persuasion_table`'s frame."""
    columns = ["simulator", "condition", "people changed", "twin changed", "change acc."]
    columns += ["over base", "direction", "direction (both moved)", "strength r"]
    columns += ["Brier P(change)", "trials"]
    rows: list[list[str]] = []
    base: list[int] = []
    for _, r in frame.iterrows():
        if r["simulator"] in baselines:
            base.append(len(rows))
        rows.append(
            [
                str(r["simulator"]),
                str(r["condition"])
                + (" (retest)" if r.get("arm", ARM_ARGUMENTS) == ARM_RETEST else ""),
                _ci(r["human_change_rate"]),
                _ci(r["twin_change_rate"]),
                _ci(r["change_accuracy"]),
                _ci(r["change_over_base"], signed=True),
                _ci(r["direction_accuracy"]),
                _ci(r.get("direction_both_changed")),
                _ci(r["strength_change_r"]),
                _ci(r["change_brier"]),
                f"{int(r['n'])} ({int(r['n_people'])} people)",
            ]
        )
    return table(
        columns,
        rows,
        numeric=tuple(columns[2:]),
        baseline_rows=base,
        caption=(
            "Change of stance from the person's own prior answer: the people's rate and the "
            "twin's; change accuracy (changed vs not) and its gain over the base rate (the "
            "majority class's share); direction accuracy among the people who changed (a twin "
            "that stayed counts as wrong) and among the trials where both moved; the "
            "correlation of strength changes; Brier score of the probability of change "
            "(simulators with option probabilities). Rows marked (retest) are the retest "
            "trials: nothing was shown since the prior answer, so a good twin mostly stays. "
            "[95% interval clustered by person]."
        ),
    )


def calibration_block(cal: pd.DataFrame) -> Table:
    rows = [
        [
            str(r["simulator"]),
            str(r["condition"]),
            str(r["bin"]),
            str(int(r["n"])),
            f"{r['predicted']:.2f}",
            _ci(r["observed_ci"]),
        ]
        for _, r in cal.iterrows()
    ]
    return table(
        ["simulator", "condition", "P(change)", "trials", "mean predicted", "people changed"],
        rows,
        numeric=("trials", "mean predicted", "people changed"),
        caption="Calibration of the probability of change: per bin of the predicted "
        "probability, the mean prediction against the share of people who changed [95% "
        "interval clustered by person].",
    )


def persuasion_blocks(data: RunData) -> list[Block]:
    """The persuasion blocks of a run (nothing when it has no persuasion trials)."""
    frame = data.frame
    if frame.empty or "task" not in frame.columns:
        return []
    if not (frame["task"].astype(str) == PERSUASION).any():
        return []
    n_resamples = int(data.manifest.get("spec", {}).get("n_resamples", 2000))
    summary = persuasion_table(frame, n_resamples=n_resamples)
    blocks: list[Block] = [
        Heading("Persuasion: did the twin change its mind as the person did?"),
        Paragraph(yardstick_text(dict(data.manifest.get("task_info") or {}))),
    ]
    if summary.empty:
        return [*blocks, Paragraph("No valid persuasion trial to summarise.")]
    baselines = {r.simulator for r in data.report.rows if r.baseline}
    blocks.append(metrics_table(summary, baselines))
    cal = calibration_table(frame, n_resamples=n_resamples)
    if not cal.empty:
        blocks.append(calibration_block(cal))
    return blocks
