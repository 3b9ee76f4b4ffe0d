"""Reading a run's trials: only the columns asked for, in chunks of a bounded number of rows.

``ResultStore.to_pandas(columns=...)`` reads some columns of every row at once;
``ResultStore.iter_frames(columns=..., chunk_rows=...)`` yields the same rows, in the same
order, as frames of at most ``chunk_rows`` rows, so a caller that sums over them (the gap
report's per-person sums) holds one chunk at a time. JSON columns are decoded and
``created_at`` parsed in either, when read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import pandas as pd

from behaviorlab.store._open import reading
from behaviorlab.store._schema import ADDED_COLUMNS, COLUMNS, JSON_COLUMNS

DEFAULT_CHUNK_ROWS = 50_000
"""Rows per chunk of :meth:`ResultStore.iter_frames` unless told (a few tens of MB of a
frame of the analysis columns)."""

ORDER = "ORDER BY simulator, condition, seed, person_id, item_id"
"""The order rows are read in (the same for the whole frame and for chunks)."""


def chosen_columns(columns: Sequence[str] | None) -> list[str]:
    """``columns`` (default: all of the results schema, in schema order), checked."""
    if columns is None:
        return list(COLUMNS)
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ValueError(
            f"unknown results column(s) {', '.join(map(repr, unknown))}; the trials table has "
            f"{', '.join(COLUMNS)} (behaviorlab.store.COLUMNS)"
        )
    if not columns:
        raise ValueError("columns is empty: name at least one results column to read")
    return list(dict.fromkeys(columns))


def select_sql(columns: Sequence[str], have: Collection[str]) -> str:
    """The SELECT of ``columns`` from the trials of one run (a parameter), a column the file
    lacks (opened read-only before its migration) read as its default."""
    parts = [
        c if c in have else f"{ADDED_COLUMNS[c][1].rsplit('DEFAULT', 1)[1].strip()} AS {c}"
        for c in columns
    ]
    return f"SELECT {', '.join(parts)} FROM trials WHERE run_id = ? {ORDER}"


def decode(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (read from SQLite) with its JSON columns decoded and ``created_at`` parsed,
    for those it has; in place, returned."""
    for c in JSON_COLUMNS:
        if c in frame.columns:
            frame[c] = [json.loads(v) if isinstance(v, str) else None for v in frame[c]]
    if "created_at" in frame.columns:
        # ISO 8601 with or without microseconds (isoformat() leaves them out when 0)
        frame["created_at"] = pd.to_datetime(frame["created_at"], format="ISO8601")
    return frame


def iter_frames(
    db: sqlite3.Connection, path: Path, sql: str, run_id: str, columns: Sequence[str], rows: int
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``rows`` rows of ``sql`` (see :func:`select_sql`), decoded. The
    cursor is read ``rows`` at a time (``fetchmany``): no more than one chunk is held."""
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"chunk_rows must be a whole number of rows, at least 1; got {rows!r}")
    return _chunks(db, path, sql, run_id, columns, rows)


def _chunks(
    db: sqlite3.Connection, path: Path, sql: str, run_id: str, columns: Sequence[str], rows: int
) -> Iterator[pd.DataFrame]:
    with reading(path):
        cursor = db.execute(sql, (run_id,))
        try:
            while batch := cursor.fetchmany(rows):
                yield decode(pd.DataFrame.from_records(batch, columns=list(columns)))
        finally:
            cursor.close()
