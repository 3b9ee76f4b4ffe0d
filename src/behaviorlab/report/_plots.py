"""Plotly figures of the report, and their HTML (plotly.js itself is embedded once per page).

Strings from the data (simulator labels, item ids, option codes) go through :func:`esc`:
plotly.js reads labels as a small subset of HTML, so they are entity-escaped to show as typed.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from behaviorlab.report._document import Plot

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
LLM_COLORS = ("#2563eb", "#7c3aed", "#0891b2", "#db2777", "#ea580c", "#16a34a")
BASELINE_COLORS = ("#6b7280", "#a16207", "#374151", "#9ca3af")
HUMAN_COLOR = "#111827"
GRID = "#e5e7eb"
CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
"""plotly.js options: no logo, no cloud link, resize with the page."""


def esc(value: object) -> str:
    """A data string as plotly should show it (``<``, ``>``, ``&`` escaped)."""
    return html.escape(str(value), quote=False)


def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@cache
def _template() -> dict[str, Any]:
    import plotly.io as pio

    return dict(pio.templates["plotly_white"].to_plotly_json())


def plot_html(plot: Plot) -> str:
    """The ``<div>`` and ``<script>`` drawing one figure; needs plotly.js on the page.

    The figures are built without a template and get plotly's ``plotly_white`` here, as
    plain JSON: validating the template for every figure would cost more than the rest.
    """
    import plotly.io as pio

    figure = plot.figure.to_dict()
    figure["layout"]["template"] = _template()
    return str(
        pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=plot.plot_id,
            config=CONFIG,
            default_width="100%",
            validate=False,
        )
    )


def colors(simulators: Iterable[tuple[str, bool]]) -> dict[str, str]:
    """A color per simulator: blues and purples for LLMs, greys and browns for baselines."""
    out: dict[str, str] = {}
    n_llm = n_base = 0
    for sim, baseline in simulators:
        if sim in out:
            continue
        if baseline:
            out[sim] = BASELINE_COLORS[n_base % len(BASELINE_COLORS)]
            n_base += 1
        else:
            out[sim] = LLM_COLORS[n_llm % len(LLM_COLORS)]
            n_llm += 1
    return out


PATTERNS = ("", "/", "x", ".", "-", "|", "+", "\\")
"""Bar fill patterns, one per condition (the colour is the simulator's)."""


def pattern(condition: str, conditions: Sequence[str]) -> str:
    """The fill pattern of a condition's bars: solid for the first (``full``)."""
    order = list(dict.fromkeys(conditions))
    index = order.index(condition) if condition in order else len(order)
    return PATTERNS[index % len(PATTERNS)]


def _style(fig: go.Figure, height: int, *, legend: bool = True) -> go.Figure:
    fig.update_layout(
        template=None,
        height=height,
        margin={"l": 10, "r": 20, "t": 64, "b": 40},
        font={"family": FONT, "size": 12, "color": "#1f2937"},
        showlegend=legend,
        legend={
            "orientation": "h",
            "yref": "container",
            "yanchor": "bottom",
            "y": 0,
            "x": 0,
            "title": None,
        },
        hoverlabel={"font": {"family": FONT}},
    )
    fig.update_xaxes(gridcolor=GRID, zerolinecolor="#9ca3af", automargin=True)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor="#9ca3af", automargin=True)
    fig.update_annotations(font={"size": 13})
    return fig


def _none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    cols = max(1, min(max_cols, n))
    return math.ceil(n / cols), cols


@dataclass(frozen=True)
class Point:
    """One estimate with its interval in a dot-and-whisker plot: ``panel`` picks the subplot
    (a metric), ``label`` the row, ``series`` the legend entry."""

    panel: str
    label: str
    series: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class SeriesStyle:
    color: str
    symbol: str = "circle"


