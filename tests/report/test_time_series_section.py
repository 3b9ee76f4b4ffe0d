"""The report sections of the methods on behavior over time: the numbers of each result object
in the tables, rendered through the HTML and Markdown renderers (escaped), with their plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from behaviorlab.analysis import early_warning, staggered_did, within_person_effect
from behaviorlab.report import Paragraph, Plot, Section, Table
from behaviorlab.report._html import render_html
from behaviorlab.report._markdown import render_markdown
from behaviorlab.report._time_series import (
    did_section,
    early_warning_section,
    series_document,
    within_person_section,
    write_series_report,
)

HOSTILE = "<script>alert(1)</script>|p_1"


def _table(section: Section, caption: str) -> Table:
    return next(b for b in section.blocks if isinstance(b, Table) and b.caption == caption)


def _lead(section: Section) -> str:
    return next(b.text for b in section.blocks if isinstance(b, Paragraph) and b.tone == "lead")


def test_early_warning_section_rows_lead_and_plot() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(300)
    phi = np.linspace(0.0, 0.95, 300)  # lag-1 autocorrelation rising towards 1
    rising = np.zeros(300)
    for i in range(1, 300):
        rising[i] = phi[i] * rising[i - 1] + rng.normal()
    noise = signal.lfilter([1.0], [1.0, -0.3], rng.normal(size=300))
    results = {
        HOSTILE: early_warning(pd.Series(rising, index=t), n_surrogates=49),
        "noise": early_warning(noise, n_surrogates=49, indicators=("variance", "ac1")),
    }
    assert results[HOSTILE].warns and not results["noise"].warns
    section = early_warning_section(results, what="Two series.")
    rows = _table(section, "Early-warning indicators per series.").rows
    r = results[HOSTILE]
    assert rows[0][:3] == (HOSTILE, "yes", f"{r.p_value:.3f}")
    assert rows[0][3] == f"{r.tau['variance']:.3f}" and rows[0][5] == f"{r.tau['ac1']:.3f}"
    assert rows[0][-2:] == ("300", "75") and rows[1][1] == "no"
    assert _lead(section) == f"1 of 2 series warn: {HOSTILE}."
    (plot,) = section.plots
    assert plot.plot_id == "early-warnings-indicators"
    assert len(plot.figure.data) == 4  # two series x two indicators
    assert list(plot.figure.data[1].y) == pytest.approx(list(r.indicators["ac1"]))

    doc = series_document("Early warnings", "test", [section])
    page, summary = render_html(doc), render_markdown(doc)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\|p_1" in summary  # escaped for Markdown
    assert "| series | warns | p (joint) | tau variance |" in summary


def test_single_series_lead_and_an_empty_mapping() -> None:
    rng = np.random.default_rng(1)
    res = early_warning(rng.normal(size=120), n_surrogates=19)
    lead = _lead(early_warning_section({"x": res}))
    assert lead == f"The series does not warn (joint p {res.p_value:.3f})."
    empty = early_warning_section({})
    assert [b.tone for b in empty.blocks if isinstance(b, Paragraph)] == ["missing"]


def _panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(90):
        g = (0, 3, 4)[u % 3]
        for t in range(1, 6):
            y = u * 0.01 + 0.2 * t + 1.5 * (g > 0 and t >= g) + rng.normal(0, 0.2)
            rows.append((f"u{u}", t, g if u != 0 else 1, y))  # u0 treated in period one
    return pd.DataFrame(rows, columns=["unit", "t", "g", "y"])


def test_did_section_tables_lead_and_plot() -> None:
    res = staggered_did(_panel(), outcome="y", unit="unit", time="t", group="g", n_boot=199)
    section = did_section(res, outcome="accuracy")
    o = res.overall
    assert _lead(section) == (
        f"Overall effect on accuracy (post-treatment ATT(g, t) weighted by group size): "
        f"+{o['att']:.3f} [{o['low']:.3f}, {o['high']:.3f}] (95% interval)."
    )
    assert abs(o["att"] - 1.5) < 0.1
    ev = _table(section, "ATT by event time (t − g).")
    by_e = {row[0]: row for row in ev.rows}
    e0 = res.event_time.set_index("event_time").loc[0]
    assert by_e["0"][1] == f"+{e0['att']:.3f} [{e0['low']:.3f}, {e0['high']:.3f}]"
    assert by_e["0"][3] == f"[{e0['uniform_low']:.3f}, {e0['uniform_high']:.3f}]"
    cells = _table(section, "Every ATT(g, t).")
    assert len(cells.rows) == len(res.cells) and cells.rows[0][:3] == ("3", "2", "-1")
    notes = [b.text for b in section.blocks if isinstance(b, Paragraph) and b.tone == "note"]
    assert "1 units treated in the first period (no pre-period) were left out: u0." in notes
    (plot,) = section.plots
    band, points = plot.figure.data
    assert list(points.x) == list(res.event_time["event_time"])
    assert list(points.error_y.array) == pytest.approx(
        list(res.event_time["high"] - res.event_time["att"])
    )
    assert len(band.x) == 2 * len(res.event_time)


def test_within_person_section_one_and_several_people() -> None:
    rng = np.random.default_rng(2)
    frames = []
    for who, effect in (("p1", 1.0), ("p2", -0.5)):
        a = rng.integers(0, 2, 150)
        y = effect * a + rng.normal(size=150)
        frames.append(pd.DataFrame({"person": who, "a": a, "y": y}))
    one = within_person_effect(frames[0], treatment="a", outcome="y", n_boot=50)
    section = within_person_section(one, treatment="the nudge", outcome="steps")
    apte = one.table.set_index("estimand").loc["apte"]
    assert _lead(section).startswith(
        f"Effect of the nudge on steps in a period (APTE): +{apte['value']:.3f} "
        f"[{apte['low']:.3f}, {apte['high']:.3f}] (95% interval)"
    )
    rows = _table(section, "Within-person effects.").rows
    assert [r[0] for r in rows] == [
        "average period effect (APTE)",
        "always vs never (sustained)",
        "naive difference in means",
    ]
    both = within_person_effect(
        pd.concat(frames), treatment="a", outcome="y", person="person", n_boot=50
    )
    rows = _table(within_person_section(both), "Within-person effects.").rows
    assert [r[0] for r in rows] == ["p1"] * 3 + ["p2"] * 3
    assert rows[3][2].startswith(f"{both.value('apte', 'p2'):+.3f}".replace("-", "−"))
    assert abs(both.value("apte", "p2") + 0.5) < 0.4


def test_sections_together_and_written_by_suffix(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ew = early_warning_section({"x": early_warning(rng.normal(size=80), n_surrogates=19)})
    did = did_section(
        staggered_did(_panel(1), outcome="y", unit="unit", time="t", group="g", n_boot=99)
    )
    doc = series_document("Over time", "two methods", [ew, did])
    assert len({p.plot_id for p in doc.plots()}) == 2
    html = write_series_report(doc, tmp_path / "out" / "r.html")
    md = write_series_report(doc, tmp_path / "r.md")
    page = html.read_text()
    assert 'id="early-warnings-indicators"' in page and 'id="staggered-did-event-time"' in page
    assert "## Staggered difference-in-differences" in md.read_text()
    assert "- [Early warnings](#early-warnings)" in md.read_text()
    with pytest.raises(ValueError, match=r"r\.txt: a report is written as \.html or \.md"):
        write_series_report(doc, tmp_path / "r.txt")
    assert isinstance(doc.sections[0].blocks[-2], Plot)
