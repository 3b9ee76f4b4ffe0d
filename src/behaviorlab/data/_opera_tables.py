"""Reading one OPeRA table file, Parquet, CSV or JSON, as a ``pyarrow.Table``.

* Parquet: as it is.
* CSV (UTF-8, a header row, quoted cells may span lines): every column the table holds as
  text is read as text (a ``user_id`` of digits stays ``"0042"``); an empty cell is null
  (CSV cannot tell an empty string from a missing value); integer columns
  (``action_count``) are read as integers.
* JSON: an array of row objects, or one object per line (JSON Lines). A cell holding an
  object or a list (a survey written as nested JSON rather than as JSON text) is stored as
  its JSON text, which is what OPeRA's Parquet holds; a missing key is null.

A file that cannot be read is an :class:`OperaFormatError` naming it and what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from behaviorlab.data._opera_files import table_format
from behaviorlab.data._opera_schema import INTEGER_COLUMNS, OperaFormatError

if TYPE_CHECKING:
    import pyarrow as pa


def read_table(path: Path, table: str, columns: Iterable[str]) -> pa.Table:
    """The file at ``path`` (OPeRA's ``table``, whose columns are ``columns``)."""
    kind = table_format(path)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if kind == "csv":
            return _read_csv(path, columns)
        return _read_json(path)
    except OperaFormatError:
        raise
    except (ValueError, TypeError, OSError) as err:  # pyarrow's ArrowInvalid, ArrowTypeError
        raise OperaFormatError(
            f"cannot read OPeRA {table} table {str(path)!r} as {kind.upper()}: {err}",
            table=table,
            path=str(path),
            reason="unreadable_file",
        ) from err


def _read_csv(path: Path, columns: Iterable[str]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text = {c: pa.string() for c in columns if c not in INTEGER_COLUMNS}
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=text, null_values=[""], strings_can_be_null=True
        ),
    )


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _read_json(path: Path) -> pa.Table:
    import pyarrow as pa

    raw = path.read_text(encoding="utf-8-sig")
    try:
        parsed: Any = json.loads(raw) if raw.strip() else []
    except json.JSONDecodeError:
        parsed = []
        for n, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                parsed.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise OperaFormatError(
                    f"cannot read {str(path)!r} as JSON: neither one JSON array nor JSON "
                    f"Lines (line {n}: {err.msg} at column {err.colno})",
                    path=str(path),
                    reason="unreadable_file",
                ) from err
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
        raise OperaFormatError(
            f"cannot read {str(path)!r} as an OPeRA table: expected a JSON array of row "
            "objects ({column: value}) or one such object per line",
            path=str(path),
            reason="unreadable_file",
        )
    names = list(dict.fromkeys(k for row in parsed for k in row))
    data = {c: [_cell(row.get(c)) for row in parsed] for c in names}
    return pa.table(data) if names else pa.table({})
