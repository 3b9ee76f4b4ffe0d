"""``behaviorlab collect ...``: the capture system's commands (issue 5)."""

from __future__ import annotations

import typer

collect_app = typer.Typer(
    name="collect",
    help="Capture real people's behavior: ingest server, demo shop, export to OPeRA's layout.",
    no_args_is_help=True,
)