def dot_whisker(
    points: Sequence[Point],
    *,
    panels: Mapping[str, str],
    labels: Sequence[str],
    styles: Mapping[str, SeriesStyle],
    italic: Iterable[str] = (),
    reference: Mapping[str, float] | None = None,
    max_cols: int = 3,
    grouped: bool = False,
) -> go.Figure:
    """Horizontal intervals, one subplot per panel (titles from ``panels``), one row per label
    (top to bottom in ``labels`` order). ``reference`` draws a dotted vertical line per panel
    (zero for differences, half the noise floor for distances); ``grouped`` offsets the series
    of one label (for two runs side by side); ``italic`` labels are baselines."""
    keys = list(panels)
    nrows, ncols = _grid(len(keys), max_cols)
    height = nrows * (40 + 26 * max(1, len(labels))) + 110
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[esc(panels[k]) for k in keys],
        shared_yaxes=True,
        horizontal_spacing=0.03 if ncols > 1 else 0.0,
        vertical_spacing=min(0.3, 80 / height),
    )
    shown: set[str] = set()
    for k, key in enumerate(keys):
        row, col = k // ncols + 1, k % ncols + 1
        for series, style in styles.items():
            pts = [p for p in points if p.panel == key and p.series == series]
            pts = [p for p in pts if math.isfinite(p.value)]
            if not pts:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[p.value for p in pts],
                    y=[esc(p.label) for p in pts],
                    customdata=[[_none(p.low), _none(p.high)] for p in pts],
                    mode="markers",
                    orientation="h",
                    name=esc(series),
                    legendgroup=series,
                    showlegend=series not in shown,
                    marker={"color": style.color, "symbol": style.symbol, "size": 10},
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": [_none(p.high - p.value) for p in pts],
                        "arrayminus": [_none(p.value - p.low) for p in pts],
                        "color": style.color,
                        "thickness": 1.6,
                        "width": 4,
                    },
                    hovertemplate=(
                        "%{y}<br>%{x:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
                        f"<extra>{esc(series)}</extra>"
                    ),
                ),
                row=row,
                col=col,
            )
            shown.add(series)
        if reference and key in reference and math.isfinite(reference[key]):
            fig.add_vline(
                x=reference[key], line={"dash": "dot", "color": "#6b7280"}, row=row, col=col
            )
    italic = set(italic)
    ordered = [esc(label) for label in labels]
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=ordered[::-1],
        tickvals=ordered,
        ticktext=[
            f"<i>{e}</i>" if lab in italic else e for lab, e in zip(labels, ordered, strict=True)
        ],
    )
    if grouped:
        fig.update_layout(scattermode="group", scattergap=0.5)
    return _style(fig, height)


def subgroup_plot(
    rows: Sequence[Mapping[str, Any]], attributes: Sequence[str], styles: Mapping[str, SeriesStyle]
) -> go.Figure:
    """Accuracy per group of each persona attribute (one subplot per attribute), one series
    per arm. ``rows`` have keys attribute, group, series, value, low, high."""
    nrows, ncols = _grid(len(attributes), 2)
    height = nrows * 250 + 120
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[esc(a) for a in attributes],
        shared_yaxes=True,
        horizontal_spacing=0.05,
        vertical_spacing=min(0.3, 80 / height),
    )
    shown: set[str] = set()
    for k, attribute in enumerate(attributes):
        row, col = k // ncols + 1, k % ncols + 1
        for series, style in styles.items():
            pts = [r for r in rows if r["attribute"] == attribute and r["series"] == series]
            if not pts:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[esc(r["group"]) for r in pts],
                    y=[_none(float(r["value"])) for r in pts],
                    customdata=[[r["n_people"]] for r in pts],
                    mode="markers",
                    name=esc(series),
                    legendgroup=series,
                    showlegend=series not in shown,
                    marker={"color": style.color, "symbol": style.symbol, "size": 9},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [_none(float(r["high"]) - float(r["value"])) for r in pts],
                        "arrayminus": [_none(float(r["value"]) - float(r["low"])) for r in pts],
                        "color": style.color,
                        "thickness": 1.5,
                        "width": 3,
                    },
                    hovertemplate=(
                        f"{esc(attribute)} = %{{x}}<br>accuracy %{{y:.2f}}"
                        f"<br>%{{customdata[0]}} people<extra>{esc(series)}</extra>"
                    ),
                ),
                row=row,
                col=col,
            )
            shown.add(series)
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[-0.03, 1.03], title_text=None)
    fig.update_yaxes(title_text="accuracy", col=1)
    fig.update_layout(scattermode="group", scattergap=0.4)
    return _style(fig, height)


def confusion_plot(
    panels: Sequence[tuple[str, Sequence[str], Sequence[Sequence[int]]]],
) -> go.Figure:
    """One heatmap per arm: ``(title, option codes, counts[human][simulated])``. Colour is the
    share of the row (people who gave that answer), the text the count."""
    nrows, ncols = _grid(len(panels), 3)
    side = max(180, 60 + 36 * max(len(c) for _, c, _ in panels))
    height = nrows * side + 110
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[esc(t) for t, _, _ in panels],
        horizontal_spacing=0.08,
        vertical_spacing=min(0.3, 90 / height),
    )
    for k, (_, codes, counts) in enumerate(panels):
        row, col = k // ncols + 1, k % ncols + 1
        labels = [esc(c) for c in codes]
        shares = [[c / s if (s := sum(r)) else 0.0 for c in r] for r in counts]
        fig.add_trace(
            go.Heatmap(
                z=shares,
                x=labels,
                y=labels,
                text=[[str(c) for c in r] for r in counts],
                texttemplate="%{text}",
                coloraxis="coloraxis",
                xgap=2,
                ygap=2,
                hovertemplate=(
                    "human %{y} → simulated %{x}<br>%{text} trials (%{z:.0%} of row)<extra></extra>"
                ),
            ),
            row=row,
            col=col,
        )
        fig.update_xaxes(title_text="simulated answer", type="category", row=row, col=col)
        fig.update_yaxes(
            title_text="human answer" if col == 1 else None,
            type="category",
            autorange="reversed",
            row=row,
            col=col,
        )
    fig.update_layout(
        coloraxis={
            "colorscale": "Blues",
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"title": {"text": "share<br>of row"}, "tickformat": ".0%", "len": 0.8},
        }
    )
    return _style(fig, height, legend=False)


