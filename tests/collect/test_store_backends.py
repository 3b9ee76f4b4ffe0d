"""The capture store on both backends: SQLite, and a throwaway PostgreSQL on loopback (slow)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from behaviorlab.collect._page_store import page_row
from behaviorlab.collect._server import create_app
from behaviorlab.collect._store import TABLES, CaptureStore, open_store
from behaviorlab.collect._study import Participant, Study

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return str(Path(found[-1]).parent) if found else None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server started as the `postgres` system user in a temporary directory,
    trust auth on 127.0.0.1 and a free port; stopped and removed after the module."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql)"
        )
    # PostgreSQL refuses to run as root: as root, run it as the `postgres` system user the
    # Debian package creates; as anyone else, run it as ourselves.
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("runuser is needed to start PostgreSQL as the postgres user")
    root = Path(tempfile.mkdtemp(prefix="behaviorlab-pg-"))
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()

    def as_postgres(*args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    as_postgres(f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    as_postgres(
        f"{bindir}/pg_ctl",
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-w",
        "-t",
        "60",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on",
        "start",
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaptureStore]:
    if request.param == "sqlite":
        s = open_store(tmp_path / "capture.sqlite")
    else:
        url = request.getfixturevalue("postgres_url")
        s = open_store(url)
        with s._tx() as cur:  # a clean slate for each test
            for table in TABLES:
                cur.execute(f"DELETE FROM {table}")
    yield s
    s.close()


def _setup(store: CaptureStore) -> tuple[Study, Participant]:
    study = Study(
        study_id="b1", name="B", allowed_hosts=["shop.test"], retention_days=7, created_at=T0
    )
    store.create_study(study)
    who = Participant(
        participant_id="pa1", study_id="b1", token="pt-aaaaaaaaaaaaaaaa", enrolled_at=T0
    )
    store.add_participant(who)
    return study, who


def _events(ids: list[str]) -> list[tuple[str, str, int, str, str, str]]:
    return [(e, "s", i, T0.isoformat(), "click", f'{{"id": "{e}"}}') for i, e in enumerate(ids)]


def test_studies_participants_and_consent(store: CaptureStore) -> None:
    study, who = _setup(store)
    with pytest.raises(ValueError, match="already exists"):
        store.create_study(study)
    assert store.get_study("b1") == study and store.study_by_token(study.token) == study
    assert store.get_study("zz") is None
    assert store.participant(token=who.token) == who
    store.consent_shown(who.token, T0)  # the server served the consent page at T0 ...
    later = T0 + timedelta(seconds=90)  # ... and the client claims it was shown later
    store.record_consent(who, "the text", later, T0 + timedelta(minutes=1))
    found = store.participant(pid="pa1")
    assert found is not None and found.consented_at == T0 + timedelta(minutes=1)
    assert store.consents_of("pa1") == [
        ("the text", "2026-03-01T09:00:00.000000Z", "2026-03-01T09:01:00.000000Z")
    ]
    store.save_survey("pa1", {"A": {"q": 1}}, {"q": "1"}, T0)
    again = store.participant(pid="pa1")
    assert again is not None and again.survey == {"A": {"q": 1}} and again.raw_survey == {"q": "1"}


def test_batches_are_idempotent_and_withdrawal_leaves_nothing(store: CaptureStore) -> None:
    _, who = _setup(store)
    assert store.add_batch(who, _events(["e1", "e2"]), [("e1", "why", "t")], T0) == (2, 0, 1)
    assert store.add_batch(who, _events(["e2", "e3"]), [("e1", "why 2", "t")], T0) == (1, 1, 1)
    assert [r.event_id for r in store.events_of("b1")] == ["e1", "e2", "e3"]
    assert [r.rationale for r in store.rationales_of("b1")] == ["why 2"]
    other = Participant(
        participant_id="pb2", study_id="b1", token="pt-bbbbbbbbbbbbbbbb", enrolled_at=T0
    )
    store.add_participant(other)
    assert store.add_batch(other, _events(["e1"]), [], T0) == (1, 0, 0)  # same id, other person
    assert store.withdraw("pa1").deleted == {
        "participants": 1,
        "consents": 0,
        "events": 3,
        "rationales": 1,
        "consent_views": 0,
        "event_pages": 0,
        "pages": 0,
    }
    assert store.rows_of("pa1") == {t: 0 for t in TABLES}
    assert [r.participant_id for r in store.events_of("b1")] == ["pb2"]


def test_pages_are_shared_and_go_with_their_last_event(store: CaptureStore) -> None:
    _, who = _setup(store)
    other = Participant(
        participant_id="pb2", study_id="b1", token="pt-bbbbbbbbbbbbbbbb", enrolled_at=T0
    )
    store.add_participant(other)
    events = [(e, "s", i, T0.isoformat(), "click", f'{{"id": "{e}"}}') for i, e in enumerate("ab")]
    pages = [page_row(e, "<p>shared page</p>", "{}") for e in "ab"]  # both events, one page
    for person in (who, other):
        assert store.add_batch(person, events, [], T0, pages) == (2, 0, 0)
    # a retried (duplicate) event keeps its first page
    assert store.add_batch(who, events, [], T0, [page_row("a", "<p>changed</p>", "{}")])[1] == 2
    assert store._query("SELECT COUNT(*) FROM pages", ()) == [(1,)]
    htmls = {
        (r.participant_id, json.loads(r.payload)["simplified_html"]) for r in store.events_of("b1")
    }
    assert htmls == {("pa1", "<p>shared page</p>"), ("pb2", "<p>shared page</p>")}
    assert store.withdraw("pa1").deleted["pages"] == 0
    assert store.withdraw("pb2").deleted["pages"] == 1


def test_retention_purges_by_receipt_time(store: CaptureStore) -> None:
    _, who = _setup(store)
    store.add_batch(who, _events(["old"]), [("old", "w", "t")], T0)
    store.add_batch(who, _events(["new"]), [], T0 + timedelta(days=5))
    assert store.purge_expired(T0 + timedelta(days=7, seconds=1)) == {"b1": 1}
    assert [r.event_id for r in store.events_of("b1")] == ["new"]
    assert store.rationales_of("b1") == []


def test_the_server_runs_on_the_store(store: CaptureStore) -> None:
    _setup(store)
    with TestClient(create_app(store), follow_redirects=False) as client:
        r = client.get("/join/b1", params={"t": store.get_study("b1").token})  # type: ignore[union-attr]
        token = r.headers["location"].split("/")[2]
        client.post(
            f"/p/{token}/consent",
            content="agree=yes",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        body = {
            "events": [
                {
                    "event_id": "abcdefgh",
                    "session_id": "s",
                    "seq": 0,
                    "timestamp": "2026-03-01T09:00:00Z",
                    "action_type": "click",
                    "click_type": "search",
                    "url": "https://shop.test/",
                }
            ]
        }
        headers = {"authorization": f"Bearer {token}"}
        assert client.post("/api/v1/events", json=body, headers=headers).json()["accepted"] == 1
        assert client.post("/api/v1/events", json=body, headers=headers).json()["duplicates"] == 1
    assert [r.event_id for r in store.events_of("b1")] == ["abcdefgh"]


@pytest.mark.slow
def test_postgres_recovers_from_a_failed_statement_and_a_lost_connection(
    postgres_url: str,
) -> None:
    import psycopg

    store = open_store(postgres_url)
    with store._tx() as cur:  # a clean slate
        for table in TABLES:
            cur.execute(f"DELETE FROM {table}")
    try:
        with pytest.raises(psycopg.errors.UndefinedTable):
            store._query("SELECT * FROM no_such_table", ())
        # without a rollback the connection stays in an aborted transaction
        assert store.get_study("nope") is None
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = 'postgres'"
            ).fetchall()
        assert killed  # the store's connection is gone
        assert store.get_study("nope") is None  # a read reconnects
        _setup(store)  # and writes go on on the new connection
        assert store.get_study("b1") is not None
    finally:
        store.close()
