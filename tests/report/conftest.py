"""Runs for the report tests: a small synthetic survey answered by the mock LLM (one arm of it
flaky, so that failures with raw output exist), two baselines, and persona ablations.

Built once per session (a few seconds) in a temporary folder, with an isolated LLM-call cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import behaviorlab as bl
from behaviorlab.runs import Run

PAYLOAD = '<script>alert("pwned")</script> & <b>bold</b>'
"""Raw model output written into every invalid trial: it must show as text, never run."""

RESAMPLES = 200


def spec(name: str = "syn-report", seed: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "task": "survey",
        "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "score"},
            {
                "name": "llm",
                "label": "llm:flaky",
                "backend": "mock",
                "answer": "generate",
                "backend_options": {"fail_rate": 0.2, "invalid_rate": 0.25},
                "conditions": ["full"],
            },
            {"name": "majority", "conditions": ["full"]},
            {"name": "knn_persona", "k": 5, "conditions": ["full", "shuffled_persona"]},
        ],
        "conditions": ["full", "no_persona", "shuffled_persona"],
        "seeds": [seed],
    }


def _inject_payload(run: Run) -> int:
    db = sqlite3.connect(run.results_path)
    try:
        with db:
            cur = db.execute(
                "UPDATE trials SET raw_output = ? WHERE error_kind = 'invalid'", (PAYLOAD,)
            )
        return cur.rowcount
    finally:
        db.close()


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """``main`` (with the payload in its invalid trials), ``rerun`` (the same spec under
    another name: the same trials) and ``other`` (another seed: no trial in common)."""
    root = tmp_path_factory.mktemp("report-runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BEHAVIORLAB_CACHE_DIR", str(root / "cache"))
        runs = {
            "main": bl.run(spec(), out=root / "runs", progress=False),
            "rerun": bl.run(spec("syn-rerun"), out=root / "runs", progress=False),
            "other": bl.run(spec("syn-other", seed=1), out=root / "runs", progress=False),
        }
    assert _inject_payload(runs["main"]) > 0
    yield runs


@pytest.fixture(scope="session")
def main_run(report_runs: dict[str, Run]) -> Run:
    return report_runs["main"]


@pytest.fixture(scope="session")
def runs_root(main_run: Run) -> Path:
    return main_run.results_path.parent.parent
