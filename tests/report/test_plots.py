"""Figures: labels from the data are escaped for plotly, and a plot's HTML is a div plus a
script calling plotly.js (which the page embeds once)."""

from __future__ import annotations

from behaviorlab.report._document import Plot
from behaviorlab.report._plots import Point, SeriesStyle, dot_whisker, esc, plot_html, plotly_js

EVIL = "<img src=x onerror=alert(1)>"


def test_labels_are_escaped_for_plotly() -> None:
    assert esc(EVIL) == "&lt;img src=x onerror=alert(1)&gt;"
    fig = dot_whisker(
        [Point("accuracy", EVIL, EVIL, 0.5, 0.4, 0.6)],
        panels={"accuracy": "accuracy ↑"},
        labels=[EVIL],
        styles={EVIL: SeriesStyle("#2563eb")},
    )
    html = plot_html(Plot("plot-x", fig))
    assert "<img" not in html and "onerror=alert(1)" in html  # as escaped text only
    assert '<div id="plot-x" class="plotly-graph-div"' in html
    assert html.count("Plotly.newPlot(") == 1
    assert "<script src" not in html and "cdn" not in html.lower()
    assert '"plot_bgcolor":"white"' in html  # the plotly_white template


def test_plotly_js_is_the_bundled_library() -> None:
    js = plotly_js()
    assert len(js) > 1_000_000 and "plotly.js v" in js[:500]
