"""kill -9 in the middle of a run, then rerun: only missing trials run, no duplicates, and
the table equals an uninterrupted run's (mock backend: bit-identical answers)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import behaviorlab as bl

SPEC = {
    "name": "killme",
    "data": {"source": "anes96", "target": "vote", "people": 60},
    "simulators": [
        {"name": "llm", "backend": "mock", "answer": "score", "backend_options": {"delay_s": 0.04}},
        {"name": "majority"},
    ],
    "conditions": ["full", "no_persona", "shuffled_persona"],
}


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(con.execute("SELECT COUNT(*) FROM trials").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def test_kill_9_then_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "runs"
    db = out / "killme" / "results.sqlite"
    code = (
        "import json, sys, behaviorlab as bl; "
        f"bl.run(json.loads(sys.argv[1]), out={str(out)!r}, progress=False)"
    )
    env = {**os.environ, "BEHAVIORLAB_CACHE_DIR": str(tmp_path / "cache1")}
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(SPEC)], env=env)
    deadline = time.monotonic() + 60
    while _count(db) < 25 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = _count(db)
    planned = 30 * 3 + 30 * 3  # 30 test people x (llm: 3 conditions + majority: 3 conditions)
    assert 25 <= stored < planned

    resumed = bl.run(SPEC, out=out, progress=False)
    assert resumed.summary is not None
    assert resumed.summary.already_done == stored
    assert resumed.summary.completed == planned - stored
    frame = resumed.to_pandas()
    assert len(frame) == planned and frame["trial_id"].is_unique

    monkeypatch.setenv("BEHAVIORLAB_CACHE_DIR", str(tmp_path / "cache2"))
    whole = bl.run(SPEC, out=tmp_path / "whole", progress=False).to_pandas()
    cols = [c for c in frame.columns if c not in ("latency_s", "created_at", "cache_hits")]
    pd.testing.assert_frame_equal(
        frame[cols].sort_values("trial_id").reset_index(drop=True),
        whole[cols].sort_values("trial_id").reset_index(drop=True),
    )
