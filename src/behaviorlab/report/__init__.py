"""What people look at: terminal tables, the run progress bar, and the HTML / Markdown report.

``write_report(run)`` writes ``runs/NAME/report.html`` (one self-contained page: plots and
plotly.js embedded, no network) and ``report.md``; ``behaviorlab view`` serves them
(:func:`behaviorlab.report._viewer.create_app`).
"""

from behaviorlab.report._report import ReportFiles, write_report
from behaviorlab.report._terminal import gap_summary_lines, render_gap

__all__ = ["ReportFiles", "gap_summary_lines", "render_gap", "write_report"]
