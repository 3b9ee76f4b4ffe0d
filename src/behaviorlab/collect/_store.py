"""Durable storage for the ingest server: SQLite (default) or PostgreSQL (``postgresql://``).

One schema, one set of SQL statements (``?`` placeholders, rewritten for psycopg). Every
write is one transaction committed before the server answers: SQLite runs in WAL mode with
``synchronous=FULL``, so an acknowledged batch survives ``kill -9`` and a power cut;
PostgreSQL commits with its defaults (``synchronous_commit=on``). Events are keyed by
(participant, event_id): ``INSERT ... ON CONFLICT DO NOTHING`` makes a retried batch a no-op.
Times are stored as fixed-width UTC text (:func:`~._study.iso`), so they compare as text.

Deleted rows do not linger: SQLite runs with ``secure_delete=ON`` (freed space is zeroed) and
a withdrawal checkpoints the write-ahead log, or, while a reader keeps it from that, reports
itself pending until a later try succeeds (:meth:`CaptureStore.scrub`); PostgreSQL leaves
dead tuples to ``VACUUM``.
A PostgreSQL connection that broke (server restart, network) is replaced on the next call;
a failed statement is rolled back, so the connection stays usable.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from behaviorlab.collect._page_store import (
    PAGE_SCHEMA,
    PageRow,
    drop_unlinked,
    hashes_of,
    store_pages,
    with_page,
)
from behaviorlab.collect._store_errors import StoreUnavailable as StoreUnavailable
from behaviorlab.collect._store_errors import unavailable
from behaviorlab.collect._store_rows import _SCHEMA
from behaviorlab.collect._store_rows import EventRow as EventRow
from behaviorlab.collect._store_rows import ParticipantGone as ParticipantGone
from behaviorlab.collect._store_rows import RationaleRow as RationaleRow
from behaviorlab.collect._store_rows import UnknownEvents as UnknownEvents
from behaviorlab.collect._store_rows import Withdrawal as Withdrawal
from behaviorlab.collect._study import Participant, Study, iso

log = logging.getLogger(__name__)

TABLES = (
    "studies",
    "participants",
    "consents",
    "events",
    "rationales",
    "consent_views",
    "event_pages",
)
PARTICIPANT_TABLES = TABLES[1:]
SCRUB_BUSY_MS = 50
"""How long one try to scrub deleted rows off disk waits for readers (see ``scrub``)."""


class CaptureStore:
    """The server's tables behind one lock; ``open_store(url)`` picks the backend."""

    def __init__(
        self,
        conn: Any,
        *,
        postgres: bool,
        url: str,
        connect: Callable[[], Any] | None = None,
        scrubber: sqlite3.Connection | None = None,
    ) -> None:
        self._conn = conn
        self._pg = postgres
        self._connect = connect
        self.url = url
        self._lock = threading.Lock()
        self._scrubber = scrubber
        """SQLite: a connection of its own for checkpoints, so they never wait holding
        ``_lock``."""
        self._scrub_lock = threading.Lock()
        with self._tx() as cur:
            for statement in (*_SCHEMA, *PAGE_SCHEMA):
                cur.execute(statement)

    # --- plumbing -------------------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._pg else statement

    def _usable(self) -> Any:
        """The connection; a broken PostgreSQL one is replaced first (lock held)."""
        if self._pg and self._connect is not None and (self._conn.closed or self._conn.broken):
            log.warning("the PostgreSQL connection broke; reconnecting to %s", _safe(self.url))
            try:
                self._conn.close()
            finally:
                self._conn = self._connect()
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """One write transaction; a full disk or a read-only store raises
        :class:`StoreUnavailable` (other errors pass through unchanged)."""
        with self._lock:
            try:
                if self._pg:
                    conn = self._usable()
                    with conn.transaction(), conn.cursor() as cur:
                        yield _Cursor(cur, self._sql)
                else:
                    cur = self._conn.cursor()
                    cur.execute("BEGIN IMMEDIATE")
                    try:
                        yield _Cursor(cur, self._sql)
                        cur.execute("COMMIT")
                    except BaseException:
                        if self._conn.in_transaction:  # SQLite rolls back itself on SQLITE_FULL
                            cur.execute("ROLLBACK")
                        raise
            except Exception as err:
                mapped = unavailable(err)
                if mapped is None or mapped is err:
                    raise
                raise mapped from err

    def check_writable(self, now: datetime) -> None:
        """Write one row and commit it: :class:`StoreUnavailable` when the store is read-only
        or full (the server checks this before it starts)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO store_meta VALUES ('write_check', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (iso(now),),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        if self._scrubber is not None:
            with self._scrub_lock:
                self._scrubber.close()

    # --- studies and participants ---------------------------------------------------------

    def create_study(self, study: Study) -> None:
        with self._tx() as cur:
            cur.execute("SELECT 1 FROM studies WHERE study_id = ?", (study.study_id,))
            if cur.fetchone():
                raise ValueError(f"study {study.study_id!r} already exists; choose another id")
            cur.execute(
                "INSERT INTO studies VALUES (?, ?, ?, ?)",
                (study.study_id, study.token, study.model_dump_json(), iso(study.created_at)),
            )

    def get_study(self, study_id: str) -> Study | None:
        rows = self._query("SELECT config FROM studies WHERE study_id = ?", (study_id,))
        return Study.model_validate_json(rows[0][0]) if rows else None

    def study_by_token(self, token: str) -> Study | None:
        rows = self._query("SELECT config FROM studies WHERE token = ?", (token,))
        return Study.model_validate_json(rows[0][0]) if rows else None

    def list_studies(self) -> list[Study]:
        rows = self._query("SELECT config FROM studies ORDER BY created_at, study_id", ())
        return [Study.model_validate_json(r[0]) for r in rows]

    def add_participant(self, participant: Participant) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO participants (participant_id, study_id, token, enrolled_at) "
                "VALUES (?, ?, ?, ?)",
                (
                    participant.participant_id,
                    participant.study_id,
                    participant.token,
                    iso(participant.enrolled_at),
                ),
            )

    def participant(
        self, *, token: str | None = None, pid: str | None = None
    ) -> Participant | None:
        column, value = ("token", token) if token is not None else ("participant_id", pid)
        rows = self._query(
            "SELECT participant_id, study_id, token, enrolled_at, consented_at, survey, "
            f"raw_survey FROM participants WHERE {column} = ?",
            (value,),
        )
        if not rows:
            return None
        r = rows[0]
        return Participant(
            participant_id=r[0],
            study_id=r[1],
            token=r[2],
            enrolled_at=datetime.fromisoformat(r[3]),
            consented_at=datetime.fromisoformat(r[4]) if r[4] else None,
            survey=json.loads(r[5]) if r[5] else None,
            raw_survey=json.loads(r[6]) if r[6] else None,
        )

    def participants_of(self, study_id: str) -> list[Participant]:
        rows = self._query(
            "SELECT participant_id FROM participants WHERE study_id = ? ORDER BY enrolled_at, "
            "participant_id",
            (study_id,),
        )
        found = [self.participant(pid=r[0]) for r in rows]
        return [p for p in found if p is not None]

    def consent_shown(self, token: str, now: datetime) -> None:
        """Note that the consent page was served to the participant with ``token`` at
        ``now`` (the ``shown_at`` that :meth:`record_consent` stores)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO consent_views SELECT participant_id, ? FROM participants "
                "WHERE token = ? ON CONFLICT (participant_id) DO UPDATE SET "
                "shown_at = excluded.shown_at",
                (iso(now), token),
            )

    def record_consent(
        self, participant: Participant, shown_text: str, shown_at: datetime, now: datetime
    ) -> None:
        """Record the consent given at ``now``. The stored ``shown_at`` is the server's: when
        the consent page was last served (:meth:`consent_shown`), else ``now``;
        ``shown_at``, the time the client claims, is not trusted and not stored."""
        pid = participant.participant_id
        with self._tx() as cur:
            cur.execute("SELECT shown_at FROM consent_views WHERE participant_id = ?", (pid,))
            row = cur.fetchone()
            shown = row[0] if row and row[0] <= iso(now) else iso(now)
            cur.execute(
                "INSERT INTO consents VALUES (?, ?, ?, ?, ?)",
                (pid, participant.study_id, shown_text, shown, iso(now)),
            )
            cur.execute(
                "UPDATE participants SET consented_at = ? WHERE participant_id = ?",
                (iso(now), pid),
            )

    def consents_of(self, participant_id: str) -> list[tuple[str, str, str]]:
        """(shown_text, shown_at, consented_at) rows of one participant."""
        rows = self._query(
            "SELECT shown_text, shown_at, consented_at FROM consents WHERE participant_id = ?",
            (participant_id,),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def save_survey(
        self, participant_id: str, survey: dict[str, Any], raw: dict[str, Any], now: datetime
    ) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE participants SET survey = ?, raw_survey = ?, survey_at = ? "
                "WHERE participant_id = ?",
                (json.dumps(survey), json.dumps(raw), iso(now), participant_id),
            )

    # --- events ---------------------------------------------------------------------------

    def add_batch(
        self,
        participant: Participant,
        events: Sequence[tuple[str, str, int, str, str, str]],
        rationales: Sequence[tuple[str, str, str]],
        now: datetime,
        pages: Sequence[PageRow] = (),
    ) -> tuple[int, int, int]:
        """Store (event_id, session_id, seq, client_ts, action_type, payload) events and
        (event_id, rationale, client_ts) rationales in one transaction;
        return (accepted, duplicates, rationales stored). A rationale for an event the
        participant never sent (in this batch or before) raises :class:`UnknownEvents` and
        stores nothing. ``pages``: the events' cleaned pages, stored once each
        (:mod:`._page_store`)."""
        pid, sid, received = participant.participant_id, participant.study_id, iso(now)
        accepted = 0
        stored_why = 0
        new_events: set[str] = set()
        with self._tx() as cur:
            # inside the transaction: a withdrawal that committed since the participant was
            # looked up must not be followed by their events (PostgreSQL: the row lock makes a
            # concurrent withdrawal wait for this commit, then delete these events too)
            lock = " FOR SHARE" if self._pg else ""
            cur.execute(f"SELECT 1 FROM participants WHERE participant_id = ?{lock}", (pid,))
            if cur.fetchone() is None:
                raise ParticipantGone(f"participant {pid!r} no longer exists (withdrawn)")
            for event_id, session_id, seq, client_ts, action_type, payload in events:
                cur.execute(
                    "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (participant_id, event_id) DO NOTHING",
                    (
                        pid,
                        event_id,
                        sid,
                        session_id,
                        seq,
                        client_ts,
                        received,
                        action_type,
                        payload,
                    ),
                )
                if cur.rowcount:
                    accepted += 1
                    new_events.add(event_id)
            store_pages(cur, pid, pages, new_events)
            unknown = []
            for i, (event_id, _, _) in enumerate(rationales):
                cur.execute(
                    "SELECT 1 FROM events WHERE participant_id = ? AND event_id = ?",
                    (pid, event_id),
                )
                if cur.fetchone() is None:
                    unknown.append(i)
            if unknown:
                raise UnknownEvents(unknown)
            for event_id, text, client_ts in rationales:
                cur.execute(
                    "INSERT INTO rationales VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (participant_id, event_id) DO UPDATE SET "
                    "rationale = excluded.rationale, client_ts = excluded.client_ts",
                    (pid, event_id, sid, text, client_ts, received),
                )
                stored_why += 1
        return accepted, len(events) - accepted, stored_why

    def events_of(self, study_id: str, participant_id: str | None = None) -> list[EventRow]:
        """Events ordered by participant, session, seq and client time (each payload with
        its stored page put back)."""
        where, args = "e.study_id = ?", [study_id]
        if participant_id is not None:
            where += " AND e.participant_id = ?"
            args.append(participant_id)
        rows = self._query(
            "SELECT e.participant_id, e.event_id, e.study_id, e.session_id, e.seq, e.client_ts, "
            "e.received_at, e.action_type, e.payload, p.body FROM events e "
            "LEFT JOIN event_pages ep ON ep.participant_id = e.participant_id "
            "AND ep.event_id = e.event_id LEFT JOIN pages p ON p.page_hash = ep.page_hash "
            f"WHERE {where} ORDER BY e.participant_id, e.session_id, e.seq, e.client_ts, "
            "e.event_id",
            tuple(args),
        )
        return [
            EventRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], with_page(r[8], r[9]))
            for r in rows
        ]

    def rationales_of(self, study_id: str) -> list[RationaleRow]:
        rows = self._query(
            "SELECT participant_id, event_id, rationale, client_ts FROM rationales "
            "WHERE study_id = ? ORDER BY participant_id, client_ts",
            (study_id,),
        )
        return [RationaleRow(*r) for r in rows]

    # --- withdrawal and retention ---------------------------------------------------------

    def withdraw(self, participant_id: str) -> Withdrawal:
        """Delete every row of one participant, then try once (briefly) to scrub the deleted
        rows off disk; :class:`Withdrawal` says whether that is done or still pending."""
        deleted: dict[str, int] = {}
        with self._tx() as cur:
            hashes = hashes_of(cur, participant_id)
            for table in PARTICIPANT_TABLES:
                cur.execute(f"DELETE FROM {table} WHERE participant_id = ?", (participant_id,))
                deleted[table] = cur.rowcount
            deleted["pages"] = drop_unlinked(cur, hashes)  # pages no one else's event uses
            receipt = self._request_scrub(cur)
        return Withdrawal(deleted=deleted, receipt=receipt, done=self.scrub())

    def _request_scrub(self, cur: Any) -> int:
        """Count one more deletion to scrub off disk (in the deleting transaction)."""
        cur.execute("SELECT value FROM store_meta WHERE key = 'scrub_requested'")
        row = cur.fetchone()
        receipt = int(row[0]) + 1 if row else 1
        cur.execute(
            "INSERT INTO store_meta VALUES ('scrub_requested', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(receipt),),
        )
        return receipt

    def _scrub_counts(self) -> tuple[int, int]:
        rows = dict(self._query("SELECT key, value FROM store_meta", ()))
        return int(rows.get("scrub_requested", 0)), int(rows.get("scrub_done", 0))

    def scrub_done(self, receipt: int) -> bool:
        """Whether the deletion with this receipt is off disk (see :meth:`scrub`)."""
        return self._scrub_counts()[1] >= receipt

    def scrub(self) -> bool:
        """Get deleted rows off disk; True when every deletion so far is.

        SQLite: secure_delete zeroed the rows in their pages; a ``TRUNCATE`` checkpoint, on
        a connection of its own, copies those pages into the database file and empties the
        write-ahead log. A reader elsewhere (an open read transaction) keeps it from
        finishing: then it gives up after ``SCRUB_BUSY_MS`` and the deletion stays pending
        (the server tries again every few seconds). The store's lock is never held while it
        waits, so other participants' writes go on. PostgreSQL leaves dead tuples to
        ``VACUUM``; its deletions count as done."""
        with self._scrub_lock:
            requested, done = self._scrub_counts()
            if done >= requested:
                return True
            if self._scrubber is not None:
                busy = self._scrubber.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if busy:
                    log.info("withdrawal pending: a reader keeps the write-ahead log in use")
                    return False
            with self._tx() as cur:
                cur.execute(
                    "INSERT INTO store_meta VALUES ('scrub_done', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(requested),),
                )
            return True

    def rows_of(self, participant_id: str) -> dict[str, int]:
        """How many rows of each table mention ``participant_id`` (in any text column)."""
        out: dict[str, int] = {}
        for table in TABLES:
            cols = "config" if table == "studies" else "participant_id"
            rows = self._query(
                f"SELECT COUNT(*) FROM {table} WHERE {cols} LIKE ?", (f"%{participant_id}%",)
            )
            out[table] = int(rows[0][0])
        return out

    def purge_expired(self, now: datetime) -> dict[str, int]:
        """Apply each study's ``retention_days`` at ``now``; events deleted per study.

        Deleted: events and rationales received more than ``retention_days`` before ``now``;
        then participants (with their consent records and questionnaire answers) who
        enrolled before that cutoff and have no event left, i.e. who sent nothing for the
        whole retention period (this includes enrolments never consented to)."""
        purged: dict[str, int] = {}
        for study in self.list_studies():
            if study.retention_days is None:
                continue
            cutoff = iso(now - timedelta(days=study.retention_days))
            sid = study.study_id
            with self._tx() as cur:
                cur.execute(
                    "DELETE FROM events WHERE study_id = ? AND received_at < ?", (sid, cutoff)
                )
                purged[sid] = cur.rowcount
                cur.execute(
                    "DELETE FROM rationales WHERE study_id = ? AND received_at < ?", (sid, cutoff)
                )
                idle = (
                    "SELECT participant_id FROM participants p WHERE p.study_id = ? AND "
                    "p.enrolled_at < ? AND NOT EXISTS (SELECT 1 FROM events e WHERE "
                    "e.participant_id = p.participant_id)"
                )
                for table in ("consents", "consent_views", "rationales", "participants"):
                    cur.execute(
                        f"DELETE FROM {table} WHERE participant_id IN ({idle})", (sid, cutoff)
                    )
                if purged[sid]:
                    drop_unlinked(cur)
        if any(purged.values()):
            with self._tx() as cur:
                self._request_scrub(cur)
            self.scrub()
        return purged

    def _query(self, statement: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Rows of one read; on PostgreSQL a read that found the connection lost is tried
        once more on a new connection (reads are safe to repeat)."""
        with self._lock:
            try:
                return self._read(statement, args)
            except Exception:
                if not (self._pg and self._connect is not None and self._conn.broken):
                    raise
            return self._read(statement, args)

    def _read(self, statement: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        conn = self._usable()
        cur = conn.cursor()
        try:
            cur.execute(self._sql(statement), args)
            rows = [tuple(r) for r in cur.fetchall()]
        except BaseException:
            if self._pg and not (conn.closed or conn.broken):
                conn.rollback()  # else every later statement fails: "transaction is aborted"
            raise
        finally:
            cur.close()
        if self._pg:
            conn.commit()
        return rows


def _safe(url: str) -> str:
    """A database URL without its password (for logs)."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class _Cursor:
    """A DB-API cursor that rewrites placeholders for the backend."""

    def __init__(self, cur: Any, sql: Any) -> None:
        self._cur, self._rewrite = cur, sql

    def execute(self, statement: str, args: Sequence[Any] = ()) -> None:
        self._cur.execute(self._rewrite(statement), tuple(args))

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    @property
    def rowcount(self) -> int:
        return max(int(self._cur.rowcount), 0)


def open_store(url: str | Path) -> CaptureStore:
    """``postgresql://...`` → PostgreSQL (psycopg 3); anything else is a SQLite file path
    (``sqlite:///path`` or a plain path)."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError:
            raise ImportError(
                "a postgresql:// store needs psycopg 3: pip install 'behaviorlab[postgres]'"
            ) from None

        def connect() -> Any:
            return psycopg.connect(text, autocommit=False)

        return CaptureStore(connect(), postgres=True, url=text, connect=connect)
    path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite://"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lite = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("PRAGMA synchronous=FULL")
        lite.execute("PRAGMA busy_timeout=30000")
        lite.execute("PRAGMA secure_delete=ON")
        scrubber = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=SCRUB_BUSY_MS / 1000
        )
        scrubber.execute(f"PRAGMA busy_timeout={SCRUB_BUSY_MS}")
        return CaptureStore(lite, postgres=False, url=str(path), scrubber=scrubber)
    except (sqlite3.Error, OSError) as err:
        mapped = unavailable(err)
        if mapped is None:
            raise
        raise StoreUnavailable(f"store {str(path)!r}: {mapped.reason}") from err
