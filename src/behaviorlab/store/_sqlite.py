"""The embedded results store: one SQLite file per experiment, in WAL mode.

One writer (the runner) commits every trial in its own transaction with ``synchronous=FULL``,
so an acknowledged trial survives a ``kill -9``; readers (a report, a notebook) read at the
same time. The schema is versioned: :data:`MIGRATIONS` upgrades older files in order.

What a trial brings is bounded before it is stored: ``raw_output`` keeps its first
:data:`RAW_OUTPUT_HEAD_CHARS` characters, and ``meta["raw_output_chars"]`` then holds the full
length. A row SQLite refuses (a text or blob past its size limit, an integer past 64 bits) is
stored instead as that trial's failure, ``error_kind`` :data:`STORE_WRITE_ERROR`, with the
reason: one trial's odd value never ends a run. A failure of the store itself (disk full, an
I/O error) is a :class:`StoreWriteError`: the run stops with the reason, what was committed
stays, and a rerun resumes.

Opening checks that the file is a behaviorlab store (see :mod:`behaviorlab.store._open`): an
empty, cut or foreign file is a :class:`BrokenStoreError` naming it and what to do, and is
never overwritten. A new file is created atomically. A store opened for writing holds its
write lock (:class:`behaviorlab.store._lock.StoreLock`) until it is closed, so a second
writer is refused with the first one's pid.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

import pandas as pd

from behaviorlab.store._errors import NewerStoreError, StoreWriteError
from behaviorlab.store._lock import StoreLock
from behaviorlab.store._open import check_header, check_schema, create_atomically, reading
from behaviorlab.store._read import (
    DEFAULT_CHUNK_ROWS,
    chosen_columns,
    decode,
    iter_frames,
    select_sql,
)
from behaviorlab.store._schema import (
    ADDED_COLUMNS,
    COLUMNS,
    JSON_COLUMNS,
    RESULTS_SCHEMA_VERSION,
    TrialResult,
)

log = logging.getLogger(__name__)

RAW_OUTPUT_HEAD_CHARS = 64 * 1024
"""The most characters of a trial's ``raw_output`` stored (a model's output can be megabytes)."""

STORE_WRITE_ERROR = "store_write"
"""``error_kind`` of a trial whose row SQLite refused (stored as failed in its place)."""

_FAILED_ROW_HEAD_CHARS = 4096
"""Characters of ``raw_output`` kept in the failure row that replaces a refused one."""

_INT64 = (-(2**63), 2**63 - 1)

_SQL_TYPES = {
    "seed": "INTEGER",
    "step_index": "INTEGER",
    "answer_position": "INTEGER",
    "correct": "REAL",
    "latency_s": "REAL",
    "tokens_in": "INTEGER",
    "tokens_out": "INTEGER",
    "calls": "INTEGER",
    "cache_hits": "INTEGER",
}


V1_COLUMNS = tuple(c for c in COLUMNS if c not in ADDED_COLUMNS)
"""The trials columns version 1 created (later ones come from their own migrations)."""


def _v1(db: sqlite3.Connection) -> None:
    cols = ",\n  ".join(f"{c} {_SQL_TYPES.get(c, 'TEXT')}" for c in V1_COLUMNS)
    # one statement at a time: executescript() would commit the migration's transaction
    statements = f"""
        CREATE TABLE runs (
          run_id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          spec TEXT NOT NULL,
          manifest TEXT,
          status TEXT NOT NULL,
          created_at TEXT NOT NULL,
          updated_at TEXT NOT NULL
        );
        CREATE TABLE trials (
          {cols},
          PRIMARY KEY (run_id, trial_id)
        );
        CREATE INDEX trials_by_sim ON trials (run_id, simulator, condition);
        """
    for statement in statements.split(";"):
        if statement.strip():
            db.execute(statement)


def _v2(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE persons (run_id TEXT NOT NULL, person_id TEXT NOT NULL, "
        "attributes TEXT NOT NULL, PRIMARY KEY (run_id, person_id))"
    )


def _add_columns(version: int) -> Callable[[sqlite3.Connection], None]:
    """A migration adding the trials columns of :data:`ADDED_COLUMNS` from ``version``."""

    def apply(db: sqlite3.Connection) -> None:
        have = {row[1] for row in db.execute("PRAGMA table_info(trials)")}
        for name, (added, definition) in ADDED_COLUMNS.items():
            if added == version and name not in have:
                db.execute(f"ALTER TABLE trials ADD COLUMN {name} {definition}")

    return apply


MIGRATIONS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (1, "create runs and trials", _v1),
    (2, "persons: persona attributes of the people simulated (for subgroup analysis)", _v2),
    (3, "trials.cost: what the trial's uncached model calls cost", _add_columns(3)),
]
"""(version, description, function): applied in order to bring a file up to date."""

assert MIGRATIONS[-1][0] == RESULTS_SCHEMA_VERSION

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _reads(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A read whose "malformed" / "not a database" becomes a :class:`BrokenStoreError`."""

    @functools.wraps(method)
    def read(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        store = args[0]
        assert isinstance(store, ResultStore)
        with reading(store.path):
            return method(*args, **kwargs)

    return read


def migrate(db: sqlite3.Connection, path: Path, current: int) -> None:
    """Apply the :data:`MIGRATIONS` above ``current``, each in its own transaction."""
    if current > RESULTS_SCHEMA_VERSION:
        raise NewerStoreError(
            f"{path}: results schema version {current} is newer than this behaviorlab "
            f"({RESULTS_SCHEMA_VERSION}); upgrade behaviorlab to read it"
        )
    for version, _, apply in MIGRATIONS:
        if version > current:
            db.execute("BEGIN IMMEDIATE")
            try:
                apply(db)
                db.execute(f"PRAGMA user_version = {version}")
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise


class ResultStore:
    """Results of one or more runs in one SQLite file; a context manager that closes it::

    with ResultStore(path) as store:
        frame = store.to_pandas()
    """

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self._lock: StoreLock | None = None
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(f"results file {str(self.path)!r} does not exist")
            check_header(self.path)
            uri = f"file:{self.path.resolve()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
            try:
                check_schema(self._db, self.path, allow_blank=False)
            except BaseException:
                self._db.close()
                raise
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._writing("take the write lock"):  # before looking: no one else creates it
            self._lock = StoreLock(self.path).acquire()
        try:
            with self._writing("create the store"):
                if self.path.exists():
                    check_header(self.path)
                else:
                    create_atomically(self.path, lambda db: migrate(db, self.path, 0))
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except BaseException:
            self._lock.release()
            raise
        try:
            with self._writing("open the store"):
                # the schema first: setting WAL rewrites the header of someone else's file
                current = check_schema(self._db, self.path, allow_blank=True)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                migrate(self._db, self.path, current)
        except BaseException:
            self.close()
            raise

    # -- schema -----------------------------------------------------------------------------
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """A failure of the store itself (not of one row) as a :class:`StoreWriteError`."""
        try:
            with reading(self.path):
                yield
        except (sqlite3.DataError, OverflowError):
            raise
        except (sqlite3.Error, OSError) as exc:
            name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
            if name in ("SQLITE_READONLY", "PermissionError") or name.startswith("SQLITE_PERM"):
                fix = "Make the file and its folder writable"
            elif name == "SQLITE_FULL" or getattr(exc, "errno", None) == errno.ENOSPC:
                fix = "Free disk space"
            else:
                fix = "Fix the disk"
            raise StoreWriteError(
                f"could not {what} in {str(self.path)!r}: {exc} ({name}). The run stops here; "
                f"every trial committed before is kept. {fix} (or move the run with --out), "
                "then run again: it resumes from what is stored."
            ) from exc

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, run_id: str, name: str, spec: dict[str, Any]) -> None:
        now = datetime.now().isoformat()
        with self._writing(f"record run {run_id}"):
            self._execute(
                "INSERT INTO runs (run_id, name, spec, status, created_at, updated_at) "
                "VALUES (?, ?, ?, 'running', ?, ?) "
                "ON CONFLICT(run_id) DO UPDATE SET status='running', "
                "updated_at=excluded.updated_at",
                (run_id, name, json.dumps(spec), now, now),
            )

    def set_manifest(self, run_id: str, manifest: dict[str, Any]) -> None:
        with self._writing(f"write the manifest of run {run_id}"):
            self._execute(
                "UPDATE runs SET manifest = ?, updated_at = ? WHERE run_id = ?",
                (json.dumps(manifest, default=str), datetime.now().isoformat(), run_id),
            )

    def finish_run(self, run_id: str, status: str = "finished") -> None:
        with self._writing(f"finish run {run_id}"):
            self._execute(
                "UPDATE runs SET status = ?, updated_at = ? WHERE run_id = ?",
                (status, datetime.now().isoformat(), run_id),
            )

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """One write statement in its own transaction (autocommit)."""
        self._db.execute(sql, params)

    @_reads
    def runs(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT run_id, name, status, created_at, updated_at FROM runs ORDER BY created_at",
            self._db,
        )

    @_reads
    def latest_run_id(self) -> str:
        row = self._db.execute(
            "SELECT run_id FROM runs ORDER BY updated_at DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise LookupError(f"{self.path}: holds no runs")
        return str(row[0])

    @_reads
    def manifest(self, run_id: str) -> dict[str, Any]:
        row = self._db.execute("SELECT manifest FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise LookupError(f"{self.path}: no run {run_id!r}")
        result: dict[str, Any] = json.loads(row[0]) if row[0] else {}
        return result

    # -- trials -----------------------------------------------------------------------------
    @_reads
    def done_ids(self, run_id: str) -> set[str]:
        rows = self._db.execute("SELECT trial_id FROM trials WHERE run_id = ?", (run_id,))
        return {r[0] for r in rows}

    def write(self, result: TrialResult) -> TrialResult:
        """Insert one trial durably (its own transaction). A trial already stored is kept.

        Returns the row as stored: ``raw_output`` bounded, or the failure that replaced a row
        SQLite refused (see the module docstring)."""
        return self.write_many([result])[0]

    def write_many(self, results: Iterable[TrialResult]) -> list[TrialResult]:
        """Insert trials in one transaction; the rows as stored (see :meth:`write`)."""
        stored = [_bounded(r) for r in results]
        insert = (
            f"INSERT INTO trials ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
            "ON CONFLICT(run_id, trial_id) DO NOTHING"
        )
        first = stored[0].trial_id if stored else "-"
        with self._writing(f"store trial {first}" + (" and others" if len(stored) > 1 else "")):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for i, result in enumerate(stored):
                    try:  # SQLite checks sizes when binding: a refused row changes nothing
                        self._db.execute(insert, self._row(result))
                    except (sqlite3.DataError, OverflowError) as e:
                        limit = self._db.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
                        stored[i] = _refused(result, e, limit)
                        log.warning("%s: trial %s: %s", self.path, result.trial_id, stored[i].error)
                        self._db.execute(insert, self._row(stored[i]))
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        return stored

    def _rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already (after an I/O error)."""
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    @staticmethod
    def _row(result: TrialResult) -> tuple[Any, ...]:
        data = result.model_dump(mode="json")
        return tuple(
            json.dumps(data[c]) if c in JSON_COLUMNS and data[c] is not None else data[c]
            for c in COLUMNS
        )

    def write_persons(self, run_id: str, persons: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Store the persona attributes of the people a run simulates (idempotent)."""
        rows = [(run_id, pid, json.dumps(attrs, default=str)) for pid, attrs in persons]
        with self._writing(f"store the people of run {run_id}"):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO persons (run_id, person_id, attributes) VALUES (?, ?, ?) "
                    "ON CONFLICT(run_id, person_id) DO UPDATE SET attributes = "
                    "excluded.attributes",
                    rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    @_reads
    def persons(self, run_id: str | None = None) -> pd.DataFrame:
        """One row per simulated person: ``person_id`` and one column per persona attribute."""
        rid = run_id or self.latest_run_id()
        if self.schema_version() < 2:  # written before persons were stored (read-only open)
            return pd.DataFrame(columns=["person_id"])
        rows = self._db.execute(
            "SELECT person_id, attributes FROM persons WHERE run_id = ? ORDER BY person_id",
            (rid,),
        ).fetchall()
        records = [{"person_id": pid, **json.loads(attrs)} for pid, attrs in rows]
        return pd.DataFrame.from_records(records, columns=None if records else ["person_id"])

    def _columns(self) -> set[str]:
        return {row[1] for row in self._db.execute("PRAGMA table_info(trials)")}

    @_reads
    def totals(self, run_id: str) -> dict[str, dict[str, float]]:
        """Stored trials, tokens and cost by simulator label, for ``run_id``."""
        cost = "SUM(cost)" if "cost" in self._columns() else "0"
        rows = self._db.execute(
            f"SELECT simulator, COUNT(*), SUM(tokens_in), SUM(tokens_out), {cost} "
            "FROM trials WHERE run_id = ? GROUP BY simulator ORDER BY simulator",
            (run_id,),
        )
        return {
            str(sim): {
                "trials": int(n),
                "tokens_in": int(tin or 0),
                "tokens_out": int(tout or 0),
                "cost": float(c or 0.0),
            }
            for sim, n, tin, tout, c in rows
        }

    @_reads
    def count(self, run_id: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM trials WHERE run_id = ?", (run_id,))
        return int(row.fetchone()[0])

    @_reads
    def to_pandas(
        self, run_id: str | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One row per trial of ``run_id`` (default: the latest run), JSON columns decoded.

        ``columns`` reads only those results columns (default: all), which is what bounds
        the memory of an analysis that needs a few of them (see :meth:`iter_frames`)."""
        rid = run_id or self.latest_run_id()
        chosen = chosen_columns(columns)
        frame = pd.read_sql_query(select_sql(chosen, self._columns()), self._db, params=(rid,))
        return decode(frame)

    def iter_frames(
        self,
        run_id: str | None = None,
        *,
        columns: Sequence[str] | None = None,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`to_pandas` (same columns, same order), as frames of at most
        ``chunk_rows`` rows read one after the other: a sum over them holds one chunk.

        The run and the columns are checked here; the rows are read as the frames are
        taken. Keep the store open until the last one."""
        rid = run_id or self.latest_run_id()
        chosen = chosen_columns(columns)
        with reading(self.path):
            sql = select_sql(chosen, self._columns())
        return iter_frames(self._db, self.path, sql, rid, chosen, chunk_rows)

    def close(self) -> None:
        """Close the file and release the write lock (held by a writable store)."""
        try:
            db = getattr(self, "_db", None)
            if db is not None:
                db.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _bounded(result: TrialResult) -> TrialResult:
    """``result`` with at most :data:`RAW_OUTPUT_HEAD_CHARS` of raw output, and its full
    length in ``meta["raw_output_chars"]`` when it was cut."""
    size = len(result.raw_output)
    if size <= RAW_OUTPUT_HEAD_CHARS:
        return result
    return result.model_copy(
        update={
            "raw_output": result.raw_output[:RAW_OUTPUT_HEAD_CHARS],
            "meta": {**result.meta, "raw_output_chars": size},
        }
    )


def _refused(result: TrialResult, error: Exception, limit: int) -> TrialResult:
    """The failure row stored for a trial whose row SQLite refused: the trial's identity, its
    usage where storable, the first characters of its raw output and why. ``limit`` is the
    connection's largest text or blob, in bytes."""
    culprits = _too_big(result, limit)
    what = ", ".join(culprits) if culprits else "a value"
    reason = (
        f"the trial's result could not be stored ({type(error).__name__}: {error}): {what} "
        "too big for SQLite; stored as failed instead"
    )
    if result.error is not None:
        reason += f" (the trial had failed already: {result.error[:500]})"
    size = result.meta.get("raw_output_chars", len(result.raw_output))
    keep = {
        c: getattr(result, c)
        for c in (
            "run_id",
            "trial_id",
            "task",
            "simulator",
            "condition",
            "seed",
            "person_id",
            "item_id",
            "episode_id",
            "step_index",
            "prompt_hash",
            "latency_s",
            "created_at",
        )
    }
    counts = {
        c: getattr(result, c)
        for c in ("tokens_in", "tokens_out", "calls", "cache_hits")
        if _INT64[0] <= getattr(result, c) <= _INT64[1]
    }
    return TrialResult(
        **keep,
        **counts,
        raw_output=result.raw_output[:_FAILED_ROW_HEAD_CHARS],
        error=reason,
        error_kind=STORE_WRITE_ERROR,
        meta={"raw_output_chars": size, "store_refused": culprits},
    )


def _too_big(result: TrialResult, limit: int) -> list[str]:
    """The columns of ``result`` SQLite refuses: integers past 64 bits, texts past ``limit``
    bytes (SQLite's length limit, 1 GB unless lowered)."""
    out: list[str] = []
    for column, value in result.model_dump(mode="json").items():
        if isinstance(value, int) and not isinstance(value, bool):
            if not _INT64[0] <= value <= _INT64[1]:
                out.append(f"{column} (an integer of {len(str(abs(value)))} digits)")
        elif value is not None and not isinstance(value, float | bool):
            text = value if isinstance(value, str) else json.dumps(value)
            if len(text) * 4 > limit and len(text.encode()) > limit:  # UTF-8: <= 4 bytes a char
                out.append(f"{column} ({len(text):,} characters)")
    return out
