"""The shares part of the report: only for runs of the ``shares`` task.

Per simulator and condition, JS, TV and the SimBench score averaged over items, each with its
95% interval (items resampled as clusters, the people redrawn given n) and the noise floor (a
perfect simulator's value from the people's sampling noise), the uniform baseline beside; then
the units the score leaves out because their people are near uniform.
"""

from __future__ import annotations

import math

import pandas as pd

from behaviorlab.families.shares._effects import share_effects
from behaviorlab.families.shares._metrics import (
    TV_UNIFORM_MIN,
    UNIFORM,
    arm_units,
    share_items,
    share_scores,
)
from behaviorlab.families.shares._task import SHARES
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Block, Bullets, Heading, Paragraph, Table, table

FEW_ITEMS = 10
"""Below this many items, the block warns that intervals over items are rough."""


def _num(value: float, digits: int) -> str:
    """``value`` rounded, with a true minus sign and no negative zero."""
    text = f"{round(value, digits) + 0.0:.{digits}f}"
    return text.replace("-", "−")


def _ci(value: float, low: float, high: float, digits: int) -> str:
    if not math.isfinite(value):
        return "—"
    if not (math.isfinite(low) and math.isfinite(high)):
        return _num(value, digits)
    return f"{_num(value, digits)} [{_num(low, digits)}, {_num(high, digits)}]"


def _estimate(r: pd.Series, m: str, digits: int) -> str:
    """The estimate with its interval, or with its one-sided bound at the noise floor."""
    value, low, high = r[m], r[f"{m}_low"], r[f"{m}_high"]
    if not bool(r.get(f"{m}_at_floor", False)) or not math.isfinite(value):
        return _ci(value, low, high, digits)
    if m == "simbench_score":
        return f"{_num(value, digits)} [≥ {_num(low, digits)}]"
    return f"{_num(value, digits)} [≤ {_num(high, digits)}]"


def _at_floor(scores: pd.DataFrame) -> list[str]:
    """'simulator (condition): metrics' for the rows with a metric at the noise floor."""
    names = {"share_js": "JS", "share_tv": "TV", "simbench_score": "score"}
    out = []
    for _, r in scores.iterrows():
        hit = [names[m] for m in names if bool(r.get(f"{m}_at_floor", False))]
        if hit and r["simulator"] != UNIFORM:
            out.append(f"{r['simulator']} ({r['condition']}): {', '.join(hit)}")
    return out


def _units(r: pd.Series) -> str:
    text = str(int(r["n_units"]))
    if int(r["n_items"]) != int(r["n_units"]):
        text += f" ({int(r['n_items'])})"
    return text + (f" −{int(r['n_excluded'])}" if r["n_excluded"] else "")


def scores_table(scores: pd.DataFrame) -> Table:
    """One row per (simulator, condition); the noise floor in its own columns."""
    columns = ["simulator", "condition", "units", "JS ↓", "TV ↓", "score ↑", "floor JS/TV/score"]
    rows: list[list[str]] = []
    base: list[int] = []
    for _, r in scores.iterrows():
        if bool(r["baseline"]):
            base.append(len(rows))
        floor = "/".join(
            "—" if not math.isfinite(r[f"{m}_floor"]) else _num(r[f"{m}_floor"], d)
            for m, d in (("share_js", 2), ("share_tv", 2), ("simbench_score", 0))
        )
        rows.append(
            [
                str(r["simulator"]),
                str(r["condition"]),
                _units(r),
                _estimate(r, "share_js", 2),
                _estimate(r, "share_tv", 2),
                _estimate(r, "simbench_score", 0),
                floor,
            ]
        )
    return table(
        columns,
        rows,
        numeric=("units", "JS ↓", "TV ↓", "score ↑", "floor JS/TV/score"),
        baseline_rows=base,
        caption=(
            "Per item, the people's shares against the simulated distribution, averaged over "
            "units (items, or items and groups; in parentheses, the number of items): "
            "JS distance, total variation, and SimBench's score "
            "100·(1 − TV/TV to uniform) (0 = uniform, 100 = the people's; may be negative). "
            "[95% interval: items resampled as clusters, each item's people redrawn given n, "
            "inverted so that it holds at the noise floor; [≤ x] / [≥ x]: at the noise floor, "
            "a one-sided bound.] "
            "The floor is what a perfect simulator would get from the people's sampling noise "
            "(and its own, when its distribution comes from samples). "
            f"−k: units left out of the score, their people within {TV_UNIFORM_MIN} "
            f"(TV) of uniform. '{UNIFORM}' is computed, not run."
        ),
    )


def _signed(value: float, low: float, high: float, digits: int) -> str:
    if not math.isfinite(value):
        return "—"
    text = _ci(value, low, high, digits)
    return ("+" if round(value, digits) > 0 else "") + text


