"""The debates part of the report: only for runs of the ``debate`` task.

Drift toward the model's default by round (per topic and pooled; the debate, same-identity
and retest arms side by side, with what DeGroot and stubborn agents starting where these
agents started would show), the model's default per topic, the attitude trajectory per
identity, the spread between agents, and a reading per simulator that says when the numbers
cannot mean much (many invalid reports; identities that barely differ at the start).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from behaviorlab.analysis import Estimate
from behaviorlab.families.debate._conditions import MODEL_DEFAULT, RETEST
from behaviorlab.families.debate._dynamics import (
    identity_fidelity,
    reference_reports,
    spread,
    spread_change,
    trajectories,
)
from behaviorlab.families.debate._metrics import (
    _as_dict,
    debate_reports,
    default_attitudes,
    drift_differences,
    drift_table,
)
from behaviorlab.families.debate._task import DEBATE
from behaviorlab.report import Block, Heading, Paragraph, RunData
from behaviorlab.report._document import table
from behaviorlab.report._terminal import format_estimate

BOOT: dict[str, Any] = {"n_resamples": 1000, "seed": 0}
IDENTITY_RANGE = 1.0
"""Identities whose mean starting attitudes span less than this many scale points barely
differ: there is no gap between them for a debate to close."""


def _est(value: Any) -> Estimate | None:
    return value if isinstance(value, Estimate) else None


def _value(value: Any) -> float:
    est = _est(value)
    return est.value if est is not None else float("nan")


def _points(table_: pd.DataFrame) -> dict[tuple[Any, ...], float]:
    return {
        (r.simulator, r.condition, r.topic, r.round): _value(r.share)
        for r in table_.itertuples(index=False)
    }


def _drift_block(reports: pd.DataFrame) -> list[Block]:
    debates = reports.loc[reports["arm"] != MODEL_DEFAULT]
    # per topic only where each topic has debates enough to resample (else pooled only)
    fewest = debates.groupby(["simulator", "condition", "topic"])["person_id"].nunique().min()
    drift = drift_table(reports, per_topic=bool(fewest >= 2), **BOOT)
    if drift.empty:
        return [
            Paragraph(
                "No drift table: it needs the model_default condition (the model's own "
                "default) and debate reports after round 0 with a valid start.",
                tone="warning",
            )
        ]
    refs = {
        k: _points(
            drift_table(reference_reports(reports, k), per_topic=bool(fewest >= 2), n_resamples=1)
        )
        for k in ("degroot", "stubborn")
    }
    rows = []
    for r in drift.itertuples(index=False):
        key = (r.simulator, r.condition, r.topic, r.round)
        rows.append(
            [
                str(r.simulator),
                str(r.condition),
                str(r.topic),
                str(r.round),
                format_estimate(_est(r.share)),
                str(r.agents),
                "—" if r.arm == RETEST else f"{refs['degroot'].get(key, float('nan')):.2f}",
                f"{refs['stubborn'].get(key, float('nan')):.2f}",
            ]
        )
    columns = [
        "simulator",
        "arm",
        "topic",
        "round",
        "share of the gap to the default closed",
        "agents",
        "DeGroot",
        "stubborn",
    ]
    return [
        table(
            columns,
            rows,
            numeric=columns[3:],
            caption="Drift toward the model's default: the share of the initial gap closed "
            "by each round (ratio of sums over agents; agents starting within the "
            "threshold of the default left out), 95% interval over debates with the "
            "default recomputed in every resample. DeGroot / stubborn: the same share for "
            "reference agents starting where these agents started (DeGroot: none without a "
            "debate). A same-identity arm "
            "that drifts like the debate is the model's pull; a retest near 0 says the "
            "drift is not noise or regression to the mean.",
        )
    ]


def _difference_block(reports: pd.DataFrame) -> list[Block]:
    diffs = drift_differences(reports, **BOOT)
    if diffs.empty:
        return []
    rows = [
        [
            str(r.simulator),
            str(r.condition),
            str(r.round),
            format_estimate(_est(r.difference)),
            str(r.setups),
        ]
        for r in diffs.itertuples(index=False)
    ]
    cols = ["simulator", "arm", "round", "drift minus the debate's", "setups"]
    return [
        table(
            cols,
            rows,
            numeric=cols[2:],
            caption="Each arm's drift minus the debate's (condition full), pooled over "
            "topics, paired by debate setup: one bootstrap draws the same setups and default "
            "trials for both, so the 95% interval is of the difference itself. A retest "
            "below the debate says the drift is more than noise; a same-identity arm near 0 "
            "says the pull is the model's.",
        )
    ]


def _fidelity_block(reports: pd.DataFrame) -> list[Block]:
    fid = identity_fidelity(reports, **BOOT)
    if fid.empty:
        return []
    rows = [
        [
            str(r.simulator),
            str(r.condition),
            str(r.topic),
            str(r.agents),
            format_estimate(_est(r.mae)),
            format_estimate(_est(r.midpoint_mae)),
            format_estimate(_est(r.exact)),
            format_estimate(_est(r.correlation)),
        ]
        for r in fid.itertuples(index=False)
    ]
    cols = [
        "simulator",
        "arm",
        "topic",
        "agents",
        "error vs own answer",
        "midpoint's error",
        "exact",
        "correlation",
    ]
    return [
        table(
            cols,
            rows,
            numeric=cols[3:],
            caption="Identity fidelity at round 0: agents holding a real respondent's persona, "
            "their first report against that person's own answer (mean absolute error, the "
            "error of always answering the scale's midpoint beside it, the share of exact "
            "agreements, the correlation across agents), 95% intervals over debates.",
        )
    ]


def _default_block(reports: pd.DataFrame) -> list[Block]:
    defaults = default_attitudes(reports, **BOOT)
    if defaults.empty:
        return []
    rows = [
        [
            str(r.simulator),
            str(r.topic),
            _short(str(r.wording)),
            str(r.role_simulator),
            format_estimate(_est(r.default)),
            str(r.reports),
        ]
        for r in defaults.itertuples(index=False)
    ]
    cols = ["simulator", "topic", "wording", "role simulator", "default attitude", "reports"]
    return [
        table(
            cols,
            rows,
            numeric=cols[4:],
            caption="The model's default (no identity, "
            "asked the same way several times), per wording of the topic (a paraphrased "
            "arm's drift is measured against the default asked in its paraphrase), "
            "interval over its trials.",
        )
    ]


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _trajectory_block(reports: pd.DataFrame) -> list[Block]:
    traj = trajectories(reports.loc[reports["arm"] != MODEL_DEFAULT], **BOOT)
    if traj.empty:
        return []
    last = traj.groupby(["simulator", "condition", "topic"])["round"].transform("max")
    keep = traj.loc[(traj["round"] == 0) | (traj["round"] == last)]
    rows = []
    for key, g in keep.groupby(["simulator", "condition", "topic", "identity"], sort=True):
        by_round = dict(zip(g["round"], g["attitude"], strict=True))
        end = max(by_round)
        rows.append(
            [
                *map(str, key),
                format_estimate(_est(by_round.get(0))),
                str(end),
                format_estimate(_est(by_round[end])),
            ]
        )
    sp = spread(reports, **BOOT)
    cols = [
        "simulator",
        "arm",
        "topic",
        "identity",
        "attitude at start",
        "last round",
        "attitude at the end",
    ]
    blocks: list[Block] = [
        table(
            cols,
            rows,
            numeric=cols[4:],
            caption="The attitude trajectory per identity "
            "(first and last report), interval over debates.",
        )
    ]
    if not sp.empty:
        change: dict[Any, Any] = {
            (r.simulator, r.condition, r.topic): r
            for r in spread_change(reports, **BOOT).itertuples(index=False)
        }
        last_sp = sp.groupby(["simulator", "condition", "topic"])["round"].transform("max")
        srows = []
        for key, g in sp.loc[(sp["round"] == 0) | (sp["round"] == last_sp)].groupby(
            ["simulator", "condition", "topic"], sort=True
        ):
            est = dict(zip(g["round"], g["spread"], strict=True))
            got = change.get(key)
            # the start and end spreads over the agents valid at both ends, where there are
            start = est.get(0) if got is None else got.start_spread
            end = est[max(est)] if got is None else got.end_spread
            srows.append(
                [
                    *map(str, key),
                    format_estimate(_est(start)),
                    format_estimate(_est(end)),
                    format_estimate(_est(None if got is None else got.change)),
                    "—" if got is None else str(got.verdict),
                    "—"
                    if got is None
                    else f"{got.dropped_debates} debates, {got.dropped_agents} agents",
                ]
            )
        scols = [
            "simulator",
            "arm",
            "topic",
            "spread at start",
            "spread at the end",
            "change (paired by debate)",
            "reading",
            "left out",
        ]
        blocks.append(
            table(
                scols,
                srows,
                numeric=scols[3:6],
                caption="Convergence (the spread "
                "falls) or polarization (it grows): the standard deviation between "
                "a debate's agents valid at both the start and the end (agents with an "
                "invalid report at either end, and debates left with fewer than two, are "
                "left out and counted); the change is the mean over debates of the end minus "
                "the start, 95% interval over debates, read as converging or polarizing "
                "only when the interval excludes 0.",
            )
        )
    return blocks


def _speeches(frame: pd.DataFrame) -> list[str]:
    out: list[str] = []
    for value in frame.get("answer_json", pd.Series(dtype=object)).tolist():
        body = _as_dict(value)
        out += [str(x.get("speech", "")) for x in body.get("speeches", [])]
    return out


def _reading(frame: pd.DataFrame, reports: pd.DataFrame) -> list[Block]:
    out: list[Block] = []
    for sim, g in reports.groupby("simulator", sort=True):
        invalid = float(g["attitude"].isna().mean())
        start = g.loc[(g["round"] == 0) & (g["arm"] == "debate")].dropna(subset=["attitude"])
        means = start.groupby(["topic", "identity"])["attitude"].mean()
        span = (
            float((means.groupby(level=0).max() - means.groupby(level=0).min()).max())
            if len(means)
            else float("nan")
        )
        words = [f"{sim}: {invalid:.0%} of its attitude reports were invalid"]
        said = _speeches(frame.loc[frame["simulator"].astype(str) == str(sim)])
        empty = sum(not x for x in said) / len(said) if said else 0.0
        if said:
            words.append(f"{empty:.0%} of its {len(said)} speeches were empty or failed")
        weak = invalid > 0.2 or empty > 0.2 or not span >= IDENTITY_RANGE
        if span == span:
            words.append(f"its identities' mean starting attitudes span {span:.2f} points")
        if weak:
            words.append(
                "so its drift says little: a model must hold distinct identities and answer "
                "on the scale before it can drift from them"
            )
        out.append(Paragraph("; ".join(words) + ".", tone="warning" if weak else "plain"))
    failed = int(frame["error"].notna().sum()) if "error" in frame.columns else 0
    if failed:
        out.append(
            Paragraph(
                f"{failed} debate trials failed (a party that never answered) and are left out.",
                tone="warning",
            )
        )
    return out


def debate_blocks(data: RunData) -> list[Block]:
    """The debate blocks of a run's report (none when the run holds no debate)."""
    frame = data.frame
    if "task" not in frame.columns:
        return []
    mine = frame.loc[frame["task"].astype(str) == DEBATE]
    reports = debate_reports(mine)
    if reports.empty:
        return []
    return [
        Heading("Debates: drift toward the model's default"),
        *_reading(mine, reports),
        *_drift_block(reports),
        *_difference_block(reports),
        *_fidelity_block(reports),
        *_default_block(reports),
        *_trajectory_block(reports),
    ]
