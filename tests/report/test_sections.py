"""Sections from parts of the analysis: missing parts say "not available" (an older analysis),
and the human ceiling and item correlations render when the analysis has them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import pytest

from behaviorlab.analysis import Estimate
from behaviorlab.report._collect import RunData, collect
from behaviorlab.report._document import Document, Paragraph, Plot, Table
from behaviorlab.report._html import render_html
from behaviorlab.report._markdown import render_markdown
from behaviorlab.report._report import build_document
from behaviorlab.runs import Run

from .conftest import RESAMPLES

OPTIONAL = (
    "comparisons",
    "distribution_tests",
    "subgroups",
    "disparities",
    "items",
    "item_agreement",
    "ceiling",
    "yardstick_notes",
)


class Report:
    """A gap report with some attributes replaced, and the other optional ones absent."""

    def __init__(self, report: Any, **replaced: Any) -> None:
        self._report = report
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        if name in self._replaced:
            return self._replaced[name]
        if name in OPTIONAL:
            raise AttributeError(name)
        return getattr(self._report, name)


@pytest.fixture(scope="session")
def data(main_run: Run) -> RunData:
    return collect(main_run, n_resamples=RESAMPLES)


def _texts(doc: Document, section: str) -> list[str]:
    blocks = next(s for s in doc.sections if s.section_id == section).blocks
    return [b.text for b in blocks if isinstance(b, Paragraph)]


def test_an_analysis_without_the_optional_parts_says_not_available(data: RunData) -> None:
    doc = build_document(dataclasses.replace(data, report=Report(data.report)))
    assert "Permutation p-values" in " ".join(_texts(doc, "effects"))
    for section in ("subgroups", "distributions", "items", "yardsticks"):
        assert any("not available" in t for t in _texts(doc, section)), section
    plots = {p.plot_id for p in doc.plots()}
    assert {"plot-forest", "plot-effects", "plot-confusion-0", "plot-position-survey"} <= plots
    assert not plots & {"plot-subgroups-survey", "plot-item-0", "plot-scatter-survey"}
    page = render_html(doc)
    assert page.count('class="plotly-graph-div"') == doc.n_plots
    assert "not available" in render_markdown(doc)


def test_a_run_without_persons_says_why_there_are_no_subgroups(data: RunData) -> None:
    empty = data.report.subgroups.iloc[0:0]
    report = Report(data.report, subgroups=empty, disparities=empty)
    doc = build_document(dataclasses.replace(data, persons=None, report=report))
    assert "stored no persona attributes" in " ".join(_texts(doc, "subgroups"))


def test_human_ceiling_and_item_correlations_render(data: RunData) -> None:
    @dataclasses.dataclass(frozen=True)
    class Ceiling:
        consistency: dict[str, Estimate]
        relative: pd.DataFrame
        n_people: int
        n_cells: int

    relative = pd.DataFrame(
        [["survey", "llm:mock-1", "full", 0.6, 0.8, 0.75, 0.6, 0.9, 12, 24]],
        columns=[
            "task",
            "simulator",
            "condition",
            "accuracy",
            "ceiling",
            "share",
            "low",
            "high",
            "n_people",
            "n",
        ],
    )
    ceiling = Ceiling(
        {"survey": Estimate(0.8, 0.7, 0.9, 12, 24, "cluster-bootstrap")}, relative, 12, 24
    )
    agreement = data.report.item_agreement.copy()
    for c, v in (("pearson", 0.81), ("pearson_low", 0.5), ("pearson_high", 0.95)):
        agreement[c] = v
    agreement["note"] = None
    parts = {n: getattr(data.report, n) for n in OPTIONAL}
    parts |= {"ceiling": ceiling, "item_agreement": agreement, "yardstick_notes": ["a note"]}
    report = Report(data.report, **parts)
    doc = build_document(dataclasses.replace(data, report=report))
    yard = next(s for s in doc.sections if s.section_id == "yardsticks")
    tables = [b for b in yard.blocks if isinstance(b, Table)]
    assert any(t.columns[:2] == ("task", "within-person consistency") for t in tables)
    share = next(t for t in tables if "share of ceiling" in t.columns)
    assert share.rows[0][3] == "0.75 [0.60, 0.90]"
    assert "A note." in " ".join(str(b) for b in yard.blocks)
    items = next(s for s in doc.sections if s.section_id == "items")
    scatter = next(b for b in items.blocks if isinstance(b, Plot))
    titles = [a.text for a in scatter.figure.layout.annotations]
    assert any("r = 0.81 [0.50, 0.95]" in t for t in titles)
    agreement_table = next(b for b in items.blocks if isinstance(b, Table))
    assert "note" in agreement_table.columns


def test_a_run_without_failures_says_so(data: RunData) -> None:
    ok = data.frame.loc[data.frame["error"].isna()]
    doc = build_document(dataclasses.replace(data, frame=ok))
    assert any("No trial failed" in t for t in _texts(doc, "failures"))