@dataclass(frozen=True)
class BarSeries:
    """One series of grouped bars: a share per category, optionally with an interval."""

    name: str
    values: Sequence[float]
    color: str
    pattern: str = ""
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None


def _bar(x: Sequence[str], s: BarSeries, hover: str) -> go.Bar:
    error: dict[str, Any] | None = None
    if s.low is not None and s.high is not None:
        error = {
            "type": "data",
            "symmetric": False,
            "array": [_none(h - v) for v, h in zip(s.values, s.high, strict=True)],
            "arrayminus": [_none(v - lo) for v, lo in zip(s.values, s.low, strict=True)],
            "color": "#374151",
            "thickness": 1.2,
            "width": 3,
        }
    return go.Bar(
        x=list(x),
        y=[_none(float(v)) for v in s.values],
        name=esc(s.name),
        marker={
            "color": s.color,
            "line": {"color": s.color, "width": 1},
            "pattern": {"shape": s.pattern, "fgcolor": "white", "solidity": 0.35},
        },
        error_y=error,
        hovertemplate=f"{hover} %{{x}}: %{{y:.1%}}<extra>{esc(s.name)}</extra>",
    )


def distribution_plot(title: str, codes: Sequence[str], series: Sequence[BarSeries]) -> go.Figure:
    """Grouped bars: the share of each option among the people and each simulator arm (the
    people first)."""
    x = [esc(c) for c in codes]
    fig = go.Figure([_bar(x, s, "option") for s in series])
    fig.update_layout(
        title={"text": esc(title), "x": 0, "font": {"size": 14}},
        barmode="group",
        bargap=0.25,
        bargroupgap=0.05,
    )
    fig.update_xaxes(type="category", title_text="option")
    fig.update_yaxes(tickformat=".0%", title_text="share of answers", rangemode="tozero")
    return _style(fig, 360)


def scatter_plot(
    panels: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[str], str]],
) -> go.Figure:
    """Human share (x) against simulated share (y) of each (item, option), one subplot per
    arm: ``(title, human, simulated, hover labels, color)``, with the line y = x."""
    nrows, ncols = _grid(len(panels), 3)
    height = nrows * 300 + 100
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=[esc(p[0]).replace("\n", "<br>") for p in panels],
        horizontal_spacing=0.07,
        vertical_spacing=min(0.3, 110 / height),
    )
    for k, (_, human, sim, hover, color) in enumerate(panels):
        row, col = k // ncols + 1, k % ncols + 1
        fig.add_shape(
            type="line",
            x0=0,
            y0=0,
            x1=1,
            y1=1,
            line={"color": "#9ca3af", "dash": "dot"},
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=[_none(float(v)) for v in human],
                y=[_none(float(v)) for v in sim],
                text=[esc(h) for h in hover],
                mode="markers",
                marker={"color": color, "size": 8, "opacity": 0.8},
                showlegend=False,
                hovertemplate="%{text}<br>people %{x:.1%}, simulated %{y:.1%}<extra></extra>",
            ),
            row=row,
            col=col,
        )
        fig.update_xaxes(title_text="human share", row=row, col=col)
        fig.update_yaxes(title_text="simulated share" if col == 1 else None, row=row, col=col)
    fig.update_xaxes(range=[-0.03, 1.03], tickformat=".0%", constrain="domain")
    fig.update_yaxes(range=[-0.03, 1.03], tickformat=".0%")
    fig.update_annotations(font={"size": 12})
    return _style(fig, height, legend=False)


def position_plot(
    positions: Sequence[int], series: Sequence[BarSeries], expected: Sequence[float]
) -> go.Figure:
    """Share of answers at each shown position (1-based) per arm with intervals, and the
    share expected if the simulator ignored position."""
    x = [str(p) for p in positions]
    fig = go.Figure([_bar(x, s, "position") for s in series])
    fig.add_trace(
        go.Scatter(
            x=x,
            y=list(expected),
            mode="markers",
            name="expected if position were ignored",
            marker={"symbol": "line-ew-open", "size": 60, "line": {"width": 2.5}},
            marker_color=HUMAN_COLOR,
            hovertemplate="position %{x}: %{y:.1%} expected<extra></extra>",
        )
    )
    fig.update_layout(barmode="group", bargap=0.3)
    fig.update_xaxes(type="category", title_text="position of the chosen option as shown")
    fig.update_yaxes(tickformat=".0%", title_text="share of answers", rangemode="tozero")
    return _style(fig, 380)
