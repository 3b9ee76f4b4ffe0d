"""What the ``behaviorlab series`` commands share: reading a table (errors naming the file and
column), failing with exit code 2, writing ``--json`` and ``--report`` outputs, formatting."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    import pandas as pd

    from behaviorlab.report import Section

console = Console()
err_console = Console(stderr=True)

_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def _fail(message: object) -> NoReturn:
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", str(message)), highlight=False, soft_wrap=True
    )
    raise typer.Exit(2)


def read_run_rows(path: Path) -> pd.DataFrame:
    """A run's trial rows (a run folder or its ``results.sqlite``) as a table: one row per
    trial with its columns (``person_id``, ``step_index``, ``correct``, ...), each key of
    ``scores`` and ``meta`` as ``scores.KEY`` / ``meta.KEY``, and ``arm`` (``simulator ·
    condition``) to give one series per arm with ``--unit arm``."""
    import pandas as pd

    from behaviorlab.runs import open_run

    try:
        frame = open_run(path).to_pandas()
    except (FileNotFoundError, KeyError, ValueError) as err:
        _fail(f"{path}: not a readable run ({err})")
    parts = [frame.drop(columns=[c for c in ("scores", "meta") if c in frame.columns])]
    for base in ("scores", "meta"):
        if base in frame.columns:
            wide = pd.json_normalize([d if isinstance(d, dict) else {} for d in frame[base]])
            parts.append(wide.add_prefix(f"{base}.").set_axis(frame.index))
    out = pd.concat(parts, axis=1)
    out["arm"] = frame["simulator"].astype(str) + " · " + frame["condition"].astype(str)
    return out


def read_table(path: Path) -> pd.DataFrame:
    """A CSV, TSV or Parquet file as a frame, or a run's trial rows (a run folder or its
    ``.sqlite``: :func:`read_run_rows`); a message naming the file when it cannot be."""
    import pandas as pd

    if path.is_dir() or path.suffix.lower() in (".sqlite", ".db"):
        if not path.exists():
            _fail(f"{path}: no such run")
        return read_run_rows(path)
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        _fail(
            f"{path}: read .csv, .tsv or .parquet files or a run (its folder or .sqlite), not "
            f"{path.suffix or 'no suffix'!r}"
        )
    if not path.is_file():
        _fail(f"{path}: no such file")
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if kind == "tsv" else ",")
    except Exception as err:  # any reader error becomes a message naming the file
        _fail(f"{path}: could not be read as {kind} ({type(err).__name__}: {err})")


def _need(frame: pd.DataFrame, path: Path | str, columns: Mapping[str, str | None]) -> None:
    """Fail naming the file, the option and the column when a named column is absent."""
    for option, column in columns.items():
        if column is not None and column not in frame.columns:
            _fail(
                f"{path}: no column {column!r} (given by {option}); the columns are "
                f"{list(frame.columns)}"
            )


def _jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars as Python numbers, NaN and infinity as null."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _outputs(
    payload: dict[str, Any],
    sections: Sequence[Section],
    *,
    json_out: Path | None,
    report: Path | None,
    title: str,
    subtitle: str,
) -> None:
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(_jsonable(payload), indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_out}", highlight=False, soft_wrap=True)
    if report is not None:
        from behaviorlab.report._time_series import series_document, write_series_report

        try:
            written = write_series_report(series_document(title, subtitle, sections), report)
        except ValueError as err:
            _fail(err)
        console.print(f"wrote {written}", highlight=False, soft_wrap=True)


def _num(x: Any, digits: int = 3) -> str:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return "-"
    return f"{f:.{digits}f}" if math.isfinite(f) else "-"


def _p(x: float) -> str:
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _shown(value: Any) -> str:
    """A cell as the file shows it (``2``, not ``np.int64(2)``)."""
    return str(value.item() if hasattr(value, "item") else value)


def _numeric(frame: pd.DataFrame, path: Path, column: str, option: str) -> None:
    import pandas as pd

    col = pd.to_numeric(frame[column], errors="coerce")
    bad = col.isna() & frame[column].notna()
    if bad.any():
        row = frame.index[bad.to_numpy()][0]
        _fail(
            f"{path}: column {column!r} (given by {option}) holds {frame.loc[row, column]!r} "
            f"(row {row}), not a number"
        )
