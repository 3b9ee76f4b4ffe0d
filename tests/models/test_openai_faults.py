"""A whole run through the openai backend against a fault-injecting server: 429s, 500s,
stalls, malformed and truncated bodies. No hang, no lost trial: every planned trial is stored,
answered or failed with its reason."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import bl_fault_server as fs
import pytest

import behaviorlab as bl
from behaviorlab.runs import run_async

REASONS = {
    "malformed": "malformed JSON body",
    "truncated": "body truncated",
    "500": "HTTP 500",
}


@pytest.mark.timeout(60)
def test_faulty_server_run_completes_with_every_trial_stored(tmp_path: Path) -> None:
    with fs.serve(fs.FaultServer(script=fs.by_hash, stall_s=3.0)) as server:
        spec: dict[str, Any] = {
            "name": "faults",
            "task": "survey",
            "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
            "simulators": [
                {
                    "name": "llm",
                    "backend": "openai",
                    "answer": "generate",
                    "backend_options": {
                        "base_url": server.url,
                        "model": "fake-model",
                        "structured": "json_object_schema",
                        "concurrency": 8,
                        "timeout_s": 0.3,
                        "deadline_s": 2.0,
                        "max_retries": 2,
                        "backoff_base_s": 0.01,
                        "backoff_max_s": 0.05,
                    },
                }
            ],
            "conditions": ["full"],
            "seeds": [0],
            "concurrency": 8,
            "cache": False,
        }
        start = time.monotonic()
        summary = asyncio.run(run_async(spec, out=tmp_path))
        elapsed = time.monotonic() - start
        served = list(server.served)

    frame = bl.open_run(summary.results_path).to_pandas()
    assert summary.planned == 40 and len(frame) == 40 and frame["trial_id"].is_unique
    # every prompt's fault class as the server assigned it, and how often it was asked (two
    # people with the same age and party see the same prompt)
    classes = {key: fs.fault_class(key) for key, _, _ in served}
    asked = Counter(key for key, _, _ in served)
    assert set(classes.values()) == set(fs.KINDS)  # every kind of fault was exercised
    answered = frame[frame["error"].isna()]
    failed = frame[frame["error"].notna()]
    assert len(failed) == summary.failed
    for kind, reason in REASONS.items():  # permanent faults: 3 attempts per trial, then failed
        trials = sum(asked[k] for k, c in classes.items() if c == kind) / 3
        assert failed["error"].str.contains(reason).sum() == trials, kind
    assert len(answered) == 40 - len(failed) > 0
    assert (answered["answer"] == answered["options"].map(lambda o: o[0])).all()
    assert answered["meta"].map(lambda m: m["parse"] == "constrained").all()
    assert answered["meta"].map(lambda m: m["retries"]).sum() > 0
    assert failed["error"].str.contains(r"gave up after 3 attempt\(s\)").all()
    assert (failed["error_kind"] == "backend").all()
    assert elapsed < 30
