"""The report as one self-contained HTML page: inline CSS, plotly.js embedded once, no
network requests. Every string from the data is escaped by the template (autoescape)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from behaviorlab.report._document import Document
from behaviorlab.report._plots import plot_html, plotly_js


@cache
def environment() -> Environment:
    """The Jinja environment of the report templates (package data), autoescaping on."""
    return Environment(
        loader=PackageLoader("behaviorlab.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def behaviorlab_version() -> str:
    try:
        return version("behaviorlab")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def render_page(template: str, **context: Any) -> str:
    """Render one of the templates with the version and generation time filled in."""
    context.setdefault("version", behaviorlab_version())
    context.setdefault("generated", datetime.now().strftime("%Y-%m-%d %H:%M"))
    return environment().get_template(template).render(**context)


def render_html(doc: Document) -> str:
    """The whole report page."""
    ids = [p.plot_id for p in doc.plots()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"plot ids must be unique: {ids}")
    plots = {p.plot_id: Markup(plot_html(p)) for p in doc.plots()}
    return render_page(
        "report.html.j2",
        doc=doc,
        plots=plots,
        n_plots=len(plots),
        plotly_js=Markup(plotly_js()),
    )
