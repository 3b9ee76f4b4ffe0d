"""Opening a results file safely: cheap checks that it is a behaviorlab store, and creating a
new one atomically.

The checks read the file's 100-byte SQLite header (magic string, page size, page count: a
file shorter than its header says was cut), then the schema (the ``runs`` and ``trials``
tables, the version in ``user_version``). They never read the rows: a full integrity check
costs as much as the file is large, and the viewer opens every store on every listing.

A new store is written complete under a temporary name next to the final one, then renamed
over it (``os.replace``), so a crash while creating a store leaves no half-made file that
would block every later resume.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from behaviorlab.store._errors import BrokenStoreError
from behaviorlab.store._schema import RESULTS_SCHEMA_VERSION

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100
REQUIRED_TABLES = ("runs", "trials")

CORRUPT_ERRORS = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
"""SQLite's names for a file that is damaged or not a database at all."""


def what_to_do(path: Path) -> str:
    aside = path.with_name(path.name + ".broken")
    return (
        f"Nothing was overwritten. Move it aside (`mv {path} {aside}`) to start the run "
        "afresh there, or rerun with `--restart`, which moves it aside for you; restore a "
        "copy if you have one."
    )


def broken(path: Path, reason: str) -> BrokenStoreError:
    return BrokenStoreError(
        f"results file {str(path)!r} is not a usable behaviorlab store: {reason}. "
        f"{what_to_do(path)}"
    )


def _wal_has_frames(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def check_header(path: Path) -> None:
    """Refuse a file that is empty, not SQLite, or shorter than its header says (cut).

    With a non-empty ``-wal`` beside it the sizes are SQLite's to reconcile (a checkpoint
    may be under way), so only the magic string is checked."""
    if path.is_dir():
        raise broken(path, "it is a folder, not a file")
    size = path.stat().st_size
    wal = _wal_has_frames(path)
    if size == 0:
        if wal:
            return
        raise broken(path, "it is empty (0 bytes)")
    with path.open("rb") as f:
        header = f.read(HEADER_BYTES)
    if not header.startswith(SQLITE_MAGIC):
        raise broken(path, f"it is not an SQLite file (it starts with {header[:16]!r})")
    if len(header) < HEADER_BYTES:
        raise broken(path, f"it is cut short ({size} bytes, less than an SQLite header)")
    if wal:
        return
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the page count is current (SQLite >= 3.7.0)
    if page_size and pages and valid and size < page_size * pages:
        raise broken(
            path,
            f"it is cut short: {size:,} bytes where its header says "
            f"{pages:,} pages of {page_size:,} bytes ({page_size * pages:,} bytes)",
        )


def is_corrupt(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it: pandas wraps SQLite's errors) says the file is
    damaged or not a database."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.DatabaseError):
            name = getattr(seen, "sqlite_errorname", "")
            if name in CORRUPT_ERRORS or "malformed" in str(seen):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn SQLite's "malformed" / "not a database" into a :class:`BrokenStoreError`."""
    try:
        yield
    except Exception as exc:
        if is_corrupt(exc):
            raise broken(path, f"it is damaged ({exc})") from None
        raise


def check_schema(db: sqlite3.Connection, path: Path, *, allow_blank: bool) -> int:
    """The schema version of an open file, after checking it holds a behaviorlab store.

    ``allow_blank``: an SQLite file with no tables at all and version 0 (a store whose
    creation was cut before its first migration, by an older behaviorlab) may be migrated:
    it holds nothing to lose."""
    with reading(path):
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        tables = {
            str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    if version > RESULTS_SCHEMA_VERSION:
        return version  # a newer behaviorlab's: a reader may try, a writer refuses it
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if version == 0 and not tables:
        if allow_blank:
            return 0
        raise broken(path, "it is an SQLite file with no tables (no run was ever stored in it)")
    if missing:
        others = ", ".join(sorted(tables)) or "none"
        raise broken(
            path,
            f"it is an SQLite file but not a behaviorlab store (no {' or '.join(missing)} "
            f"table; its tables: {others})",
        )
    if version < 1:
        raise broken(path, f"its schema version is {version}, not a behaviorlab version")
    return version


def create_atomically(path: Path, build: Callable[[sqlite3.Connection], None]) -> None:
    """Write a new store complete under a temporary name, then rename it to ``path``.

    ``build`` gets the connection (in WAL mode) and creates the schema. The caller holds the
    store's lock, so no other behaviorlab process creates ``path`` meanwhile."""
    tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
    _remove(tmp)
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            build(db)
        finally:
            db.close()  # the last connection: checkpoints the WAL into the file
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        _remove(tmp)
    _fsync_dir(path.parent)


def set_aside(path: str | Path) -> Path | None:
    """Move a results file (and its ``-wal`` / ``-shm``) to ``<name>.<timestamp>.aside``
    beside it; the new name, or None when there was no file. Nothing is deleted. The caller
    holds the store's lock."""
    p = Path(path)
    if not p.exists():
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = p.with_name(f"{p.name}.{stamp}.aside")
    n = 1
    while target.exists():
        n += 1
        target = p.with_name(f"{p.name}.{stamp}-{n}.aside")
    for suffix in ("-wal", "-shm"):
        side = p.with_name(p.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    os.replace(p, target)
    _fsync_dir(p.parent)
    return target


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
