"""Where results live: an embedded SQLite file (WAL), exported to pandas and Parquet.

A results file is checked on open (a broken one is a :class:`BrokenStoreError`, never
overwritten), created atomically, and written by one process at a time (:class:`StoreLock`;
a second writer gets a :class:`StoreLockedError`); see ``docs/robustness.md``.
"""

from behaviorlab.store._errors import (
    BrokenStoreError,
    NewerStoreError,
    StoreError,
    StoreLockedError,
    StoreWriteError,
)
from behaviorlab.store._lock import StoreLock, lock_path
from behaviorlab.store._open import set_aside
from behaviorlab.store._schema import COLUMNS, JSON_COLUMNS, RESULTS_SCHEMA_VERSION, TrialResult
from behaviorlab.store._sqlite import MIGRATIONS, ResultStore

__all__ = [
    "COLUMNS",
    "JSON_COLUMNS",
    "MIGRATIONS",
    "RESULTS_SCHEMA_VERSION",
    "BrokenStoreError",
    "NewerStoreError",
    "ResultStore",
    "StoreError",
    "StoreLock",
    "StoreLockedError",
    "StoreWriteError",
    "TrialResult",
    "lock_path",
    "set_aside",
]