def effects_table(effects: pd.DataFrame) -> Table:
    """One row per (simulator, control): full minus the control on each share metric."""
    columns = ["simulator", "full − control", "units", "JS", "TV", "score"]
    rows = [
        [
            str(r["simulator"]),
            f"full − {r['control']}",
            str(int(r["n_units"])),
            *(
                _signed(r[f"{m}_difference"], r[f"{m}_low"], r[f"{m}_high"], d)
                for m, d in (("share_js", 2), ("share_tv", 2), ("simbench_score", 0))
            ),
        ]
        for _, r in effects.iterrows()
    ]
    return table(
        columns,
        rows,
        numeric=("units", "JS", "TV", "score"),
        caption=(
            "What the persona (the group) changes: full minus the control on the same units, "
            "[95% paired interval: the same item draws and redrawn people for both arms]. "
            "A negative JS / TV difference or a positive score difference favours full."
        ),
    )


def _without_distribution(frame: pd.DataFrame) -> list[str]:
    """'simulator (condition): k of n' for arms whose valid trials lack a distribution."""
    shares = frame.loc[frame["task"].astype(str) == SHARES]
    out = []
    for (sim, cond), group in shares.groupby(["simulator", "condition"], sort=True):
        units, missing = arm_units(group)
        if missing:
            out.append(f"{sim} ({cond}): {missing} of {missing + len(units.ids)}")
    return out


def shares_blocks(data: RunData) -> list[Block]:
    """The share table of a run and its excluded items (nothing without shares trials)."""
    frame = data.frame
    if frame.empty or "task" not in frame.columns:
        return []
    if not (frame["task"].astype(str) == SHARES).any():
        return []
    n_resamples = int(data.manifest.get("spec", {}).get("n_resamples", 2000))
    baselines = {r.simulator for r in data.report.rows if r.baseline} | {UNIFORM}
    scores = share_scores(frame, baselines=lambda s: s in baselines, n_resamples=n_resamples)
    if scores.empty:
        return [
            Heading("Shares: distributions per item"),
            Paragraph(
                "No trial has a distribution (use answer: score or sample, or a baseline "
                "with probabilities).",
                tone="missing",
            ),
        ]
    blocks: list[Block] = [Heading("Shares: distributions per item"), scores_table(scores)]
    floored = _at_floor(scores)
    if floored:
        blocks.append(
            Paragraph(
                "At the noise floor (the people's sampling noise alone would give estimates as "
                "far from them, so these cannot be told from a perfect simulator; the estimate "
                "is inflated by that noise and the bracket is a one-sided 95% bound on the "
                "true value, [≤ x] for a distance, [≥ x] for the score): "
                + "; ".join(floored)
                + ".",
                tone="note",
            )
        )
    few_samples = [
        f"{r['simulator']} ({r['condition']}): {r['n_samples']:g} samples per unit against "
        f"a median n of {r['median_n']:g} people (TV floor with them "
        f"{r['share_tv_floor']:.2f})"
        for _, r in scores.iterrows()
        if 0 < r["n_samples"] < r["median_n"]
    ]
    if few_samples:
        blocks.append(
            Paragraph(
                "Distributions from fewer samples than people asked: the simulator's own "
                "sampling noise is in its intervals and raises its noise floor, so even a "
                "perfect simulator sits far from the people; give more samples or use "
                "answer: score. " + "; ".join(few_samples) + ".",
                tone="warning",
            )
        )
    lacking = _without_distribution(frame)
    if lacking:
        blocks.append(
            Paragraph(
                "Trials without a distribution (a single generated answer: use answer: score "
                "or sample), left out: " + "; ".join(lacking) + ".",
                tone="missing",
            )
        )
    few = int(scores["n_items"].min())
    if few < FEW_ITEMS:
        blocks.append(
            Paragraph(
                f"Only {few} item(s) on the test side: intervals that resample items are rough "
                f"below {FEW_ITEMS} items (read the per-item values, share_items()).",
                tone="warning",
            )
        )
    effects = share_effects(frame, n_resamples=n_resamples)
    if not effects.empty:
        blocks.append(effects_table(effects))
    items = share_items(frame)
    out = items.loc[items["excluded"].astype(bool)].drop_duplicates("unit")
    if not out.empty:
        blocks.append(
            Paragraph(
                f"Left out of the score ({len(out)}; people within {TV_UNIFORM_MIN} of "
                "uniform, so the score would divide by almost zero):",
                tone="note",
            )
        )
        blocks.append(
            Bullets(
                tuple(
                    f"{r.unit} (TV to uniform {r.tv_uniform:.3f}, n {r.n:g})"
                    for r in out.itertuples()
                )
            )
        )
    blocks.append(
        Paragraph(
            "In the gap table, the generic metrics see the people's most chosen option only "
            "(modal match, JS to mode, ...); share JS, share TV and SimBench score there use "
            "the whole distribution, with intervals over items only.",
            tone="note",
        )
    )
    return blocks
