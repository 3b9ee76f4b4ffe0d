"""Fixtures of the ingest server's tests: study ``s1`` in a SQLite store, a settable clock,
and a TestClient (burst of 8 batches, 200,000-byte bodies)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bl_ingest import SHOP, STUDY_TOKEN, Clock
from fastapi.testclient import TestClient

from behaviorlab.collect._server import RateLimit, create_app
from behaviorlab.collect._store import CaptureStore, open_store
from behaviorlab.collect._study import Study


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaptureStore]:
    s = open_store(tmp_path / "capture.sqlite")
    s.create_study(
        Study(
            study_id="s1",
            name="Shoes",
            token=STUDY_TOKEN,
            allowed_hosts=[SHOP],
            retention_days=30,
        )
    )
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(store: CaptureStore, clock: Clock) -> Iterator[TestClient]:
    app = create_app(
        store, clock=clock, max_body_bytes=200_000, rate_limit=RateLimit(per_second=0.5, burst=8)
    )
    with TestClient(app, follow_redirects=False) as c:
        yield c
