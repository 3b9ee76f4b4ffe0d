"""``write_report(run)``: the gap report of a stored run as an HTML page and a Markdown summary."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from behaviorlab.report._breakdown import (
    confusion_section,
    distributions_section,
    items_section,
    position_section,
    subgroups_section,
)
from behaviorlab.report._collect import RunData, collect, run_families
from behaviorlab.report._compare import compare_section, run_labels
from behaviorlab.report._document import Document, Section
from behaviorlab.report._html import render_html
from behaviorlab.report._markdown import render_markdown
from behaviorlab.report._operations import failures_section, manifest_section, yardsticks_section
from behaviorlab.report._sections import effects_section, headline_section, metrics_section
from behaviorlab.report._time_series import run_time_series_sections
from behaviorlab.runs import Run, open_run

HTML_NAME = "report.html"
MARKDOWN_NAME = "report.md"


@dataclass(frozen=True)
class ReportFiles:
    """Where :func:`write_report` wrote the report."""

    html: Path
    markdown: Path


def build_document(
    data: RunData, compare: RunData | None = None, *, n_resamples: int = 2000
) -> Document:
    """The report of one run (and, with ``compare``, its comparison with a second run)."""
    sections: list[Section] = [headline_section(data), metrics_section(data)]
    for fam in run_families(data):  # each family present adds its own sections
        if fam.report_sections is not None:
            sections += fam.report_sections(data)
    sections += run_time_series_sections(data)  # the spec's report: {time_series: ...}
    if compare is not None:
        sections.append(compare_section(data, compare, n_resamples=n_resamples))
    sections += [
        effects_section(data),
        subgroups_section(data),
        confusion_section(data),
        distributions_section(data),
        items_section(data),
        position_section(data),
        failures_section(data),
        yardsticks_section(data),
    ]
    if (data.manifest.get("spec") or {}).get("sweep"):  # a sensitivity sweep (runs._sweep)
        sections.append(_sweep_section(data, n_resamples))
    sections.append(manifest_section(data))
    title = f"behaviorlab report: {data.name}"
    subtitle = f"run {data.run_id} · {data.status}"
    if data.created_at:
        subtitle += f" · created {data.created_at[:19].replace('T', ' ')}"
    if compare is not None:
        title += f" vs {run_labels(data, compare)[1]}"
    return Document(title, subtitle, tuple(sections))


def _sweep_section(data: RunData, n_resamples: int) -> Section:
    """The sweep's factor effects (:func:`behaviorlab.analysis.sensitivity`) as a section; an
    unfinished sweep is read as far as it went (its notes say which cells are short)."""
    from behaviorlab.analysis import sensitivity
    from behaviorlab.report._document import Paragraph
    from behaviorlab.report._sensitivity import sensitivity_section

    try:
        result = sensitivity(data.run, n_resamples=n_resamples, allow_partial=True)
    except ValueError as exc:
        why = Paragraph(f"No sensitivity analysis of this sweep: {exc}", "missing")
        return Section("sensitivity", "Sensitivity", (why,))
    return sensitivity_section(result)


def _write(path: Path, text: str) -> None:
    """Write atomically: readers (the viewer) never see a half-written report."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(
    run: Run | str | Path,
    out_dir: str | Path | None = None,
    *,
    compare: Run | str | Path | None = None,
    n_resamples: int = 2000,
) -> ReportFiles:
    """Write ``report.html`` (self-contained: plots and plotly.js embedded, no network) and
    ``report.md`` (a summary) for a stored run.

    ``run`` is a :class:`~behaviorlab.runs.Run` or anything :func:`~behaviorlab.open_run`
    takes; ``out_dir`` defaults to the run's folder (``runs/NAME/``). With ``compare`` (a
    second run) the report adds both runs' metrics side by side and their differences.
    """
    run = run if isinstance(run, Run) else open_run(run)
    data = collect(run, n_resamples=n_resamples)
    other = None
    if compare is not None:
        compare = compare if isinstance(compare, Run) else open_run(compare)
        other = collect(compare, n_resamples=n_resamples)
    doc = build_document(data, other, n_resamples=n_resamples)
    folder = Path(out_dir) if out_dir is not None else data.folder
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(folder / HTML_NAME, folder / MARKDOWN_NAME)
    _write(files.html, render_html(doc))
    _write(files.markdown, render_markdown(doc, HTML_NAME))
    return files
