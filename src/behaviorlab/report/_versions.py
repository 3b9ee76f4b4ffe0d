"""Report sections for twins across versions and confounder-adjusted rankings
(docs/versions.md): :func:`versions_section` from a :class:`VersionSeries` and
:func:`confounders_section` from an :class:`AdjustedRanking`. Ordinary :class:`Section`\\ s,
rendered by the same HTML and Markdown renderers as a run's report (``behaviorlab series
versions|confounders ... --report``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from behaviorlab.analysis import AdjustedRanking, VersionSeries
from behaviorlab.report._document import Block, Paragraph, Plot, Section, table
from behaviorlab.report._format import interval, label, number, plural, pvalue
from behaviorlab.report._plots import _none, _style, esc

_COLORS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2")
_MAX_ROWS = 25
"""The most regressed units one table lists."""


def _level(level: float) -> int:
    return round(level * 100)


def versions_section(
    result: VersionSeries, *, title: str = "Across versions", section_id: str = "versions"
) -> Section:
    """The metrics per version and the paired differences, min-ACC and WC-ACC (or why they
    are missing), the people and items that regressed, windowed forgetting per person group,
    and a plot of the first metric per version and group."""
    lvl, shown = _level(result.level), label(result.metric)
    pv = result.per_version
    primary = pv.loc[pv["metric"] == result.metric]
    diffs = result.differences
    ends = diffs.loc[
        (diffs["metric"] == result.metric)
        & (diffs["before"] == result.labels[0])
        & (diffs["after"] == result.labels[-1])
    ]
    lead = (
        f"{shown} across {len(result.labels)} versions ({', '.join(result.labels)}) on "
        f"{result.n_people} people, {result.n_items} items, {result.n_trials} trials every "
        "version answered"
    )
    if not ends.empty:
        e = ends.iloc[0]
        lead += (
            f": from {number(primary['value'].iloc[0], 3)} to "
            f"{number(primary['value'].iloc[-1], 3)}, a change of "
            f"{interval(e['value'], e['low'], e['high'], 3, signed=True)} ({lvl}% interval)"
        )
    blocks: list[Block] = [
        Paragraph(lead + ".", "lead"),
        Paragraph(
            f"One bootstrap over people ({result.n_resamples} resamples) for every version: "
            "the same person weights in all of them, so differences are paired.",
            "note",
        ),
    ]
    blocks += [Paragraph(n, "missing" if "not reported" in n else "note") for n in result.notes]
    metrics = list(dict.fromkeys(pv["metric"]))
    rows = []
    for v in result.labels:
        cells = [v]
        for m in metrics:
            r = pv.loc[(pv["metric"] == m) & (pv["version"] == v)].iloc[0]
            cells.append(interval(r["value"], r["low"], r["high"], 3))
        rows.append(cells)
    cols = ["version", *(f"{label(m)} [{lvl}% interval]" for m in metrics)]
    blocks.append(table(cols, rows, numeric=cols[1:], caption="Each version's metrics."))
    diff_cols = ["metric", "from", "to", f"difference [{lvl}% interval]"]
    diff_rows = [
        [
            label(r["metric"]),
            r["before"],
            r["after"],
            interval(r["value"], r["low"], r["high"], 3, signed=True),
        ]
        for r in diffs.to_dict("records")
    ]
    blocks.append(
        table(diff_cols, diff_rows, numeric=diff_cols[-1:], caption="Paired differences.")
    )
    if result.continual is not None:
        blocks.append(_continual(result, lvl))
    blocks += _regressions(result)
    fg = result.forgetting
    fg_rows = [
        [
            r["group"],
            str(int(r["people"])),
            number(r["value"], 3),
            interval(r["corrected"], r["low"], r["high"], 3),
            f"{r['from_version']} → {r['to_version']}",
        ]
        for r in fg.to_dict("records")
    ]
    fg_cols = ["group", "people", "windowed forgetting", f"bias-corrected [{lvl}% interval]"]
    fg_cols += ["largest drop"]
    blocks.append(
        table(
            fg_cols,
            fg_rows,
            numeric=fg_cols[1:4],
            caption=f"The largest drop of {shown} within {result.window} consecutive versions "
            "(negative: it only rose); a maximum is biased high, the bias-corrected value is 2 × "
            "the estimate − the bootstrap median.",
        )
    )
    blocks.append(
        Plot(f"{section_id}-plot", _plot(result), caption=f"{shown} per version ({lvl}% intervals)")
    )
    blocks.append(
        Paragraph(
            "A minimum over noisy versions is biased low: even when a unit's true accuracy "
            "never moves, the lowest of several noisy estimates sits below it, more so with "
            "more versions and fewer trials (and a maximum, such as forgetting, high). The "
            "bias-corrected values and their basic intervals remove most of it (docs/versions.md "
            "measures how much).",
            "note",
        )
    )
    return Section(section_id, title, tuple(blocks))


def _continual(result: VersionSeries, lvl: int) -> Block:
    assert result.continual is not None
    rows = []
    for r in result.continual.to_dict("records"):
        cells = [r["version"], str(int(r["k"]))]
        for name in ("min_acc", "wc_acc"):
            cells.append(number(r[name], 3))
            cells.append(interval(r[f"{name}_corrected"], r[f"{name}_low"], r[f"{name}_high"], 3))
        cells.append(interval(r["final_acc"], r["final_acc_low"], r["final_acc_high"], 3))
        rows.append(cells)
    cols = ["version", "groups learned", "min-ACC", "bias-corrected", "WC-ACC", "bias-corrected "]
    cols += ["earlier groups now"]
    unit = "people" if result.learned_by == "person_id" else "items"
    return table(
        cols,
        rows,
        numeric=cols[1:],
        caption=f"Continual-evaluation metrics ({lvl}% intervals) over {unit} grouped by the "
        "version that learned them: min-ACC, the mean over earlier groups of their lowest "
        "accuracy after being learned; WC-ACC, 1/k of the newest group's accuracy plus "
        "(1 - 1/k) of min-ACC. A minimum is biased low: the bias-corrected value is 2 × the "
        "estimate − the bootstrap median, with the basic interval around it.",
    )


def _regressions(result: VersionSeries) -> list[Block]:
    reg = result.regressions
    flagged = reg.loc[reg["regressed"]]
    how = "Holm" if result.correction == "holm" else "Benjamini-Hochberg"
    over = "of every step together" if result.family == "series" else "of each step apart"
    counts = []
    for (a, b), part in reg.groupby(["before_version", "after_version"], sort=False):
        hit = part.loc[part["regressed"]]
        n_p = int((hit["kind"] == "person").sum())
        n_i = int((hit["kind"] == "item").sum())
        counts.append(f"{a} → {b}: {plural(n_p, 'person', 'people')}, {plural(n_i, 'item')}")
    blocks: list[Block] = [
        Paragraph(
            "Regressed from one version to the next (one-sided sign test on the trials that "
            f"changed, {how} over the people, and separately the items, {over}, level "
            f"{result.alpha:g}; people and items with no changed trial are not tested): "
            + ("; ".join(counts) or "no step")
            + ".",
        )
    ]
    if flagged.empty:
        return blocks
    cols = ["from", "to", "kind", "unit", "trials", "before", "after", "worse / better"]
    cols += ["p", "p adjusted"]
    rows = [
        [
            *(r["before_version"], r["after_version"], r["kind"], str(r["unit"]), str(r["n"])),
            *(number(r["before"], 3), number(r["after"], 3), f"{r['worse']} / {r['better']}"),
            *(pvalue(r["p_value"]), pvalue(r["p_adjusted"])),
        ]
        for r in flagged.head(_MAX_ROWS).to_dict("records")
    ]
    more = f" (the first {_MAX_ROWS} of {len(flagged)})" if len(flagged) > _MAX_ROWS else ""
    blocks.append(
        table(cols, rows, numeric=cols[4:], caption=f"The people and items that regressed{more}.")
    )
    return blocks


def _plot(result: VersionSeries) -> go.Figure:
    fig = go.Figure()
    x = list(result.labels)
    for k, (group, part) in enumerate(result.trajectory.groupby("group", sort=False)):
        fig.add_trace(_trace(x, part, esc(group), _COLORS[k % len(_COLORS)], k == 0))
    if result.continual is not None:
        c = result.continual
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[_none(float(v)) for v in c["min_acc"]],
                mode="lines+markers",
                name="min-ACC",
                line={"dash": "dot", "color": "#6b7280"},
            )
        )
    fig.update_xaxes(title_text="version", type="category")
    fig.update_yaxes(title_text=esc(label(result.metric)))
    return _style(fig, 380)


def _trace(x: list[str], part: pd.DataFrame, name: str, color: str, bold: bool) -> go.Scatter:
    value = [float(v) for v in part["value"]]
    return go.Scatter(
        x=x,
        y=[_none(v) for v in value],
        mode="lines+markers",
        name=name,
        line={"color": color, "width": 3 if bold else 1.5},
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [_none(float(h) - v) for h, v in zip(part["high"], value, strict=True)],
            "arrayminus": [_none(v - float(lo)) for lo, v in zip(part["low"], value, strict=True)],
        },
    )


def confounders_section(
    result: AdjustedRanking,
    *,
    title: str = "Rankings adjusted for confounders",
    section_id: str = "confounders",
) -> Section:
    """Raw and adjusted means and ranks side by side, each arm against the best adjusted one,
    and whether the trial sets were identical (then adjustment cannot change the ranking)."""
    lvl, shown = _level(result.level), label(result.metric)
    names = ", ".join(result.confounders)
    t = result.table
    if result.ranking_changed:
        lead = f"Adjusting {shown} for {names} changes the ranking."
    else:
        lead = f"Adjusting {shown} for {names} leaves the ranking as it was."
    blocks: list[Block] = [
        Paragraph(lead, "lead"),
        Paragraph(
            f"OLS of the per-trial {shown} on the arm and the confounders over {result.n_trials} "
            f"trials; standard errors clustered by person ({result.n_people} people), t "
            "intervals. The adjusted mean is the model's prediction averaged over all trials "
            "with the arm set to that one (every arm read on the same mix of confounders).",
            "note",
        ),
    ]
    blocks += [Paragraph(n, "note") for n in result.notes]
    cols = ["arm", "trials", "people", f"raw [{lvl}% interval]", "raw rank"]
    cols += [f"adjusted [{lvl}% interval]", "adjusted rank"]
    rows = [
        [
            *(r["arm"], str(r["trials"]), str(r["people"])),
            *(interval(r["raw"], r["raw_low"], r["raw_high"], 3), str(r["raw_rank"])),
            *(interval(r["adjusted"], r["adjusted_low"], r["adjusted_high"], 3),),
            str(r["adjusted_rank"]),
        ]
        for r in t.to_dict("records")
    ]
    blocks.append(table(cols, rows, numeric=cols[1:], caption="Raw and adjusted, side by side."))
    if not result.differences.empty:
        d_cols = ["arm", "against", "raw difference", "adjusted difference"]
        d_rows = [_diff_row(r) for r in result.differences.to_dict("records")]
        blocks.append(
            table(d_cols, d_rows, numeric=d_cols[2:], caption="Each arm against the best adjusted.")
        )
    return Section(section_id, title, tuple(blocks))


def _diff_row(r: dict[Any, Any]) -> list[str]:
    return [
        str(r["arm"]),
        str(r["against"]),
        interval(r["raw"], r["raw_low"], r["raw_high"], 3, signed=True),
        interval(r["adjusted"], r["adjusted_low"], r["adjusted_high"], 3, signed=True),
    ]
