"""The report section of a sensitivity sweep (docs/sensitivity.md): each factor's effect on
the actions beside the seed noise floor, the share of variance each factor explains, the
rationale distances and the cells.

:func:`sensitivity_section` takes the :class:`~behaviorlab.analysis.Sensitivity` and returns
a :class:`Section` of the report document; ``behaviorlab sweep effects RUN --report`` writes
it as a stand-alone page or Markdown file.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from behaviorlab.analysis import Sensitivity
from behaviorlab.report._document import Block, Paragraph, Plot, Section, table
from behaviorlab.report._format import interval, number
from behaviorlab.report._plots import _style

_METRICS = {"accuracy": "accuracy", "js_distance": "JS distance to people"}
_FACTOR_ORDER = ("model", "prompt", "temperature", "seed", "residual")


def _metric(name: str) -> str:
    return _METRICS.get(name, name)


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _lead(result: Sensitivity) -> Paragraph | None:
    eff = result.effects.loc[result.effects["metric"] == "accuracy"]
    if eff.empty:
        return None
    top = eff.iloc[int(np.argmax(eff["value"].abs().to_numpy()))]
    text = (
        f"The largest effect on accuracy: {top['factor']} {top['level']} against "
        f"{top['reference']}, {interval(top['value'], top['low'], top['high'], 3, signed=True)}"
    )
    floor = result.floor("accuracy")
    if floor is not None:
        text += (
            f"; the seed-to-seed difference is {number(floor['value'], 3)} "
            f"({'beyond' if not top['within_noise'] else 'within'} the seed noise)."
        )
    else:
        text += "; no seed factor, so no noise floor to read it against."
    return Paragraph(text, "lead")


def _effects_table(result: Sensitivity) -> Block:
    level = round(result.level * 100)
    cols = [
        "metric",
        "factor",
        "level vs reference",
        f"effect [{level}%]",
        "seed floor",
        "vs noise",
    ]
    rows = []
    for r in result.effects.to_dict("records"):
        within = r["within_noise"]
        reading = "-" if within is None else ("within" if within else "beyond")
        rows.append(
            [
                _metric(str(r["metric"])),
                str(r["factor"]),
                f"{r['level']} vs {r['reference']}",
                interval(r["value"], r["low"], r["high"], 3, signed=True),
                number(r["floor"], 3) if _finite(r["floor"]) else "-",
                reading,
            ]
        )
    for r in result.noise_floor.to_dict("records"):
        rows.append(
            [
                _metric(str(r["metric"])),
                "seed",
                "two seeds (RMS)",
                interval(r["value"], r["low"], r["high"], 3),
                number(r["value"], 3),
                "(the floor)",
            ]
        )
    return table(
        cols,
        rows,
        numeric=[f"effect [{level}%]", "seed floor"],
        caption="Main effects against the reference level; the seed floor at the factor's "
        "number of cells per level; within seed noise: below twice the floor.",
    )


def _variance_table(result: Sensitivity) -> Block | None:
    var = result.variance
    if var.empty:
        return None
    metrics = list(dict.fromkeys(var["metric"]))
    factors = sorted(
        set(var["factor"]), key=lambda f: _FACTOR_ORDER.index(f) if f in _FACTOR_ORDER else 0
    )
    cols = ["factor", *[f"share of {_metric(m)}" for m in metrics]]
    rows = []
    for f in factors:
        cells = [f if f != "residual" else "residual (interactions)"]
        for m in metrics:
            hit = var.loc[(var["metric"] == m) & (var["factor"] == f)]
            if hit.empty:
                cells.append("-")
                continue
            row = hit.iloc[0]
            shown = (
                interval(row["share"], row["low"], row["high"], 2)
                if _finite(row["low"])
                else number(row["share"], 2)
            )
            if _finite(row["null_share"]):
                shown += f" (null {number(row['null_share'], 2)})"
            cells.append(shown)
        rows.append(cells)
    return table(
        cols,
        rows,
        numeric=cols[1:],
        caption="Share of the cell means' sum of squares (type II ANOVA, main effects), with "
        "its bootstrap interval over people for a complete design. A share holds cell-mean "
        "noise too: (null x) is what a factor that did nothing would get, its degrees of "
        "freedom times the seed's share per degree of freedom. The residual holds the "
        "interactions and noise.",
    )


def _rationale_table(result: Sensitivity) -> Block | None:
    rat = result.rationales
    if rat.empty:
        return None
    level = round(result.level * 100)
    cols = ["factor", "level vs reference", f"distance [{level}%]", "above the seed floor", "pairs"]
    rows = []
    for r in rat.to_dict("records"):
        versus = "any two seeds" if r["factor"] == "seed" else f"{r['level']} vs {r['reference']}"
        excess = (
            interval(r["excess"], r["excess_low"], r["excess_high"], 3, signed=True)
            if _finite(r.get("excess"))
            else "(the floor)"
        )
        rows.append(
            [
                str(r["factor"]),
                versus,
                interval(r["value"], r["low"], r["high"], 3),
                excess,
                str(int(r["n_pairs"])),
            ]
        )
    return table(
        cols,
        rows,
        numeric=cols[2:],
        caption="1 - ROUGE-L between the rationales of the same trial in cells differing in "
        "this factor only.",
    )


def _cells_table(result: Sensitivity) -> Block:
    cells = result.cells
    factors = list(result.factors)
    metrics = [m for m in _METRICS if m in cells.columns]
    cols = [*factors, *[_metric(m) for m in metrics], "trials", "failed"]
    rows = []
    for r in cells.to_dict("records"):
        rows.append(
            [
                *[str(r[f]) for f in factors],
                *[number(r[m], 3) for m in metrics],
                str(int(r["n"])),
                str(int(r["failed"])),
            ]
        )
    return table(cols, rows, numeric=cols[len(factors) :], caption="Every cell of the sweep.")


def _effect_plot(result: Sensitivity) -> go.Figure | None:
    eff = result.effects.loc[result.effects["metric"] == "accuracy"]
    if eff.empty:
        return None
    names = [f"{r['factor']} {r['level']}" for r in eff.to_dict("records")]
    values = eff["value"].to_numpy(dtype=float)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=values,
            y=names,
            mode="markers",
            name="effect",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": eff["high"].to_numpy(dtype=float) - values,
                "arrayminus": values - eff["low"].to_numpy(dtype=float),
            },
            marker={"color": "#2563eb", "size": 9},
        )
    )
    floors = eff["floor"].to_numpy(dtype=float)
    if pd.notna(floors).any():
        band = 2 * floors
        fig.add_trace(
            go.Bar(
                x=2 * band,
                y=names,
                base=-band,
                orientation="h",
                name="seed noise (±2 floors)",
                marker={"color": "rgba(148,163,184,0.35)"},
                hoverinfo="skip",
            )
        )
    fig.add_vline(x=0, line={"color": "#64748b", "width": 1})
    fig.update_layout(
        title="Effects on accuracy, with the seed noise band",
        xaxis_title="difference in accuracy",
        barmode="overlay",
    )
    return _style(fig, 160 + 40 * len(names))


def sensitivity_section(
    result: Sensitivity,
    *,
    title: str = "Sensitivity",
    section_id: str = "sensitivity",
) -> Section:
    """The sweep's effects beside the seed noise floor, the variance shares, the rationale
    distances, a plot of the effects on accuracy with the seed noise band, and the cells."""
    design = " × ".join(f"{len(v)} {k}" for k, v in result.factors.items())
    blocks: list[Block] = []
    lead = _lead(result)
    if lead is not None:
        blocks.append(lead)
    blocks.append(
        Paragraph(
            f"Sweep {result.prefix!r}: {design} = {len(result.cells)} cells, "
            f"{result.n_people} people. Intervals: {result.n_resamples} bootstrap resamples "
            "of people, the same for every cell (paired).",
            "note",
        )
    )
    blocks.append(_effects_table(result))
    fig = _effect_plot(result)
    if fig is not None:
        blocks.append(Plot(f"{section_id}-effects", fig, "Effect on accuracy per factor level."))
    for extra in (_variance_table(result), _rationale_table(result)):
        if extra is not None:
            blocks.append(extra)
    blocks.append(_cells_table(result))
    blocks += [Paragraph(n, "missing") for n in result.notes]
    return Section(section_id, title, tuple(blocks))
