"""One writer per store: an OS lock held for as long as a process writes a results file.

The lock is ``fcntl.flock`` on ``<results>.lock`` next to the results file. The kernel
releases it when the process ends however it ends (``kill -9`` included), so there is never a
stale lock to clear by hand; the file itself stays (removing it would let two processes lock
two different files of the same name). The holder writes its pid, start time and command line
into it, so a second writer is told who holds the store.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import weakref
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from behaviorlab.store._errors import StoreLockedError

LOCK_SUFFIX = ".lock"


def lock_path(results: str | Path) -> Path:
    """The lock file of a results file: ``results.sqlite`` → ``results.sqlite.lock``."""
    p = Path(results)
    return p.with_name(p.name + LOCK_SUFFIX)


class StoreLock:
    """The write lock of one results file; a context manager. :meth:`acquire` never waits:
    another holder is a :class:`StoreLockedError` naming its pid and what to do."""

    def __init__(self, results: str | Path) -> None:
        self.results = Path(results)
        self.path = lock_path(self.results)
        self._fd: int | None = None
        self._finalizer: weakref.finalize[[int], StoreLock] | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> Self:
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            message = _locked_message(self.results, holder)
            raise StoreLockedError(message, pid=holder.get("pid")) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_me()).encode(), 0)
        self._fd = fd
        # a lock (or store) dropped without release() frees the store when it is collected
        self._finalizer = weakref.finalize(self, _close_quietly, fd)
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no holder any more (the lock itself goes with the close)
        os.close(fd)

    def holder(self) -> dict[str, Any]:
        """Who holds the lock now (``{}`` when nobody, or a holder that did not say)."""
        if not self.path.exists():
            return {}
        fd = os.open(self.path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_holder(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return {}
        finally:
            os.close(fd)

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _me() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "started": datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(sys.argv)[:500],
    }


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _locked_message(results: Path, holder: dict[str, Any]) -> str:
    pid = holder.get("pid")
    who = f"process {pid}" if pid is not None else "another process"
    if pid == os.getpid():
        who = f"this process ({pid}), through another open store,"
    detail = []
    if holder.get("started"):
        detail.append(f"since {holder['started']}")
    if holder.get("command"):
        detail.append(f"running `{holder['command']}`")
    extra = f" ({', '.join(detail)})" if detail else ""
    stop = f"stop it (`kill {pid}`)" if pid is not None else "stop it"
    return (
        f"{str(results)!r} is being written by {who}{extra}; one process writes a results "
        f"file at a time, so nothing was run. Wait for it to finish, or {stop}, then run "
        "again: the rerun resumes and answers only the trials not stored yet. To run "
        "side by side, give this run another --out folder or spec name."
    )
