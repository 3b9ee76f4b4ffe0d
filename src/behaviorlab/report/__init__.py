"""What people look at: terminal tables and the run progress bar."""

from behaviorlab.report._terminal import gap_summary_lines, render_gap

__all__ = ["gap_summary_lines", "render_gap"]
