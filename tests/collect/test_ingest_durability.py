"""The ingest server as a real process on loopback: kill -9 loses no acknowledged event, and a
burst of 200 participants loses nothing (bench/ingest_burst.py's helpers)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from behaviorlab.collect._store import open_store

pytestmark = pytest.mark.slow


def _bench() -> ModuleType:
    path = Path(__file__).parents[2] / "bench" / "ingest_burst.py"
    spec = importlib.util.spec_from_file_location("ingest_burst", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["ingest_burst"] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()


def test_acknowledged_events_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "capture.sqlite"
    tokens = bench.make_study(db, 3)
    port = bench.free_port()
    server = bench.start_server(db, port)
    acknowledged: set[str] = set()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for b in range(6):
                for i, token in enumerate(tokens):
                    body = bench.batch(i, b, 4)
                    r = client.post(
                        "/api/v1/events", json=body, headers={"authorization": f"Bearer {token}"}
                    )
                    assert r.status_code == 200, r.text
                    acknowledged |= {e["event_id"] for e in body["events"]}
        os.kill(server.pid, signal.SIGKILL)  # no shutdown, no checkpoint, right after the 200s
        server.wait(timeout=30)
        assert server.returncode == -signal.SIGKILL
        server = bench.start_server(db, port)  # restart on the same file
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            again = client.post(
                "/api/v1/events",
                json=bench.batch(0, 0, 4),
                headers={"authorization": f"Bearer {tokens[0]}"},
            )
            assert again.json() == {"accepted": 0, "duplicates": 4, "rationales": 0}
    finally:
        server.kill()
        server.wait(timeout=30)
    store = open_store(db)
    stored = {r.event_id for r in store.events_of("burst")}
    store.close()
    assert len(acknowledged) == 3 * 6 * 4 and stored == acknowledged


def test_a_burst_of_200_participants_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "capture.sqlite"
    tokens = bench.make_study(db, 200)
    port = bench.free_port()
    server = bench.start_server(db, port)
    try:
        result = asyncio.run(bench.burst(f"http://127.0.0.1:{port}", tokens, 1, 5))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert result.statuses == {200: 200}
    store = open_store(db)
    stored = store.events_of("burst")
    store.close()
    assert result.acknowledged == len(stored) == 200 * 5
    assert len({(r.participant_id, r.event_id) for r in stored}) == 1000
    assert result.percentile(0.99) >= result.percentile(0.5) > 0
