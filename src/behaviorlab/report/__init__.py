"""What people look at: terminal tables, the run progress bar, and the HTML / Markdown report.

``write_report(run)`` writes ``runs/NAME/report.html`` (one self-contained page: plots and
plotly.js embedded, no network) and ``report.md``; ``behaviorlab view`` serves them
(:func:`behaviorlab.report._viewer.create_app`).

A family's report hooks (:class:`behaviorlab.plugins.Family` ``report_blocks`` and
``report_sections``) receive a :class:`RunData` and return the document's parts exported
here (:class:`Paragraph`, :class:`Heading`, :class:`Bullets`, :class:`Table`, :class:`Plot`,
:class:`Code`, or whole :class:`Section` objects); the HTML and Markdown renderers escape
every string in them.
"""

from behaviorlab.report._collect import RunData
from behaviorlab.report._document import (
    Block,
    Bullets,
    Code,
    Heading,
    Paragraph,
    Plot,
    Section,
    Table,
)
from behaviorlab.report._report import ReportFiles, write_report
from behaviorlab.report._terminal import gap_summary_lines, render_gap

__all__ = [
    "Block",
    "Bullets",
    "Code",
    "Heading",
    "Paragraph",
    "Plot",
    "ReportFiles",
    "RunData",
    "Section",
    "Table",
    "gap_summary_lines",
    "render_gap",
    "write_report",
]
