"""``behaviorlab import FILE --run NAME --data SPEC``: answers made elsewhere, stored as a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

console = Console()
err_console = Console(stderr=True)

SHOWN_UNMATCHED = 20
"""Unmatched rows printed (all of them: ``--unmatched FILE.csv``)."""


def _col(what: str) -> typer.models.OptionInfo:
    return typer.Option(help=f"Column of the {what}.", show_default=False)  # type: ignore[no-any-return]


def import_cmd(
    file: Annotated[
        Path, typer.Argument(help="Answers: .csv / .tsv / .jsonl / .parquet, one row per answer.")
    ],
    run: Annotated[str, typer.Option("--run", help="Name of the run to store them in.")],
    data: Annotated[
        str,
        typer.Option(
            "--data",
            help="The human data: an experiment spec or data spec (YAML), or a dataset name.",
        ),
    ],
    task: Annotated[
        str | None, typer.Option(help="Task (default: the spec's, else the default family's).")
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(help="Simulator label of every row (the file then needs no label column)."),
    ] = None,
    person_col: Annotated[
        str | None, _col("person id (default: person_id, person, respondent...)")
    ] = None,
    item_col: Annotated[
        str | None, _col("item id (default: item_id, item, question_id...)")
    ] = None,
    value_col: Annotated[str | None, _col("answer (default: value, answer, response)")] = None,
    label_col: Annotated[
        str | None, _col("simulator label (default: simulator, label, model)")
    ] = None,
    rationale_col: Annotated[str | None, _col("rationale (optional; default: rationale)")] = None,
    condition_col: Annotated[
        str | None, _col("condition (optional; default: condition, else full)")
    ] = None,
    probabilities_col: Annotated[
        str | None,
        _col("probabilities, a JSON object code -> probability (optional; default: probabilities)"),
    ] = None,
    episode_col: Annotated[
        str | None, _col("episode id, when a person answered an item in several episodes")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Trial seed (default: the spec's first, else 0).")
    ] = None,
    unmatched: Annotated[
        Path | None, typer.Option(help="Write every unmatched row (file, row, field) here, CSV.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder holding one sub-folder per run.")] = (
        Path("runs")
    ),
) -> None:
    """Store answers another tool made (person, item, value, simulator label [, rationale])
    as a run, matched to the human data by person and item; no model is run. Columns default
    to person_id, item_id, value, simulator (or person / item / answer / label ...)."""
    from behaviorlab.runs import AnswerColumns, import_answers

    columns = AnswerColumns(
        person=person_col,
        item=item_col,
        value=value_col,
        label=label_col,
        rationale=rationale_col,
        condition=condition_col,
        probabilities=probabilities_col,
        episode=episode_col,
    )
    try:
        summary = import_answers(
            file,
            run=run,
            data=data,
            task=task,
            columns=columns,
            label=label,
            seed=seed,
            out=out,
        )
    except (ValueError, FileNotFoundError, LookupError) as exc:
        err_console.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        raise typer.Exit(2) from None
    labels = ", ".join(f"{lab} ({n})" for lab, n in summary.matched.items())
    say = console.print
    say(
        f"imported {summary.file} (sha256 {summary.sha256[:12]}): {summary.rows} rows; "
        f"{sum(summary.matched.values())} matched a trial, for {labels}; "
        f"{summary.stored} stored now, {summary.already_stored} already stored; "
        f"no model was run",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    if summary.unmatched:
        say(
            f"{len(summary.unmatched)} rows matched no trial and were left out:",
            highlight=False,
            style="yellow",
        )
        for u in summary.unmatched[:SHOWN_UNMATCHED]:
            say(f"  {u}", highlight=False, markup=False, soft_wrap=True)
        rest = len(summary.unmatched) - SHOWN_UNMATCHED
        if rest > 0 and unmatched is None:
            say(f"  ... {rest} more; list them all with --unmatched FILE.csv", highlight=False)
    if unmatched is not None:
        summary.unmatched_frame().to_csv(unmatched, index=False)
        say(f"unmatched rows: {unmatched}", highlight=False, markup=False, soft_wrap=True)
    where = f" --out {out}" if out != Path("runs") else ""
    say(
        f"run {summary.run_id} ({summary.status}): {summary.results_path}\n"
        f"gap:     behaviorlab gap {run}{where}\nreport:  behaviorlab report {run}{where}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
