"""kill -9 in the middle of an import, then import again: whole batches were kept, only the
missing rows are stored, and the run equals an import made in one go."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from behaviorlab.runs import import_answers

BATCH = 20
PEOPLE = 100

# the child imports in batches of 20, pausing after each, so it can be killed between commits
CHILD = """
import sys, time
from behaviorlab.runs import _import, import_answers
from behaviorlab.store import ResultStore
_import.BATCH = {batch}
real = ResultStore.write_many
def slow(self, rows):
    stored = real(self, rows)
    time.sleep(0.15)
    return stored
ResultStore.write_many = slow
import_answers(sys.argv[1], run="killme", data=sys.argv[2], out=sys.argv[3])
"""


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


def _files(tmp_path: Path) -> tuple[Path, Path]:
    ids = [f"r{i:03d}" for i in range(PEOPLE)]
    people = pd.DataFrame({"pid": ids, "age": 40, "q1": [1 + i % 2 for i in range(PEOPLE)]})
    people["q2"] = [1 + i % 3 for i in range(PEOPLE)]
    people.to_csv(tmp_path / "people.csv", index=False)
    (tmp_path / "data.yaml").write_text(
        f"source: {tmp_path / 'people.csv'}\nmapping:\n  name: k\n  id_column: pid\n"
        "  persona: [{column: age, template: 'You are {value}.'}]\n  questions:\n"
        "    - {column: q1, text: 'A?', options: {1: 'a', 2: 'b'}}\n"
        "    - {column: q2, text: 'B?', options: {1: 'a', 2: 'b', 3: 'c'}}\n"
    )
    rows = [
        {"person_id": p, "item_id": q, "value": "1", "simulator": lab}
        for p in ids
        for q in ("q1", "q2")
        for lab in ("one", "two")
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "answers.csv", index=False)
    return tmp_path / "answers.csv", tmp_path / "data.yaml"


def test_kill_9_then_import_again(tmp_path: Path) -> None:
    answers, data = _files(tmp_path)
    out = tmp_path / "runs"
    db = out / "killme" / "results.sqlite"
    total = PEOPLE * 2 * 2
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(batch=BATCH), str(answers), str(data), str(out)],
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 60
    while _count(db) < 2 * BATCH and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the import ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = _count(db)
    assert 2 * BATCH <= stored < total
    assert stored % BATCH == 0  # a batch is committed whole or not at all

    again = import_answers(answers, run="killme", data=data, out=out)
    assert again.already_stored == stored and again.stored == total - stored
    assert again.status == "finished"
    frame = again.run().to_pandas()
    assert len(frame) == total and frame["trial_id"].is_unique
    whole = import_answers(answers, run="killme", data=data, out=tmp_path / "whole")
    cols = [c for c in frame.columns if c not in ("latency_s", "created_at")]
    pd.testing.assert_frame_equal(
        frame[cols].sort_values("trial_id").reset_index(drop=True),
        whole.run().to_pandas()[cols].sort_values("trial_id").reset_index(drop=True),
    )
