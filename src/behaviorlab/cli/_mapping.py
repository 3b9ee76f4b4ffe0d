"""``behaviorlab mapping infer FILE``: a first survey mapping for the user to edit (issue 15).

Typing out the mapping of a 25-item questionnaire by hand is slow; this proposes one from the
table itself, to be edited, never used as it is without reading:

- the **id column**: the first column whose name says so (``id``, ``pid``, ``uid``,
  ``person_id``, ``respondent``, ``participant``, ``caseid``, ``user``, ...) and whose values
  are all distinct; else the table's first column if its values are all distinct and more than
  ``--max-options`` (so it could not be a question anyway); else none (rows are then people).
  The id column is never a question, however few rows the table has;
- **questions**: every other column with at most ``--max-options`` distinct values; its
  options are those values in order (numbers numerically), each labelled by itself, and its
  wording is the column name with a question mark;
- **persona**: the remaining columns (more distinct values, free text, or one value only),
  numeric columns named like a demographic (``age``, ``income``, ``birth_year``, ``height``,
  ``household_size``, ... see :data:`DEMOGRAPHIC_NAMES`) however few their values, and those
  named with ``--persona``, each with a default sentence ``"Your <column> is {value}."``.

The proposal is checked by loading it as a :class:`~behaviorlab.data.SurveyMapping` before it
is printed (or written with ``--out``), so what comes out always loads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.console import Console

if TYPE_CHECKING:
    import pandas as pd

mapping_app = typer.Typer(
    name="mapping",
    help="Survey mappings: propose one from a table for you to edit.",
    no_args_is_help=True,
)
err_console = Console(stderr=True, soft_wrap=True)


@mapping_app.callback()
def _group() -> None:
    """Survey mappings: propose one from a table for you to edit."""


ID_NAMES = re.compile(
    r"(^|_)(id|pid|uid|rid|sid|respid|respondent|participant|person|user|subject|case|caseid"
    r"|record)(_|$)",
    re.I,
)
DEMOGRAPHIC_NAMES = re.compile(
    r"(^|_)(age|years?|birth|born|yob|income|salary|earnings|height|weight|bmi|household"
    r"|children|kids|dependents)(_|$)",
    re.I,
)
MAX_OPTIONS = 12


def _read(path: Path) -> pd.DataFrame:
    from behaviorlab.data._survey import SURVEY_SUFFIXES, read_survey_csv, read_survey_parquet

    if not path.exists():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in SURVEY_SUFFIXES:
        raise ValueError(
            f"{path}: unsupported suffix {path.suffix!r}; give a table ending in "
            f"{', '.join(SURVEY_SUFFIXES)}"
        )
    return read_survey_csv(path) if suffix == ".csv" else read_survey_parquet(path)


def _codes(frame: pd.DataFrame, column: str) -> list[str]:
    """The column's distinct answer codes, in order (numbers numerically)."""
    from behaviorlab.data._mapping import normalise_code

    codes = {c for v in frame[column].tolist() if (c := normalise_code(v)) is not None}

    def key(code: str) -> tuple[int, float, str]:
        try:
            return (0, float(code), code)
        except ValueError:
            return (1, 0.0, code)

    return sorted(codes, key=key)


def _words(column: str) -> str:
    text = re.sub(r"[_\s]+", " ", column).strip()
    return text.replace("{", "{{").replace("}", "}}")


def _distinct_per_row(frame: pd.DataFrame, column: str) -> bool:
    values = frame[column].dropna()
    return len(values) == len(frame) and bool(values.is_unique)


def _id_column(frame: pd.DataFrame, max_options: int) -> str | None:
    columns = list(map(str, frame.columns))
    for column in columns:
        if ID_NAMES.search(column) and _distinct_per_row(frame, column):
            return column
    if columns and len(frame) > max_options and _distinct_per_row(frame, columns[0]):
        return columns[0]
    return None


def _numeric_demographic(frame: pd.DataFrame, column: str) -> bool:
    """A numeric column named like a demographic (age, income, ...): persona, not a question."""
    import pandas as pd

    if not DEMOGRAPHIC_NAMES.search(column):
        return False
    values = frame[column].dropna()
    return len(values) > 0 and bool(pd.to_numeric(values, errors="coerce").notna().all())


