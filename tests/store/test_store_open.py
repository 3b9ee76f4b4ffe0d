"""A results file is checked on open (empty, cut, garbage, foreign: an error naming the file
and what to do, the file untouched), created atomically, and a failure of the store itself
is a StoreWriteError while one refused row stays that trial's failure."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from behaviorlab.store import (
    BrokenStoreError,
    ResultStore,
    StoreWriteError,
    TrialResult,
    set_aside,
)
from behaviorlab.store import _sqlite as store_sqlite


def _row(i: int, **over: object) -> TrialResult:
    base: dict[str, object] = dict(
        run_id="r1",
        trial_id=f"t{i}",
        task="survey",
        simulator="majority",
        condition="full",
        seed=0,
        person_id=f"p{i}",
        item_id="q",
        episode_id=f"e{i}",
        step_index=0,
        raw_output="x" * 2000,
    )
    base.update(over)
    return TrialResult.model_validate(base)


def _stored(path: Path, n: int = 200) -> Path:
    with ResultStore(path) as store:
        store.start_run("r1", "exp", {})
        store.write_many([_row(i) for i in range(n)])
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("readonly", [False, True])
def test_empty_file_is_refused_not_taken_as_a_new_store(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"")
    with pytest.raises(BrokenStoreError) as info:
        ResultStore(path, readonly=readonly)
    message = str(info.value)
    assert str(path) in message and "empty (0 bytes)" in message
    assert "--restart" in message and "mv " in message
    assert path.stat().st_size == 0  # never overwritten


@pytest.mark.parametrize("readonly", [False, True])
def test_cut_file_is_refused(tmp_path: Path, readonly: bool) -> None:
    path = _stored(tmp_path / "results.sqlite")
    size = path.stat().st_size
    assert size > 4 * 4096
    with path.open("r+b") as f:
        f.truncate(size // 2)
    before = _digest(path)
    with pytest.raises(BrokenStoreError, match="cut short") as info:
        ResultStore(path, readonly=readonly)
    assert str(path) in str(info.value)
    assert _digest(path) == before


@pytest.mark.parametrize("readonly", [False, True])
def test_garbage_header_is_refused(tmp_path: Path, readonly: bool) -> None:
    path = _stored(tmp_path / "results.sqlite")
    data = bytearray(path.read_bytes())
    data[:16] = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(BrokenStoreError, match="not an SQLite file"):
        ResultStore(path, readonly=readonly)


def test_damaged_page_is_refused_when_read(tmp_path: Path) -> None:
    path = _stored(tmp_path / "results.sqlite")
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 4] = b"\xff" * (4096 * 2)  # pages past the schema, same size
    path.write_bytes(bytes(data))
    with (
        ResultStore(path, readonly=True) as store,
        pytest.raises(BrokenStoreError, match="damaged"),
    ):
        store.to_pandas("r1")


def test_foreign_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (id INTEGER)")
    db.commit()
    db.close()
    before = _digest(path)
    with pytest.raises(BrokenStoreError, match=r"not a behaviorlab store.*photos"):
        ResultStore(path)
    assert _digest(path) == before
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("photos",)]  # no runs/trials tables added to someone else's file


def test_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    path.write_text("name: not a store\n")
    with pytest.raises(BrokenStoreError, match="not an SQLite file"):
        ResultStore(path)
    assert path.read_text() == "name: not a store\n"


def test_blank_sqlite_file_is_made_a_store(tmp_path: Path) -> None:
    """An SQLite file with no tables (an older behaviorlab cut before its first migration)
    holds nothing to lose: it is migrated, not refused."""
    path = tmp_path / "results.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    with ResultStore(path) as store:
        assert store.schema_version() == 3


def test_crash_while_creating_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run" / "results.sqlite"
    real = list(store_sqlite.MIGRATIONS)

    def crash(db: sqlite3.Connection) -> None:
        raise KeyboardInterrupt  # the process dies half-way through the schema

    crashing = [real[0], (real[1][0], real[1][1], crash), *real[2:]]
    monkeypatch.setattr(store_sqlite, "MIGRATIONS", crashing)  # migrate() reads the global
    with pytest.raises(KeyboardInterrupt):
        ResultStore(path)
    assert not path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["results.sqlite.lock"]
    monkeypatch.setattr(store_sqlite, "MIGRATIONS", real)
    with ResultStore(path) as store:  # the next run creates it as if nothing happened
        store.start_run("r1", "exp", {})
        assert store.schema_version() == 3 and store.count("r1") == 0


def test_set_aside_keeps_the_file_and_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"")
    path.with_name("results.sqlite-wal").write_bytes(b"w")
    moved = set_aside(path)
    assert moved is not None and moved.exists() and not path.exists()
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"w"
    assert set_aside(path) is None
    with ResultStore(path) as store:
        assert store.schema_version() == 3


def test_disk_full_is_a_store_write_error_not_a_trial_error(tmp_path: Path) -> None:
    path = _stored(tmp_path / "results.sqlite", n=10)
    with ResultStore(path) as store:
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages + 1}")  # a full disk, in effect
        with pytest.raises(StoreWriteError) as info:
            for i in range(10, 400):
                store.write(_row(i))
        message = str(info.value)
        assert str(path) in message and "SQLITE_FULL" in message
        assert "committed before is kept" in message and "resumes" in message
        kept = store.count("r1")
        assert 10 <= kept < 400
        # what was committed is intact, and nothing half-written remains
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert not store._db.in_transaction
    with ResultStore(path, readonly=True) as again:
        assert again.count("r1") == kept


def test_a_refused_row_is_still_that_trials_failure(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "results.sqlite") as store:
        stored = store.write(_row(0, tokens_in=2**70))
        assert stored.error_kind == "store_write" and store.count("r1") == 1


def test_a_store_dropped_without_close_frees_its_lock(tmp_path: Path) -> None:
    import gc

    from behaviorlab.store import StoreLockedError

    path = tmp_path / "results.sqlite"
    store = ResultStore(path)
    with pytest.raises(StoreLockedError):
        ResultStore(path)
    del store
    gc.collect()
    with ResultStore(path) as again:  # a forgotten store (a notebook cell) does not block
        assert again.schema_version() == 3


def test_a_read_only_store_says_to_make_it_writable(tmp_path: Path) -> None:
    path = _stored(tmp_path / "results.sqlite", n=3)
    with ResultStore(path) as store:
        store._db.execute("PRAGMA query_only = ON")  # as a file made read-only under the run
        with pytest.raises(StoreWriteError) as info:
            store.write(_row(99))
    message = str(info.value)
    assert str(path) in message and "writable" in message and "Free disk space" not in message


def test_a_read_only_folder_is_a_store_write_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from behaviorlab.store import _lock

    def refused(path: object, *args: object) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(_lock.os, "open", refused)  # a folder this user may not write to
    with pytest.raises(StoreWriteError, match=r"take the write lock.*writable"):
        ResultStore(tmp_path / "results.sqlite")
