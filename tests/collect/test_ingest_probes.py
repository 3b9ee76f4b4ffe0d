"""Findings of issue 14 §2 (probing the ingest server as an attacker would), each pinned:
ingest errors (huge ``seq``, non-finite numbers, a full or read-only store), the host
allowlist (URLs a browser reads as another host), terminal escapes in what the CLI prints,
a withdrawal held up by a reader, and the smaller ones (consent time, page headers, /join
limits, cross-origin forms, rationales for unknown events, API docs, raw_survey masking)."""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import pytest
import zstandard
from bl_ingest import SHOP, STUDY_TOKEN, T0, Clock, enrol, event, post
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from behaviorlab.cli import app
from behaviorlab.collect._export import capture_dataset
from behaviorlab.collect._pii import PiiMasker
from behaviorlab.collect._questionnaire import AnswersError, Questionnaire, check_answers
from behaviorlab.collect._server import RateLimit, create_app
from behaviorlab.collect._store import CaptureStore, StoreUnavailable
from behaviorlab.collect._study import Study, iso

# --- §2.4 ingest errors ----------------------------------------------------------------------


def test_a_seq_beyond_64_bits_is_a_422_naming_the_field(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    r = post(client, token, {"events": [event(1, seq=2**63)]})
    assert r.status_code == 422
    assert [p["location"] for p in r.json()["problems"]] == ["events[0].seq"]
    assert post(client, token, {"events": [event(2, seq=2**63 - 1)]}).status_code == 200
    assert [e.seq for e in store.events_of("s1")] == [2**63 - 1]


@pytest.mark.parametrize(
    "number", ["NaN", "Infinity", "-Infinity", "1e400"], ids=["nan", "inf", "-inf", "overflow"]
)
def test_non_finite_numbers_anywhere_are_refused(
    client: TestClient, store: CaptureStore, number: str
) -> None:
    token = enrol(client)
    for where in ("mouse_position", "element_meta", "page_meta"):
        one = event(1, mouse_position={"x": 1.0, "y": 2.0})
        body = json.dumps({"events": [one]})
        spot = {"mouse_position": '"x": 1.0', "element_meta": '"seq": 1', "page_meta": '"seq": 1'}
        if where == "mouse_position":
            body = body.replace(spot[where], f'"x": {number}')
        else:
            body = body.replace(spot[where], f'"seq": 1, "{where}": {{"n": [{number}]}}')
        assert number in body
        r = post(client, token, body)
        assert r.status_code == 422, (where, r.text)
        assert "finite" in r.json()["problems"][0]["problem"]
    assert store.events_of("s1") == []


def test_a_full_disk_answers_503_with_a_json_reason(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count={pages}")  # as if the disk were full
    big = f"<body><p>{secrets.token_hex(40_000)}</p></body>"  # compresses only 2:1
    r = post(client, token, {"events": [event(1, simplified_html=big)]})
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/json"
    assert "full" in r.json()["error"] and r.headers["retry-after"]
    store._conn.execute("PRAGMA max_page_count=1073741823")  # space again: the retry is stored
    assert post(client, token, {"events": [event(1, simplified_html=big)]}).status_code == 200


def test_a_read_only_store_answers_503_and_the_server_refuses_to_start(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    who = store.participant(token=token)
    assert who is not None
    store._conn.execute("PRAGMA query_only=ON")  # as if the file had become read-only
    try:
        r = post(client, token, {"events": [event(1)]})
        assert r.status_code == 503 and "read-only" in r.json()["error"]
        with pytest.raises(StoreUnavailable, match="read-only"):
            create_app(store)
    finally:
        store._conn.execute("PRAGMA query_only=OFF")
    assert store.rows_of(who.participant_id)["events"] == 0


# --- §2.5 host allowlist -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"http://evil.example\\@{SHOP}/",  # a browser goes to evil.example
        f"http://evil.example\\{SHOP}/",
        f"http://user:pw@{SHOP}/",  # credentials: refused rather than guessed at
        f"http://evil.example@{SHOP}/",
        f"http://evil.exa\tmple@{SHOP}/",  # a browser drops tabs and newlines
        f"http:\\\\{SHOP}/",
        f"http:{SHOP}/",
        f"http:///{SHOP}/",
        f"http://{SHOP.replace('1', '%31', 1)}/",
        f" http://{SHOP}/x",
    ],
)
def test_urls_a_browser_reads_as_another_host_are_refused(
    client: TestClient, store: CaptureStore, url: str
) -> None:
    token = enrol(client)
    r = post(client, token, {"events": [event(1, url=url)]})
    assert r.status_code == 403, r.text
    assert r.json()["problems"][0]["location"] == "events[0].url"
    assert store.events_of("s1") == []


def test_plain_page_urls_of_the_allowed_host_still_pass(client: TestClient) -> None:
    token = enrol(client)
    urls = [f"http://{SHOP}/", f"HTTP://{SHOP}/search?q=a%20b#x", f"https://{SHOP}/p/1"]
    batch = {"events": [event(i, url=u) for i, u in enumerate(urls)]}
    assert post(client, token, batch).json()["accepted"] == 3


# --- §2.6 terminal escapes -----------------------------------------------------------------------

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e"


def test_collect_cli_prints_no_control_characters(
    tmp_path: Path, client: TestClient, store: CaptureStore, caplog: pytest.LogCaptureFixture
) -> None:
    token = enrol(client)
    hostile = "evt-" + ESCAPES
    assert post(client, token, {"events": [event(1, event_id=hostile)]}).status_code == 200
    who = store.participant(token=token)
    assert who is not None
    legacy = json.loads(store.events_of("s1")[0].payload) | {"click_type": "banana"}
    store.add_batch(who, [(hostile + "2", "s1", 2, "t", "click", json.dumps(legacy))], [], T0)
    store.create_study(Study(study_id="s2", name="[bold]x[/] " + ESCAPES, allowed_hosts=[SHOP]))
    db = store.url
    runs = [
        ["collect", "export", str(tmp_path / "out"), "--study", "s1", "--db", db],
        ["collect", "study", "list", "--db", db],
        ["collect", "export", str(tmp_path / "o2"), "--study", ESCAPES, "--db", db],
        ["collect", "participant", "withdraw", ESCAPES, "--db", db],
    ]
    outputs = []
    for args in runs:
        result = CliRunner().invoke(app, args)
        outputs.append(result.stdout + result.stderr + caplog.text)  # warnings go to stderr
        caplog.clear()
    assert "skipped stored event evt-\\x1b]0;pwned\\x07" in outputs[0]
    assert "[bold]x[/]" in outputs[1]  # names are shown as they are, not read as markup
    for text in outputs:
        assert not any(c in text for c in "\x1b\x07\u202e"), text


# --- §2.3 withdrawal with a reader open ------------------------------------------------------


def _on_disk(store: CaptureStore) -> bytes:
    """The database files' bytes, each zstd frame in them (a stored page) also decompressed."""
    raw = b"".join(p.read_bytes() for p in Path(store.url).parent.glob("capture.sqlite*"))
    found = [raw]
    at = raw.find(ZSTD_MAGIC)
    while at >= 0:
        with contextlib.suppress(zstandard.ZstdError):
            found.append(zstandard.ZstdDecompressor().decompressobj().decompress(raw[at:]))
        at = raw.find(ZSTD_MAGIC, at + 1)
    return b"".join(found)


def test_a_withdrawal_a_reader_holds_up_is_pending_then_finished(store: CaptureStore) -> None:
    server = create_app(store, scrub_interval_s=0.1)
    with TestClient(server, follow_redirects=False) as c:
        leaving, staying = enrol(c), enrol(c)
        marker = "zq" + "w" * 30 + "withdrawn"
        page = f"<body><p>{marker}</p></body>"  # stored compressed
        sent = event(1, semantic_id=marker, simplified_html=page)
        assert post(c, leaving, {"events": [sent]}).status_code == 200
        reader = sqlite3.connect(store.url, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM events").fetchone() == (1,)  # a snapshot
        try:
            began = time.monotonic()
            gone = c.delete("/api/v1/participant", headers={"authorization": f"Bearer {leaving}"})
            assert time.monotonic() - began < 2.0  # it does not wait for the reader
            assert gone.status_code == 200 and gone.json()["status"] == "pending"
            began = time.monotonic()
            assert post(c, staying, {"events": [event(2)]}).status_code == 200
            assert time.monotonic() - began < 1.0  # nor does anyone else
            status = c.get(gone.json()["status_url"]).json()
            assert status["status"] == "pending" and marker.encode() in _on_disk(store)
        finally:
            reader.execute("COMMIT")
            reader.close()
        deadline = time.monotonic() + 10
        while c.get(gone.json()["status_url"]).json()["status"] != "done":
            assert time.monotonic() < deadline, "the pending withdrawal was never finished"
            time.sleep(0.1)
        assert marker.encode() not in _on_disk(store)
        assert len(store.events_of("s1")) == 1


def test_cli_withdrawal_says_pending_while_a_reader_holds_the_rows(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    assert post(client, token, {"events": [event(1)]}).status_code == 200
    who = store.participant(token=token)
    assert who is not None
    reader = sqlite3.connect(store.url, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM events").fetchone()
    try:
        args = ["collect", "participant", "withdraw", who.participant_id, "--wait", "0.5"]
        result = CliRunner().invoke(app, [*args, "--db", store.url])
    finally:
        reader.close()
    assert result.exit_code == 0 and "pending" in result.stdout
    assert "deleted 1 participants, 1 consents, 1 events" in result.stdout


# --- §2.7 smaller findings ----------------------------------------------------------------

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _join(c: TestClient) -> str:
    r = c.get("/join/s1", params={"t": STUDY_TOKEN})
    assert r.status_code == 303
    return str(r.headers["location"].split("/")[2])


def test_consent_records_the_servers_shown_at(
    client: TestClient, store: CaptureStore, clock: Clock
) -> None:
    token = _join(client)
    assert client.get(f"/p/{token}/consent").status_code == 200  # served at T0
    clock.now = T0 + timedelta(minutes=5)
    claimed = iso(T0 + timedelta(hours=3))  # after the consent itself
    r = client.post(f"/p/{token}/consent", content=f"agree=yes&shown_at={claimed}", headers=FORM)
    assert r.status_code == 303
    who = store.participant(token=token)
    assert who is not None
    ((_, shown_at, consented_at),) = store.consents_of(who.participant_id)
    assert (shown_at, consented_at) == (iso(T0), iso(T0 + timedelta(minutes=5)))


def test_token_pages_are_not_cached_framed_or_leaked_by_referrer(client: TestClient) -> None:
    token = enrol(client)
    for path in (f"/p/{token}/done", f"/p/{token}/consent", "/join/s1?t=wrong"):
        r = client.get(path)
        assert r.headers["cache-control"] == "no-store", path
        assert r.headers["referrer-policy"] == "same-origin"  # not no-referrer: Origin: null
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "cache-control" not in client.get("/healthz").headers


def test_join_is_rate_limited_per_address(store: CaptureStore) -> None:
    server = create_app(store, join_rate_limit=RateLimit(per_second=0.01, burst=3))
    with TestClient(server, follow_redirects=False) as c:
        codes = [c.get("/join/s1", params={"t": STUDY_TOKEN}).status_code for _ in range(5)]
        assert codes == [303, 303, 303, 429, 429]
        assert int(c.get("/join/s1").headers["retry-after"]) >= 1
    assert len(store.participants_of("s1")) == 3


def test_unknown_and_known_study_ids_answer_alike(client: TestClient) -> None:
    wrong = client.get("/join/s1", params={"t": "st-wrong-token-000"})
    unknown = client.get("/join/no-such-study", params={"t": "st-wrong-token-000"})
    assert wrong.status_code == unknown.status_code == 403
    assert wrong.text == unknown.text


def test_cross_origin_form_posts_are_refused(client: TestClient, store: CaptureStore) -> None:
    token = _join(client)
    client.get(f"/p/{token}/consent")
    for hostile in (
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
    ):
        r = client.post(f"/p/{token}/consent", content="agree=yes", headers=FORM | hostile)
        assert r.status_code == 403, hostile
    who = store.participant(token=token)
    assert who is not None and who.consented_at is None
    own = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    assert (
        client.post(f"/p/{token}/consent", content="agree=yes", headers=FORM | own).status_code
        == 303
    )


def test_rationales_for_unknown_event_ids_are_refused(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    why = {"rationale": "cheaper", "timestamp": "2026-01-10T12:00:05.000Z"}
    r = post(
        client, token, {"events": [event(1)], "rationales": [why | {"event_id": "evt-never-0001"}]}
    )
    assert r.status_code == 422
    assert [p["location"] for p in r.json()["problems"]] == ["rationales[0].event_id"]
    assert store.events_of("s1") == [] and store.rationales_of("s1") == []
    same_batch = {"events": [event(1)], "rationales": [why | {"event_id": "evt-s1-0001"}]}
    assert post(client, token, same_batch).json()["rationales"] == 1
    later = {"rationales": [why | {"event_id": "evt-s1-0001", "rationale": "on sale"}]}
    assert post(client, token, later).json()["rationales"] == 1
    assert [r.rationale for r in store.rationales_of("s1")] == ["on sale"]


def test_api_docs_are_off_unless_asked_for(client: TestClient, store: CaptureStore) -> None:
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404
    with TestClient(create_app(store, api_docs=True)) as c:
        assert c.get("/openapi.json").status_code == 200 and c.get("/docs").status_code == 200


def test_raw_survey_lists_and_dicts_are_masked_and_length_checked() -> None:
    q = Questionnaire.model_validate(
        {
            "title": "t",
            "sections": [
                {
                    "id": "a",
                    "title": "A",
                    "questions": [
                        {"id": "age", "text": "Age?", "options": ["18-24", "25-34"]},
                        {"id": "bio", "text": "You?", "kind": "text", "max_length": 100},
                    ],
                }
            ],
        }
    )
    answers = {
        "age": ["18-24", "jane.doe@example.com 555-123-4567"],
        "bio": {"jane.doe@example.com": ["call 555-123-4567"]},
    }
    survey, raw = check_answers(q, answers, PiiMasker())
    assert survey["A"]["Age?"] == "18-24"
    assert raw == {"age": ["18-24", "[EMAIL] [PHONE]"], "bio": {"[EMAIL]": ["call [PHONE]"]}}
    with pytest.raises(AnswersError) as err:
        check_answers(q, {"age": ["18-24", "x" * 101], "bio": ["ok", "y" * 101]}, PiiMasker())
    assert {p.location for p in err.value.problems} == {"answers.bio"}


# --- §1 the bounded ingest queue ------------------------------------------------------------


def test_a_full_ingest_queue_answers_503_with_retry_after(store: CaptureStore) -> None:
    server = create_app(store, queue_size=2)
    with TestClient(server, follow_redirects=False) as c:
        token = enrol(c)
        server.state.collect.queue.in_progress = 2  # two batches being cleaned
        r = post(c, token, {"events": [event(1)]})
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert "busy" in r.json()["error"] and store.events_of("s1") == []
        server.state.collect.queue.in_progress = 1
        assert post(c, token, {"events": [event(1)]}).json()["accepted"] == 1
        assert server.state.collect.queue.in_progress == 1  # its place was given back


def test_batches_are_cleaned_in_worker_processes(store: CaptureStore) -> None:
    server = create_app(store, workers=1)
    with TestClient(server, follow_redirects=False) as c:
        token = enrol(c)
        html = '<body><script>x()</script><p onclick="y()">call 555-123-4567</p></body>'
        batch = {"events": [event(1, simplified_html=html), event(2)]}
        assert post(c, token, batch).json()["accepted"] == 2
        bad = post(c, token, {"events": [event(3, seq=-1)]})
        assert bad.status_code == 422 and bad.json()["problems"][0]["location"] == "events[0].seq"
        offsite = post(c, token, {"events": [event(4, url="http://evil.example/")]})
        assert offsite.status_code == 403
    stored = json.loads(store.events_of("s1")[0].payload)["simplified_html"]
    assert "script" not in stored and "onclick" not in stored and "555-123-4567" not in stored


# --- §1 pages stored once, compressed, reference-counted -------------------------------------


def test_a_page_is_stored_once_compressed_and_goes_with_its_last_reference(
    client: TestClient, store: CaptureStore
) -> None:
    first, second = enrol(client), enrol(client)
    grid = "".join(f'<div class="card"><a name="p{i}.title">Shoe {i}</a></div>' for i in range(400))
    page = f"<body>{grid}</body>"
    for token in (first, second):
        batch = {"events": [event(i, simplified_html=page) for i in range(3)]}
        assert post(client, token, batch).json()["accepted"] == 3
    ((count, size, stored),) = store._query(
        "SELECT COUNT(*), MAX(size), MAX(LENGTH(body)) FROM pages", ()
    )
    assert count == 1 and stored * 10 < size  # one copy of six, zstd-compressed
    kept = [json.loads(r.payload)["simplified_html"] for r in store.events_of("s1")]
    assert len(kept) == 6 and len(set(kept)) == 1 and "Shoe 399" in kept[0]
    (episode, _) = sorted(capture_dataset(store, "s1", "full").episodes, key=lambda e: e.episode_id)
    htmls = [s.observation.content for s in episode.steps if s.observation is not None]
    assert htmls and all(h and "Shoe 399" in h for h in htmls)  # the export rebuilds each
    who = store.participant(token=first)
    assert who is not None
    assert store.withdraw(who.participant_id).deleted["pages"] == 0  # the other still uses it
    assert "Shoe 399" in json.loads(store.events_of("s1")[0].payload)["simplified_html"]
    assert store.purge_expired(T0 + timedelta(days=365))["s1"] == 3  # retention: the last uses
    assert store._query("SELECT COUNT(*) FROM pages", ()) == [(0,)]
    assert store._query("SELECT COUNT(*) FROM event_pages", ()) == [(0,)]


def test_the_withdraw_page_says_pending_while_a_reader_holds_the_rows(
    store: CaptureStore,
) -> None:
    server = create_app(store, scrub_interval_s=60)
    with TestClient(server, follow_redirects=False) as c:
        leaving = enrol(c)
        assert post(c, leaving, {"events": [event(1)]}).status_code == 200
        reader = sqlite3.connect(store.url, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM events").fetchone() == (1,)
        try:
            page = c.post(f"/p/{leaving}/withdraw", headers={"origin": "http://testserver"})
        finally:
            reader.execute("COMMIT")
            reader.close()
    assert page.status_code == 200, page.text
    assert "is being removed from disk (receipt" in page.text
    assert "everything recorded about you is deleted." not in page.text
