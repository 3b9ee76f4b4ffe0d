"""Reading a file of answers made elsewhere (CSV / TSV, JSONL, Parquet or a DataFrame) for
:func:`behaviorlab.runs.import_answers`: each row with where it is in the file (the line a CSV
or JSONL row starts on, the 1-based row of a Parquet file or a DataFrame), the file's SHA-256,
and which column holds what (errors name the file, the row and the column)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

_ALIASES: dict[str, tuple[str, ...]] = {
    "person": ("person_id", "person", "respondent", "respondent_id"),
    "item": ("item_id", "item", "question_id", "question"),
    "value": ("value", "answer", "response"),
    "label": ("simulator", "label", "model"),
    "rationale": ("rationale",),
    "condition": ("condition",),
}
_FLAGS = {
    "person": "--person-col",
    "item": "--item-col",
    "value": "--value-col",
    "label": "--label-col (or one --label for every row)",
    "rationale": "--rationale-col",
    "condition": "--condition-col",
}


class AnswerImportError(ValueError):
    """Answers that cannot be imported; the message names the file, the row and the field."""


@dataclass(frozen=True)
class AnswerColumns:
    """Which column of the answers file holds what. ``None``: the first of the usual names
    present (person: ``person_id``, ``person``, ``respondent``...; item: ``item_id``,
    ``item``, ``question_id``...; value: ``value``, ``answer``, ``response``; label:
    ``simulator``, ``label``, ``model``; ``rationale`` and ``condition`` when present)."""

    person: str | None = None
    item: str | None = None
    value: str | None = None
    label: str | None = None
    rationale: str | None = None
    condition: str | None = None


@dataclass(frozen=True)
class UnmatchedRow:
    """A row of the answers file that matched no trial, and why."""

    file: str
    row: str
    """Where in the file: ``line N`` (CSV, JSONL: the line the row starts on) or ``row N``
    (Parquet, a DataFrame: 1-based)."""
    field: str
    """The column at fault (the person, item or value column)."""
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, {self.row}: {self.field}: {self.reason}"


@dataclass
class Table:
    origin: str
    sha256: str
    records: list[dict[str, Any]]
    where: list[str]
    columns: list[str]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_csv(path: Path) -> Table:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    records: list[dict[str, Any]] = []
    where: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise AnswerImportError(f"{path}: the file is empty (no header line)")
        header = [h.strip() for h in header]
        start = reader.line_num + 1
        for cells in reader:
            if any(c.strip() for c in cells):
                if len(cells) != len(header):
                    raise AnswerImportError(
                        f"{path}, line {start}: {len(cells)} fields where the header has "
                        f"{len(header)}; fix the row (a comma inside a value needs quotes)"
                    )
                records.append(dict(zip(header, cells, strict=True)))
                where.append(f"line {start}")
            start = reader.line_num + 1
    return Table(str(path), _sha256(path), records, where, header)


def _read_jsonl(path: Path) -> Table:
    records: list[dict[str, Any]] = []
    where: list[str] = []
    with path.open(encoding="utf-8-sig") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AnswerImportError(f"{path}, line {n}: not JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise AnswerImportError(
                    f"{path}, line {n}: a JSON object per line is expected, not "
                    f"{type(obj).__name__}"
                )
            records.append(obj)
            where.append(f"line {n}")
    columns = list(dict.fromkeys(k for r in records for k in r))
    return Table(str(path), _sha256(path), records, where, columns)


def _from_frame(frame: pd.DataFrame, origin: str, sha256: str) -> Table:
    records = [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]
    where = [f"row {i}" for i in range(1, len(records) + 1)]
    return Table(origin, sha256, records, where, [str(c) for c in frame.columns])


def read_table(answers: str | Path | pd.DataFrame) -> Table:
    if isinstance(answers, pd.DataFrame):
        digest = hashlib.sha256(
            json.dumps([str(c) for c in answers.columns]).encode()
            + pd.util.hash_pandas_object(answers.astype(str), index=False).to_numpy().tobytes()
        ).hexdigest()
        return _from_frame(answers, "<DataFrame>", digest)
    path = Path(answers)
    if not path.is_file():
        raise AnswerImportError(f"answers file {str(path)!r} not found (or not a file)")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _read_csv(path)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise AnswerImportError(f"{path}: not a readable Parquet file ({exc})") from None
        return _from_frame(frame, str(path), _sha256(path))
    raise AnswerImportError(
        f"{path}: answers are read from .csv, .tsv, .jsonl or .parquet files (or a DataFrame "
        f"in Python), not {suffix or 'a file without a suffix'}"
    )


def text_of(value: Any) -> str | None:
    """A cell as text (an id, a label, an option code): None when missing or blank."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # a numpy scalar
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if value is pd.NA or value is pd.NaT:
        return None
    text = str(value).strip()
    return text or None


def columns_of(table: Table, given: AnswerColumns, label: str | None) -> dict[str, str | None]:
    """The column of each field (None: an optional field the file does not have)."""
    out: dict[str, str | None] = {}
    for fld, names in _ALIASES.items():
        chosen: str | None = getattr(given, fld)
        if fld == "label" and label is not None and chosen is None:
            out[fld] = None
            continue
        if chosen is not None:
            if chosen not in table.columns:
                raise AnswerImportError(
                    f"{table.origin}: no column {chosen!r} (given for the {fld}); its columns: "
                    f"{', '.join(table.columns) or 'none'}"
                )
            out[fld] = chosen
            continue
        found = next((n for n in names if n in table.columns), None)
        if found is None and fld in ("person", "item", "value", "label"):
            raise AnswerImportError(
                f"{table.origin}: no {fld} column (looked for {', '.join(names)}); its columns: "
                f"{', '.join(table.columns) or 'none'}. Name it with {_FLAGS[fld]}"
            )
        out[fld] = found
    return out