def infer_mapping(
    frame: pd.DataFrame,
    *,
    name: str,
    max_options: int = MAX_OPTIONS,
    persona: tuple[str, ...] = (),
    source: str = "",
) -> dict[str, Any]:
    """A survey mapping (as a dict) proposed from ``frame`` by the rules of the module
    docstring; checked by loading it as a ``SurveyMapping``."""
    from behaviorlab.data._mapping import SurveyMapping

    columns = list(map(str, frame.columns))
    unknown = [c for c in persona if c not in columns]
    if unknown:
        raise ValueError(
            f"--persona names column(s) not in the table: {unknown}; columns: {columns}"
        )
    id_column = _id_column(frame, max_options)
    people: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []
    for column in columns:
        if column == id_column:
            continue
        codes = _codes(frame, column)
        if (
            column in persona
            or not 2 <= len(codes) <= max_options
            or _numeric_demographic(frame, column)
        ):
            people.append({"column": column, "template": f"Your {_words(column)} is {{value}}."})
            continue
        questions.append(
            {
                "column": column,
                "text": f"{_words(column).replace('{{', '{').replace('}}', '}')}?",
                "options": {code: code for code in codes},
            }
        )
    if not questions:
        raise ValueError(
            f"no column has 2 to {max_options} distinct answers, so none can be a question; "
            "raise --max-options"
        )
    proposal: dict[str, Any] = {"name": name}
    if id_column is not None:
        proposal["id_column"] = id_column
    if source:
        proposal["source"] = source
    proposal["license"] = ""
    proposal["persona"] = people
    proposal["questions"] = questions
    SurveyMapping.from_dict(proposal, where="the proposed mapping")
    return proposal


HEADER = """\
# A PROPOSED survey mapping from {file} (behaviorlab mapping infer): edit it before use.
# - questions: every column with {max_options} or fewer distinct answers; options are those
#   answers labelled by themselves: write each label and the question's wording.
# - persona: the other columns (and numeric ones named like age or income), one default
#   sentence each; move a column between the two
#   lists as you need (or rerun with --persona COLUMN), and fill in the license.
# - id_column: {id_note}
# docs/own-survey.md describes every field.
"""


def render_mapping(proposal: dict[str, Any], *, file: str, max_options: int) -> str:
    """The proposal as YAML under a header saying what to edit."""
    id_note = (
        f"{proposal['id_column']!r} (every value distinct)"
        if "id_column" in proposal
        else "none found; each row is then one person"
    )
    head = HEADER.format(file=file, max_options=max_options, id_note=id_note)
    body = yaml.safe_dump(proposal, sort_keys=False, allow_unicode=True, width=100)
    return head + body


@mapping_app.command("infer")
def infer(
    file: Annotated[Path, typer.Argument(help="The survey table (.csv or .parquet).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the mapping here (default: print).")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The survey's name (default: the file's stem).")
    ] = None,
    max_options: Annotated[
        int, typer.Option(help="A column with at most this many distinct answers is a question.")
    ] = MAX_OPTIONS,
    persona: Annotated[
        list[str] | None, typer.Option(help="A column that describes the person (repeatable).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --out if it exists.")] = False,
) -> None:
    """Propose a survey mapping for FILE (options from each column's distinct answers, a
    default persona sentence per column) for you to edit."""
    try:
        frame = _read(file)
        proposal = infer_mapping(
            frame,
            name=name or file.stem,
            max_options=max_options,
            persona=tuple(persona or ()),
            source=str(file),
        )
    except ValueError as exc:
        err_console.print(f"error: {exc}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    text = render_mapping(proposal, file=str(file), max_options=max_options)
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists() and not force:
        err_console.print(f"error: {out} exists; pass --force to overwrite it", markup=False)
        raise typer.Exit(1)
    out.write_text(text, encoding="utf-8")
    n_q, n_p = len(proposal["questions"]), len(proposal["persona"])
    err_console.print(
        f"wrote {out}: {n_q} questions, {n_p} persona columns; edit it, then use it in a "
        f"spec as data: {{source: {file}, mapping: {out}}}",
        markup=False,
        highlight=False,
    )
