"""Reading a file of answers made elsewhere (CSV / TSV, JSONL, Parquet or a DataFrame) for
:func:`behaviorlab.runs.import_answers`: each row with where it is in the file (the line a CSV
or JSONL row starts on, the 1-based row of a Parquet file or a DataFrame), the file's SHA-256,
which column holds what (errors name the file, the row and the column), and a cell's value
read as a task's answer (a JSON object typed by the answer schema, a row's probabilities)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
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
    "probabilities": ("probabilities",),
    "episode": ("episode_id",),
}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
"""A number as a cell writes it (no ``nan``/``inf`` words, no ``1_000`` digit groups)."""
_FIELD_LIMIT = 64 * 1024 * 1024
"""The longest cell read (a rationale may be a long chain of thought; csv's default is
128 KiB)."""
_FLAGS = {
    "person": "--person-col",
    "item": "--item-col",
    "value": "--value-col",
    "label": "--label-col (or one --label for every row)",
    "rationale": "--rationale-col",
    "condition": "--condition-col",
    "probabilities": "--probabilities-col",
    "episode": "--episode-col",
}


class AnswerImportError(ValueError):
    """Answers that cannot be imported; the message names the file, the row and the field."""


@dataclass(frozen=True)
class AnswerColumns:
    """Which column of the answers file holds what. ``None``: the first of the usual names
    present (person: ``person_id``, ``person``, ``respondent``...; item: ``item_id``,
    ``item``, ``question_id``...; value: ``value``, ``answer``, ``response``; label:
    ``simulator``, ``label``, ``model``; ``rationale``, ``condition`` and ``probabilities``
    when present). ``probabilities``: a JSON object of option code → probability per row
    (an option task's distribution, for log-loss, Brier and the distribution distances).
    ``episode`` (default ``episode_id`` when present): which of a person's episodes a row
    answers, for data where a person answered the same item in several (panel waves)."""

    person: str | None = None
    item: str | None = None
    value: str | None = None
    label: str | None = None
    rationale: str | None = None
    condition: str | None = None
    probabilities: str | None = None
    episode: str | None = None


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


def _encoding(path: Path) -> str:
    """UTF-8 (with or without its BOM), or UTF-16 when the file starts with its BOM (Excel's
    "Unicode text")."""
    with path.open("rb") as f:
        head = f.read(2)
    return "utf-16" if head in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"


def _undecodable(path: Path, exc: UnicodeDecodeError) -> AnswerImportError:
    raw = path.read_bytes()[: exc.start]
    line = raw.count(b"\n") + 1
    return AnswerImportError(
        f"{path}, line {line}: not UTF-8 (byte {exc.object[exc.start : exc.start + 1]!r} at "
        f"offset {exc.start}); save the file as UTF-8 (or UTF-16 with its byte-order mark)"
    )


def _read_csv(path: Path) -> Table:
    try:
        return _read_csv_text(path, _encoding(path))
    except UnicodeDecodeError as exc:
        raise _undecodable(path, exc) from None


def _read_csv_text(path: Path, encoding: str) -> Table:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    records: list[dict[str, Any]] = []
    where: list[str] = []
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    with path.open(newline="", encoding=encoding) as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise AnswerImportError(f"{path}, line 1: {exc}") from None
        if header is None:
            raise AnswerImportError(f"{path}: the file is empty (no header line)")
        header = [h.strip() for h in header]
        repeated = sorted({h for h in header if header.count(h) > 1})
        if repeated:
            raise AnswerImportError(
                f"{path}, line 1: column(s) {', '.join(map(repr, repeated))} appear more than "
                "once in the header; give each column one name"
            )
        start = reader.line_num + 1
        rows = iter(reader)
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                raise AnswerImportError(f"{path}, line {start}: {exc}") from None
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
    try:
        return _read_jsonl_text(path, records, where)
    except UnicodeDecodeError as exc:
        raise _undecodable(path, exc) from None


def _read_jsonl_text(path: Path, records: list[dict[str, Any]], where: list[str]) -> Table:
    with path.open(encoding=_encoding(path)) as f:
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


# -- cells to answers ------------------------------------------------------------------------


def _coerce(raw: Any, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if not isinstance(raw, str):
        value = raw.item() if hasattr(raw, "item") else raw
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return value
    text = raw.strip()
    if kind in ("number", "integer"):
        if not _NUMBER.fullmatch(text):  # float() would take "nan", "inf", "1_0"
            raise ValueError(f"{text!r} is not a number")
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(f"{text!r} is not a finite number")
        return int(number) if kind == "integer" and number.is_integer() else number
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind == "string" or kind is None:
        return text
    return json.loads(text)


def structured_value(raw: Any, schema: Mapping[str, Any]) -> dict[str, Any] | str:
    """A task's JSON answer from a cell: the object itself (a dict, or JSON text of one), or
    the value of the answer's one required field; a string says what is wrong."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            return f"not a JSON object ({exc.msg})"
        return parsed if isinstance(parsed, dict) else "not a JSON object"
    props = schema.get("properties") or {}
    required = list(schema.get("required") or props)
    if len(required) != 1:
        return (
            f"the task's answer has the fields {', '.join(map(str, required)) or '(none)'}: "
            "give each value as a JSON object"
        )
    name = str(required[0])
    try:
        return {name: _coerce(raw, props.get(name) or {})}
    except (ValueError, TypeError):
        kind = (props.get(name) or {}).get("type")
        return f"{raw!r} is not a {kind} (the answer's {name!r})"


def code_order(code: str) -> tuple[int, float, str]:
    """Option codes in a readable order: numbers by value, then the others."""
    try:
        return (0, float(code), code)
    except ValueError:
        return (1, 0.0, code)


PROBABILITY_TOLERANCE = 1e-3
"""How far from 1 a row's probabilities may sum (they are then rescaled to sum to 1)."""


def probabilities_of(raw: Any, codes: Sequence[str]) -> dict[str, float] | str:
    """A row's probability per option code (JSON text or a mapping), or what is wrong."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            return f"not a JSON object of option code -> probability ({exc.msg})"
    if not isinstance(raw, Mapping):
        return "not a JSON object of option code -> probability"
    unknown = sorted(str(k) for k in raw if str(k) not in codes)
    if unknown:
        return f"{', '.join(map(repr, unknown))} not option codes (codes: {', '.join(codes)})"
    try:
        probs = {str(k): float(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        return "every probability must be a number"
    total = sum(probs.values())
    if any(not math.isfinite(v) or v < 0 for v in probs.values()) or not (
        abs(total - 1) <= PROBABILITY_TOLERANCE
    ):
        return f"probabilities must be numbers >= 0 that sum to 1 (they sum to {total:g})"
    return {c: probs.get(c, 0.0) / total for c in codes}
