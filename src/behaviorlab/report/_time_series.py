"""Report sections for the methods on behavior over time (docs/time-series.md): early warnings,
staggered difference-in-differences and within-person effects.

Each builder takes the analysis result object and returns a :class:`Section` of the report
document, so the HTML page and the Markdown summary render it like any other section;
:func:`series_document` wraps sections as a stand-alone document and :func:`write_series_report`
writes it as ``.html`` or ``.md`` (``behaviorlab series ... --report``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from behaviorlab.analysis import EarlyWarning, StaggeredDiD, WithinPersonEffect
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Block, Document, Paragraph, Plot, Section, table
from behaviorlab.report._format import interval, number, pvalue
from behaviorlab.report._html import render_html
from behaviorlab.report._markdown import render_markdown
from behaviorlab.report._plots import _none, _style, esc
from behaviorlab.runs._spec import TimeSeriesReportSpec

_COLORS = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2")
_MAX_PLOTTED = 12
"""The most series whose rolling indicators one early-warning plot draws."""
_ESTIMANDS = {
    "apte": "average period effect (APTE)",
    "sustained": "always vs never (sustained)",
    "naive": "naive difference in means",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "series"


def _level(alpha: float) -> int:
    return round((1 - alpha) * 100)


# --- early warnings ----------------------------------------------------------------------


def early_warning_section(
    results: Mapping[str, EarlyWarning],
    *,
    title: str = "Early warnings",
    section_id: str = "early-warnings",
    what: str = "",
) -> Section:
    """One row per series (a participant's event counts, a study's aggregate): whether it
    warns, the joint surrogate p-value and each indicator's Kendall tau and p-value; and a
    plot of the rolling indicators (the first :data:`_MAX_PLOTTED` series). ``what``: a
    sentence saying what the series are (shown first)."""
    if not results:
        return Section(section_id, title, (Paragraph("No series to analyse.", "missing"),))
    first = next(iter(results.values()))
    names = list(first.indicators.columns)
    columns = ["series", "warns", "p (joint)"]
    for n in names:
        columns += [f"tau {n}", f"p {n}"]
    columns += ["points", "window"]
    rows = []
    for label, res in results.items():
        cells = [label, "yes" if res.warns else "no", pvalue(res.p_value)]
        for n in names:
            cells += [number(res.tau.get(n), 3), pvalue(res.p_values.get(n))]
        cells += [str(len(res.indicators) + res.window - 1), str(res.window)]
        rows.append(cells)
    warned = [label for label, r in results.items() if r.warns]
    detrend = first.detrend + (f" (bandwidth {first.bandwidth})" if first.bandwidth else "")
    method = (
        f"Rolling {' and '.join(names)} in windows of {first.window} points after "
        f"{detrend} detrending"
        + (f" of the {first.transform}-transformed series" if first.transform else "")
        + f"; Kendall tau of each indicator against time, tested against "
        f"{first.n_surrogates} {first.surrogate} surrogate series at the "
        f"{first.alpha:g} level (one joint test over the indicators)."
    )
    lead = (
        f"{len(warned)} of {len(results)} series warn"
        + (f": {', '.join(warned[:10])}{' ...' if len(warned) > 10 else ''}." if warned else ".")
        if len(results) > 1
        else f"The series {'warns' if first.warns else 'does not warn'} "
        f"(joint p {pvalue(first.p_value)})."
    )
    blocks: list[Block] = []
    if what:
        blocks.append(Paragraph(what))
    blocks += [
        Paragraph(lead, "lead"),
        Paragraph(method, "note"),
        table(
            columns,
            rows,
            numeric=[c for c in columns if c not in ("series", "warns")],
            caption="Early-warning indicators per series.",
        ),
        Plot(
            f"{section_id}-indicators",
            _indicator_plot(dict(list(results.items())[:_MAX_PLOTTED]), names),
            caption="Rolling indicators (each at its window's last point)"
            + (f"; the first {_MAX_PLOTTED} series" if len(results) > _MAX_PLOTTED else ""),
        ),
        Paragraph(
            "A rising indicator is evidence of slowing down, not proof of a coming transition "
            "(a noise level that rises gives the same signature).",
            "note",
        ),
    ]
    return Section(section_id, title, tuple(blocks))


def _indicator_plot(results: Mapping[str, EarlyWarning], names: Sequence[str]) -> go.Figure:
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=[esc(n) for n in names])
    for k, (label, res) in enumerate(results.items()):
        x = [str(v) for v in res.indicators.index]
        for row, name in enumerate(names, start=1):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[_none(float(v)) for v in res.indicators[name]],
                    mode="lines",
                    name=esc(label),
                    legendgroup=esc(label),
                    showlegend=row == 1,
                    line={"color": _COLORS[k % len(_COLORS)]},
                ),
                row=row,
                col=1,
            )
    return _style(fig, 220 * len(names) + 120, legend=len(results) > 1)


# --- staggered difference-in-differences -------------------------------------------------


def did_section(
    result: StaggeredDiD,
    *,
    title: str = "Staggered difference-in-differences",
    section_id: str = "staggered-did",
    outcome: str = "the outcome",
) -> Section:
    """The overall ATT, the event-time aggregation (pointwise intervals and the uniform band)
    with a plot, and every ATT(g, t) cell."""
    level = _level(result.alpha)
    o = result.overall
    lead = (
        f"Overall effect on {outcome} (post-treatment ATT(g, t) weighted by group size): "
        f"{interval(o['att'], o['low'], o['high'], 3, signed=True)} ({level}% interval)."
    )
    control = result.control.replace("_", "-")
    method = (
        f"Callaway–Sant'Anna ATT(g, t) without covariates, {control} controls, "
        f"{result.n_units} units"
        + (f" in {result.n_clusters} clusters" if result.n_clusters != result.n_units else "")
        + "; multiplier-bootstrap "
        "standard errors. Event time 0 is the first treated period; negative event times "
        "test parallel trends (their truth is 0)."
    )
    blocks: list[Block] = [Paragraph(lead, "lead"), Paragraph(method, "note")]
    if result.dropped:
        shown = ", ".join(str(u) for u in result.dropped[:10])
        blocks.append(
            Paragraph(
                f"{len(result.dropped)} units treated in the first period (no pre-period) "
                f"were left out: {shown}{' ...' if len(result.dropped) > 10 else ''}.",
                "note",
            )
        )
    ev = result.event_time
    ev_rows = [
        [
            str(int(r["event_time"])),
            interval(r["att"], r["low"], r["high"], 3, signed=True),
            number(r["se"], 3),
            f"[{number(r['uniform_low'], 3)}, {number(r['uniform_high'], 3)}]",
        ]
        for r in ev.to_dict("records")
    ]
    ev_cols = ["event time", f"ATT [{level}% interval]", "se", "uniform band"]
    blocks += [
        table(ev_cols, ev_rows, numeric=ev_cols, caption="ATT by event time (t − g)."),
        Plot(f"{section_id}-event-time", _event_plot(ev, level), caption="ATT by event time"),
    ]
    cell_cols = ["group", "period", "event time", f"ATT(g, t) [{level}% interval]", "se"]
    cell_cols += ["treated", "controls"]
    cell_rows = [
        [
            _cell(r["group"]),
            _cell(r["time"]),
            _cell(r["event_time"]),
            interval(r["att"], r["low"], r["high"], 3, signed=True),
            number(r["se"], 3),
            str(int(r["n_treated"])),
            str(int(r["n_control"])),
        ]
        for r in result.cells.to_dict("records")
    ]
    blocks.append(table(cell_cols, cell_rows, numeric=cell_cols, caption="Every ATT(g, t)."))
    return Section(section_id, title, tuple(blocks))


def _cell(v: Any) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() else f"{f:g}"


def _event_plot(ev: Any, level: int) -> go.Figure:
    x = [int(e) for e in ev["event_time"]]
    att = [_none(float(v)) for v in ev["att"]]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x + x[::-1],
            y=[_none(float(v)) for v in ev["uniform_high"]]
            + [_none(float(v)) for v in ev["uniform_low"]][::-1],
            fill="toself",
            fillcolor="rgba(37, 99, 235, 0.12)",
            line={"width": 0},
            name="uniform band",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=att,
            mode="markers",
            name=f"ATT, {level}% interval",
            marker={"color": _COLORS[0], "size": 9},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [float(h - a) for h, a in zip(ev["high"], ev["att"], strict=True)],
                "arrayminus": [float(a - lo) for a, lo in zip(ev["att"], ev["low"], strict=True)],
            },
        )
    )
    fig.add_hline(y=0, line={"color": "#9ca3af", "dash": "dot"})
    fig.add_vline(x=-0.5, line={"color": "#9ca3af", "dash": "dash"})
    fig.update_xaxes(title_text="event time (periods since first treated)", dtick=1)
    fig.update_yaxes(title_text="ATT")
    return _style(fig, 380)


# --- within-person effects ---------------------------------------------------------------


def within_person_section(
    result: WithinPersonEffect,
    *,
    title: str = "Within-person effects",
    section_id: str = "within-person",
    treatment: str = "the treatment",
    outcome: str = "the outcome",
) -> Section:
    """Per person, the APTE and the sustained effect by the g-formula with their block
    bootstrap intervals, and the naive difference in means beside them."""
    level = _level(result.alpha)
    tab = result.table
    people = list(dict.fromkeys(tab["person"]))
    many = len(people) > 1 or people[0] is not None
    cols = [*(["person"] if many else []), "estimand", f"effect [{level}% interval]"]
    cols += ["periods", "treated share"]
    rows = []
    for r in tab.to_dict("records"):
        cells = [*([str(r["person"])] if many else [])]
        cells += [_ESTIMANDS.get(str(r["estimand"]), str(r["estimand"]))]
        cells += [interval(r["value"], r["low"], r["high"], 3, signed=True)]
        cells += [str(int(r["n_periods"])), number(r["treated_share"], 2)]
        rows.append(cells)
    blocks: list[Block] = []
    if not many:
        apte = tab.loc[tab["estimand"] == "apte"].iloc[0]
        naive = tab.loc[tab["estimand"] == "naive"].iloc[0]
        blocks.append(
            Paragraph(
                f"Effect of {treatment} on {outcome} in a period (APTE): "
                f"{interval(apte['value'], apte['low'], apte['high'], 3, signed=True)} "
                f"({level}% interval); the naive difference in means is "
                f"{number(naive['value'], 3, signed=True)}.",
                "lead",
            )
        )
    blocks += [
        Paragraph(
            f"Model-twin g-formula (MoTR): a {result.outcome_kind} outcome model with "
            f"{result.lags} lag(s) of treatment and outcome"
            + (" and the treatment × last-outcome interaction" if result.interaction else "")
            + f", simulated forward; {result.n_boot} moving-block bootstrap replicates refit "
            "the model (percentile intervals). APTE: treating a period against not, earlier "
            "periods treated at the person's own rate; sustained: always against never, "
            "carry-over included. Assumed, not tested: the lags capture the carry-over and "
            "what the treatment depends on.",
            "note",
        ),
        table(cols, rows, numeric=cols[-3:], caption="Within-person effects."),
    ]
    blocks += [Paragraph(n, "note") for n in result.notes]
    return Section(section_id, title, tuple(blocks))


# --- a stand-alone document ----------------------------------------------------------------


def series_document(title: str, subtitle: str, sections: Sequence[Section]) -> Document:
    """A report of these sections alone (what ``behaviorlab series ... --report`` writes)."""
    return Document(title, subtitle, tuple(sections))


def write_series_report(doc: Document, path: str | Path) -> Path:
    """Write ``doc`` as a self-contained HTML page (``.html``/``.htm``) or Markdown (``.md``)."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        text = render_html(doc)
    elif suffix in (".md", ".markdown"):
        text = render_markdown(doc)
    else:
        raise ValueError(
            f"{out}: a report is written as .html or .md, not {suffix or 'no suffix'!r}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


# --- a run's rows as time series (spec ``report: {time_series: ...}``) --------------------


def run_time_series_sections(data: RunData) -> list[Section]:
    """The sections a run's spec asks for under ``report: {time_series: ...}``
    (:class:`~behaviorlab.runs._spec.TimeSeriesReportSpec`); none when it asks for none.

    Per arm (simulator x condition): early warnings on ``value`` averaged per ``time`` (or
    per unit), within-person effects of ``treatment`` per unit, and a staggered DiD over
    units with their first treated time in ``group``. A column the rows lack, or a method's
    own objection (a series too short for the window), is shown in the section, not raised."""
    spec = data.manifest.get("spec") or {}
    raw = (spec.get("report") or {}).get("time_series")
    if not raw:
        return []
    cfg = TimeSeriesReportSpec.model_validate(raw)
    try:
        frame = series_rows(data.frame, cfg)
    except ValueError as exc:
        why = Paragraph(f"No time-series sections: {exc}", "missing")
        return [Section("early-warnings", "Early warnings", (why,))]
    arms = list(frame.groupby(["simulator", "condition"], sort=True))
    sections = [_run_early_warnings(frame, cfg)]
    if cfg.treatment is not None:
        sections += [_run_within_person(arm, rows, cfg) for arm, rows in arms]
    if cfg.group is not None:
        sections += [_run_did(arm, rows, cfg) for arm, rows in arms]
    return sections


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A trial-row column, or ``scores.KEY`` / ``meta.KEY`` from the rows' dicts."""
    if name in frame.columns:
        return frame[name]
    base, _, key = name.partition(".")
    if key and base in ("scores", "meta") and base in frame.columns:
        return frame[base].map(lambda d: d.get(key) if isinstance(d, dict) else None)
    raise ValueError(
        f"the rows have no column {name!r} (report.time_series); use one of "
        f"{sorted(str(c) for c in frame.columns)} or scores.KEY / meta.KEY"
    )


def series_rows(frame: pd.DataFrame, cfg: TimeSeriesReportSpec) -> pd.DataFrame:
    """A run's trial rows (``Run.to_pandas()``) as one row per trial: simulator, condition,
    unit, time, value[, treatment][, group], numbers where they must be; trials without a
    value (failed) are left out. A column the rows lack is a ValueError naming it."""
    out = pd.DataFrame(
        {
            "simulator": frame["simulator"].astype(str),
            "condition": frame["condition"].astype(str),
            "unit": _column(frame, cfg.unit).astype(str),
            "time": pd.to_numeric(_column(frame, cfg.time), errors="coerce"),
            "value": pd.to_numeric(_column(frame, cfg.value), errors="coerce"),
        }
    )
    for role in ("treatment", "group"):
        name = getattr(cfg, role)
        if name is not None:
            out[role] = pd.to_numeric(_column(frame, name), errors="coerce")
    if out["time"].isna().any():
        row = int(np.flatnonzero(out["time"].isna().to_numpy())[0])
        raise ValueError(
            f"the time column {cfg.time!r} is missing or not a number in trial row {row + 1}"
        )
    return out.loc[out["value"].notna()]


def run_series(rows: pd.DataFrame, per_unit: bool) -> dict[str, pd.Series]:
    """The series of :func:`series_rows`' rows: per arm (and per unit with ``per_unit``),
    the mean value per time, oldest first, labelled ``simulator · condition[ · unit]``."""
    out: dict[str, pd.Series] = {}
    for arm, g in rows.groupby(["simulator", "condition"], sort=True):
        if per_unit:
            for unit, u in g.groupby("unit", sort=True):
                out[f"{_arm_label(arm)} · {unit}"] = u.groupby("time")["value"].mean()
        else:
            out[_arm_label(arm)] = g.groupby("time")["value"].mean()
    return out


def _arm_label(arm: Any) -> str:
    simulator, condition = arm
    return f"{simulator} · {condition}"


def _run_early_warnings(rows: pd.DataFrame, cfg: TimeSeriesReportSpec) -> Section:
    from behaviorlab.analysis import early_warning

    results: dict[str, EarlyWarning] = {}
    problems: list[str] = []
    for label, values in run_series(rows, cfg.per_unit).items():
        try:
            results[label] = early_warning(values, window=cfg.window, n_surrogates=cfg.n_surrogates)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
    each = f"one series per {cfg.unit} and arm" if cfg.per_unit else f"mean over {cfg.unit}"
    what = f"The run's {cfg.value} per {cfg.time} in each arm ({each})."
    section = early_warning_section(results, what=what)
    notes = tuple(Paragraph(f"Not analysed: {p}", "missing") for p in problems)
    return Section(section.section_id, section.title, section.blocks + notes)


def _run_within_person(arm: Any, rows: pd.DataFrame, cfg: TimeSeriesReportSpec) -> Section:
    from behaviorlab.analysis import within_person_effect

    label = _arm_label(arm)
    sid, title = f"within-person-{_slug(label)}", f"Within-person effects: {label}"
    periods = rows.groupby(["unit", "time"], as_index=False).agg(
        value=("value", "mean"), treatment=("treatment", "max")
    )
    try:
        result = within_person_effect(
            periods,
            treatment="treatment",
            outcome="value",
            time="time",
            person="unit",
            n_boot=cfg.n_boot,
        )
    except ValueError as exc:
        return Section(sid, title, (Paragraph(f"Not estimated: {exc}", "missing"),))
    return within_person_section(
        result, title=title, section_id=sid, treatment=str(cfg.treatment), outcome=cfg.value
    )


def _run_did(arm: Any, rows: pd.DataFrame, cfg: TimeSeriesReportSpec) -> Section:
    from behaviorlab.analysis import staggered_did

    label = _arm_label(arm)
    sid, title = f"staggered-did-{_slug(label)}", f"Staggered difference-in-differences: {label}"
    panel = rows.groupby(["unit", "time"], as_index=False).agg(
        value=("value", "mean"), group=("group", "first")
    )
    try:
        result = staggered_did(
            panel, outcome="value", unit="unit", time="time", group="group", n_boot=cfg.n_boot
        )
    except ValueError as exc:
        return Section(sid, title, (Paragraph(f"Not estimated: {exc}", "missing"),))
    return did_section(result, title=title, section_id=sid, outcome=cfg.value)
