"""The choices part of the report: only for runs of the ``choice`` task.

Per simulator and condition, the share of choosers picking each option, the people's against
the simulated, and their difference, each with a 95% interval clustered by person
(:func:`behaviorlab.analysis.choice_shares`), with the counts of failed and off-format trials.
"""

from __future__ import annotations

import math

import pandas as pd

from behaviorlab.families.choice._metrics import choice_shares
from behaviorlab.families.choice._task import CHOICE
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Block, Heading, Table, table


def _ci(value: float, low: float, high: float, *, signed: bool = False) -> str:
    if not math.isfinite(value):
        return "—"
    sign = "+" if signed and value > 0 else ""
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{sign}{value:.2f}"
    return f"{sign}{value:.2f} [{low:.2f}, {high:.2f}]"


def shares_table(shares: pd.DataFrame, baselines: set[str]) -> Table:
    """One row per (simulator, condition, option): human, simulated and difference."""
    columns = ["simulator", "condition", "option", "people", "simulated", "simulated − people"]
    columns += ["source", "failed", "off-format"]
    rows: list[list[str]] = []
    base: list[int] = []
    for _, r in shares.iterrows():
        if r["simulator"] in baselines:
            base.append(len(rows))
        rows.append(
            [
                str(r["simulator"]),
                str(r["condition"]),
                str(r["option"]),
                _ci(r["human"], r["human_low"], r["human_high"]),
                _ci(r["simulated"], r["simulated_low"], r["simulated_high"]),
                _ci(r["difference"], r["difference_low"], r["difference_high"], signed=True),
                str(r["source"]),
                str(int(r["n_failed"])),
                str(int(r["n_invalid"])),
            ]
        )
    return table(
        columns,
        rows,
        numeric=("people", "simulated", "simulated − people", "failed", "off-format"),
        code=("option",),
        baseline_rows=base,
        caption=(
            "Share of choosers picking each option: the real people's and the simulated "
            "(from probabilities where the simulator gives them, else from its choices), "
            "[95% interval clustered by person]."
        ),
    )


def choice_blocks(data: RunData) -> list[Block]:
    """The choice-share table of a run (nothing when it has no choice trials)."""
    frame = data.frame
    if frame.empty or "task" not in frame.columns:
        return []
    if not (frame["task"].astype(str) == CHOICE).any():
        return []
    n_resamples = int(data.manifest.get("spec", {}).get("n_resamples", 2000))
    shares = choice_shares(frame, n_resamples=n_resamples)
    if shares.empty:
        return []
    baselines = {r.simulator for r in data.report.rows if r.baseline}
    return [
        Heading("Choices: shares per option, people against simulated"),
        shares_table(shares, baselines),
    ]
