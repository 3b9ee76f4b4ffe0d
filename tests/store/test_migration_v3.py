"""Migration v3 (trials.cost): a version-2 file, written with the v2 schema's own SQL, is
readable before its upgrade and upgraded in place keeping its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from behaviorlab.store import RESULTS_SCHEMA_VERSION, ResultStore, TrialResult

# the schema as behaviorlab wrote it at version 2 (before the cost column)
V2_SQL = """
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL, manifest TEXT,
  status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE trials (
  run_id TEXT, trial_id TEXT, task TEXT, simulator TEXT, condition TEXT, seed INTEGER,
  person_id TEXT, item_id TEXT, episode_id TEXT, step_index INTEGER, prompt_hash TEXT,
  raw_output TEXT, answer TEXT, answer_json TEXT, probabilities TEXT, samples TEXT,
  human_answer TEXT, options TEXT, answer_position INTEGER, correct REAL, scores TEXT,
  error TEXT, error_kind TEXT, latency_s REAL, tokens_in INTEGER, tokens_out INTEGER,
  calls INTEGER, cache_hits INTEGER, meta TEXT, created_at TEXT,
  PRIMARY KEY (run_id, trial_id)
);
CREATE INDEX trials_by_sim ON trials (run_id, simulator, condition);
CREATE TABLE persons (run_id TEXT NOT NULL, person_id TEXT NOT NULL,
  attributes TEXT NOT NULL, PRIMARY KEY (run_id, person_id));
INSERT INTO runs VALUES ('r1', 'exp', '{}', '{}', 'finished', '2026-01-01', '2026-01-01');
INSERT INTO trials VALUES ('r1', 't0', 'survey', 'llm:x', 'full', 0, 'p0', 'q1', 'e0', 0,
  NULL, '', '1', NULL, NULL, NULL, '1', '["0", "1"]', 1, 1.0, '{"correct": 1.0}', NULL, NULL,
  0.5, 120, 3, 1, 0, '{}', '2026-01-01T00:00:00');
PRAGMA user_version = 2;
"""


def _v2_file(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(V2_SQL)
    db.close()
    return path


def test_v2_file_reads_cost_as_zero_before_the_upgrade(tmp_path: Path) -> None:
    path = _v2_file(tmp_path / "v2.sqlite")
    store = ResultStore(path, readonly=True)
    frame = store.to_pandas("r1")
    assert store.schema_version() == 2  # read-only: not migrated
    assert frame["cost"].tolist() == [0.0] and frame["tokens_in"].tolist() == [120]
    assert store.totals("r1") == {
        "llm:x": {"trials": 1, "tokens_in": 120, "tokens_out": 3, "cost": 0.0}
    }
    store.close()


def test_v2_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = _v2_file(tmp_path / "v2.sqlite")
    store = ResultStore(path)
    assert store.schema_version() == RESULTS_SCHEMA_VERSION == 3
    cols = {r[1]: r for r in sqlite3.connect(path).execute("PRAGMA table_info(trials)")}
    assert cols["cost"][2] == "REAL"
    old = TrialResult.model_validate(
        {
            **store.to_pandas("r1").iloc[0].to_dict(),
            "trial_id": "t1",
            "cost": 0.25,
            "tokens_in": 80,
        }
    )
    store.write(old)
    frame = store.to_pandas("r1").set_index("trial_id")
    assert frame.loc["t0", "cost"] == 0.0 and frame.loc["t1", "cost"] == 0.25
    assert frame.loc["t0", "answer"] == "1"  # the old row survives
    assert store.totals("r1")["llm:x"] == {
        "trials": 2,
        "tokens_in": 200,
        "tokens_out": 6,
        "cost": 0.25,
    }
    store.close()
    assert ResultStore(path).schema_version() == 3  # reopening applies nothing twice


def test_new_file_has_the_cost_column_once(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "new.sqlite")
    names = [r[1] for r in store._db.execute("PRAGMA table_info(trials)")]
    assert names.count("cost") == 1 and set(names) == set(TrialResult.model_fields)
    store.close()
