"""Errors that mean the store cannot take writes now (a full disk, a read-only database,
failed I/O), told apart from other database errors for SQLite, PostgreSQL and the OS."""

from __future__ import annotations

import errno
import sqlite3


class StoreUnavailable(RuntimeError):
    """The store cannot take writes now: its disk is full, it is read-only, or I/O failed.

    ``reason`` says which and what to do; the server answers 503 with it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


_SQLITE_UNAVAILABLE = {
    13: "the disk holding the store is full (SQLITE_FULL); free space, then retry",
    8: "the store is read-only (SQLITE_READONLY); make the database file and its folder "
    "writable by the server",
    10: "the store's disk failed to read or write (SQLITE_IOERR); check the disk",
    14: "the store's files cannot be opened (SQLITE_CANTOPEN); check the path and permissions",
}
_PG_UNAVAILABLE = {
    "53100": "the disk of the PostgreSQL server is full; free space, then retry",
    "25006": "the PostgreSQL connection is read-only (a standby?); point --db at the primary",
}
_OS_UNAVAILABLE = {
    errno.ENOSPC: "the disk holding the store is full; free space, then retry",
    errno.EROFS: "the store is on a read-only file system; move it or remount read-write",
    errno.EACCES: "the store's files are not writable by the server; fix their permissions",
}


def unavailable(err: BaseException) -> StoreUnavailable | None:
    """``err`` as a :class:`StoreUnavailable` when it means the store cannot take writes."""
    if isinstance(err, StoreUnavailable):
        return err
    if isinstance(err, sqlite3.Error):
        code = getattr(err, "sqlite_errorcode", None)
        reason = _SQLITE_UNAVAILABLE.get(code & 0xFF) if isinstance(code, int) else None
    elif isinstance(err, OSError):
        reason = _OS_UNAVAILABLE.get(err.errno or 0)
    else:
        reason = _PG_UNAVAILABLE.get(str(getattr(err, "sqlstate", "") or ""))
    return StoreUnavailable(f"{reason} ({err})") if reason else None
