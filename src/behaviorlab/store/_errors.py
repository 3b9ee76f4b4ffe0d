"""Why a results file cannot be used: each error names the file and what to do about it."""

from __future__ import annotations


class StoreError(ValueError):
    """A results file that cannot be opened or written; the message names the file, the
    reason and what to do (the command line prints it as an error, without a traceback)."""


class BrokenStoreError(StoreError):
    """A results file that exists but is empty, damaged or not a behaviorlab store. It is
    never overwritten: move it aside (or rerun with ``--restart``, which does so)."""


class NewerStoreError(StoreError):
    """A results file written by a newer behaviorlab (a schema version this one lacks)."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock (it is running or importing into it)."""

    def __init__(self, message: str, *, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid
        """The process holding the lock, when it said so."""


class StoreWriteError(StoreError):
    """Writing to the store itself failed (disk full, I/O error): the run stops; what was
    committed before stays, and a rerun resumes from there."""
