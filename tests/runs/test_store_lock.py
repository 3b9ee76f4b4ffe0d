"""One writer per store: a second `run` on the same results file is refused with the first
process's pid before it answers anything (no trial answered, or paid for, twice); the lock
goes with the process (kill -9 leaves none behind); a failed write of the store itself stops
the run with the reason, and a rerun resumes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app
from behaviorlab.runs import _lifecycle
from behaviorlab.store import ResultStore, StoreLock, StoreLockedError, StoreWriteError

SPEC: dict[str, Any] = {
    "name": "shared",
    "data": {"source": "anes96", "target": "vote", "people": 60},
    "simulators": [
        {"name": "llm", "backend": "mock", "answer": "score", "backend_options": {"delay_s": 0.05}},
    ],
    "conditions": ["full", "no_persona"],
}
PLANNED = 30 * 2  # 30 test people x 2 conditions

runner = CliRunner()


def _ids(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return [r[0] for r in con.execute("SELECT trial_id FROM trials")]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return []


def test_second_writer_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    db = out / "shared" / "results.sqlite"
    code = (
        "import json, sys, behaviorlab as bl; "
        f"bl.run(json.loads(sys.argv[1]), out={str(out)!r}, progress=False)"
    )
    env = {**os.environ, "BEHAVIORLAB_CACHE_DIR": str(tmp_path / "cache1")}
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(SPEC)], env=env)
    try:
        deadline = time.monotonic() + 60
        while len(_ids(db)) < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the first run ended before the second one started"
        with pytest.raises(StoreLockedError) as info:
            bl.run(SPEC, out=out, progress=False)
        assert info.value.pid == proc.pid
        message = str(info.value)
        assert f"process {proc.pid}" in message and str(db) in message
        assert f"kill {proc.pid}" in message and "--out" in message
        assert StoreLock(db).holder()["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    stored = _ids(db)
    assert 0 < len(stored) < PLANNED
    assert StoreLock(db).holder() == {}  # the kernel released it with the process
    run = bl.run(SPEC, out=out, progress=False)  # no stale lock to clear by hand
    ids = _ids(db)
    assert len(ids) == len(set(ids)) == PLANNED
    assert len(run.to_pandas()) == PLANNED


def test_cli_run_is_refused_while_another_process_writes(tmp_path: Path) -> None:
    spec = tmp_path / "shared.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    db = tmp_path / "runs" / "shared" / "results.sqlite"
    with StoreLock(db):  # flock conflicts between open files, even in one process
        res = runner.invoke(app, ["run", str(spec), "--out", str(tmp_path / "runs")])
        restart = runner.invoke(
            app, ["run", str(spec), "--out", str(tmp_path / "runs"), "--restart"]
        )
    for r in (res, restart):
        assert r.exit_code == 2, r.output
        text = " ".join(r.output.split())
        assert f"this process ({os.getpid()})" in text and "nothing was run" in text
    assert _ids(db) == [] and not list(db.parent.glob("*.aside"))


class _FullDisk(ResultStore):
    """A store whose disk fills up after its first few trials."""

    def write_many(self, results: Any) -> Any:
        if not getattr(self, "_capped", False):
            self._capped = True
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            self._db.execute(f"PRAGMA max_page_count = {pages + 2}")
        return super().write_many(results)


def test_full_disk_stops_the_run_cleanly_and_a_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = {
        "name": "full",
        "data": {"source": "anes96", "target": "vote", "people": 600},
        "simulators": [{"name": "llm", "backend": "mock", "answer": "generate"}],
        "conditions": ["full", "no_persona"],
    }
    out = tmp_path / "runs"
    db = out / "full" / "results.sqlite"
    monkeypatch.setattr(_lifecycle, "ResultStore", _FullDisk)
    with pytest.raises(StoreWriteError) as info:
        bl.run(spec, out=out, progress=False)
    message = str(info.value)
    assert str(db) in message and "SQLITE_FULL" in message and "resumes" in message
    kept = _ids(db)
    assert 0 < len(kept) < 600
    con = sqlite3.connect(db)
    try:  # no trial was stored as a failure because the disk was full
        kinds = {r[0] for r in con.execute("SELECT DISTINCT error_kind FROM trials")}
    finally:
        con.close()
    assert "store_write" not in kinds
    monkeypatch.setattr(_lifecycle, "ResultStore", ResultStore)
    run = bl.run(spec, out=out, progress=False)
    ids = _ids(db)
    assert len(ids) == len(set(ids)) == 600 and set(kept) <= set(ids)
    assert len(run.to_pandas()) == 600
