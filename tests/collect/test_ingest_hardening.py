"""Defects found in review 5, each pinned: withdrawal racing a batch, secure deletion, click
types, hostile inputs (bad URLs, deep JSON), typed scroll / navigation details, PII in URLs,
retention while running, empty filtered sessions, naive timestamps, NaN answers, rate limits
on the questionnaire API and bucket pruning."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bl_ingest import SHOP, T0, Clock, enrol, event, post
from fastapi.testclient import TestClient

from behaviorlab.collect._events import CapturedEvent
from behaviorlab.collect._export import capture_dataset, export_study
from behaviorlab.collect._pii import PiiMasker
from behaviorlab.collect._questionnaire import AnswersError, Questionnaire, check_answers
from behaviorlab.collect._server import RateLimit, ServerState, create_app
from behaviorlab.collect._store import TABLES, CaptureStore, ParticipantGone
from behaviorlab.collect._study import Participant

# --- 2. withdrawal -------------------------------------------------------------------------


def test_a_withdrawal_between_lookup_and_insert_leaves_nothing(
    client: TestClient, store: CaptureStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = enrol(client)
    who = store.participant(token=token)
    assert who is not None
    lookup = store.participant

    def lookup_then_withdraw(**kw: Any) -> Participant | None:
        found = lookup(**kw)  # the request sees the participant ...
        if found is not None:
            store.withdraw(found.participant_id)  # ... who withdraws before the insert
        return found

    monkeypatch.setattr(store, "participant", lookup_then_withdraw)
    r = post(client, token, {"events": [event(1)]})
    assert r.status_code == 401 and "withdrawn" in r.json()["error"]
    assert store.rows_of(who.participant_id) == {t: 0 for t in TABLES}
    with pytest.raises(ParticipantGone, match=who.participant_id):
        store.add_batch(who, [("evt-x-0001", "s", 0, "t", "click", "{}")], [], T0)


def test_withdrawn_rows_are_gone_from_the_database_files(
    tmp_path: Path, client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    marker = "zq" + "x" * 30 + "marker"
    assert post(client, token, {"events": [event(1, semantic_id=marker)]}).status_code == 200
    gone = client.delete("/api/v1/participant", headers={"authorization": f"Bearer {token}"})
    assert gone.json()["deleted"]["events"] == 1
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("capture.sqlite*"))
    assert marker.encode() not in on_disk


# --- 3. click types ------------------------------------------------------------------------


def test_click_types_are_checked_and_export_survives(
    client: TestClient, store: CaptureStore, tmp_path: Path
) -> None:
    token = enrol(client)
    bad = post(client, token, {"events": [event(1, click_type="banana")]})
    assert bad.status_code == 422
    assert [p["location"] for p in bad.json()["problems"]] == ["events[0].click_type"]
    wrong_kind = post(client, token, {"events": [event(2, action_type="input")]})
    assert wrong_kind.status_code == 422 and "only for clicks" in wrong_kind.text
    ok = post(client, token, {"events": [event(3, click_type=None)]})
    assert ok.status_code == 200
    (row,) = store.events_of("s1")
    assert json.loads(row.payload)["click_type"] == "other"
    assert export_study(store, "s1", tmp_path / "out", versions=("filtered",))


def test_an_invalid_stored_event_is_skipped_not_fatal(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    assert post(client, token, {"events": [event(1), event(2)]}).status_code == 200
    who = store.participant(token=token)
    assert who is not None
    legacy = json.loads(store.events_of("s1")[0].payload)
    legacy |= {"event_id": "evt-s1-0009", "click_type": "banana"}  # stored by an older server
    store.add_batch(who, [("evt-s1-0009", "s1", 9, "t", "click", json.dumps(legacy))], [], T0)
    (episode,) = capture_dataset(store, "s1", "filtered").episodes
    assert [s.step_id for s in episode.steps][:2] == ["evt-s1-0001", "evt-s1-0002"]
    assert len(episode.steps) == 3  # two clicks and the terminate


# --- 5. hostile inputs ---------------------------------------------------------------------


def test_bad_urls_and_deep_json_are_refused_not_crashes(store: CaptureStore, clock: Clock) -> None:
    # the server's default body limit, so that a 400 kB body reaches the JSON parser
    with TestClient(create_app(store, clock=clock), follow_redirects=False) as client:
        token = enrol(client)
        bad_url = post(client, token, {"events": [event(1, url="http://[bad/")]})
        assert bad_url.status_code == 403
        assert bad_url.json()["problems"][0]["location"] == "events[0].url"
        deep: Any = "x"
        for _ in range(900):
            deep = {"k": deep}
        nested = post(client, token, {"events": [event(2, element_meta=deep)]})
        assert nested.status_code == 400 and "nested" in nested.json()["error"]
        very = post(client, token, "[" * 200_000 + "]" * 200_000)  # over 64 kB: parsed off-loop
        assert very.status_code == 400
        assert very.json()["error"] in ("malformed JSON", "JSON nested too deeply")


# --- 6. typed details, PII in URLs ---------------------------------------------------------


def test_scroll_and_navigation_details_are_typed(client: TestClient, store: CaptureStore) -> None:
    token = enrol(client)
    scroll = {"x": 0, "y": 900, "delta_y": 300, "page_height": 4000, "viewport_height": 800}
    base = {"action_type": "scroll", "click_type": None}
    ok = post(client, token, {"events": [event(1, **base, scroll_detail=scroll)]})
    assert ok.status_code == 200
    for i, wrong in enumerate(
        [
            {**base, "scroll_detail": scroll | {"typed": "jane@example.com"}},
            {**base, "scroll_detail": {"x": 0, "y": "a" * 10_000}},
            {"action_type": "navigation", "click_type": None, "navigation_type": "x" * 5000},
        ]
    ):
        assert post(client, token, {"events": [event(10 + i, **wrong)]}).status_code == 422


def test_pii_in_url_paths_and_contact_links_is_masked_on_ingest(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    html = '<a href="mailto:jane.doe@example.com">Mail</a><a href="tel:5551234567">Call</a>'
    e = event(1, url=f"http://{SHOP}/u/jane.doe@example.com/orders", simplified_html=html)
    assert post(client, token, {"events": [e]}).status_code == 200
    stored = json.loads(store.events_of("s1")[0].payload)
    assert stored["url"] == f"http://{SHOP}/u/[EMAIL]/orders"
    assert stored["simplified_html"] == (
        '<a href="mailto:[EMAIL]">Mail</a><a href="tel:[PHONE]">Call</a>'
    )
    assert PiiMasker().text("cvv 123 exp 12/27") == "cvv [CARD] exp [CARD]"


# --- 8. retention while running ------------------------------------------------------------


def test_retention_is_enforced_while_the_server_runs(store: CaptureStore, clock: Clock) -> None:
    app = create_app(store, clock=clock, purge_interval_s=0.05)
    with TestClient(app, follow_redirects=False) as c:
        active, idle = enrol(c), enrol(c)
        assert post(c, active, {"events": [event(1)]}).status_code == 200
        clock.now += timedelta(days=25)
        assert post(c, active, {"events": [event(2)]}).status_code == 200
        clock.now += timedelta(days=6)  # event 1 is 31 days old; the idle one enrolled 31 ago
        deadline = time.monotonic() + 5
        while len(store.events_of("s1")) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r.event_id for r in store.events_of("s1")] == ["evt-s1-0002"]
        # the participant who sent nothing for the whole retention period is gone too
        assert store.participant(token=idle) is None
        assert store.participant(token=active) is not None


# --- 9. empty sessions ---------------------------------------------------------------------


def test_sessions_without_clicks_or_inputs_are_left_out_of_filtered(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    scrolls = [
        event(
            i,
            session_id="s2",
            event_id=f"evt-s2-{i:04d}",
            action_type="scroll",
            click_type=None,
            scroll_detail={"x": 0, "y": 100 * i},
        )
        for i in range(3)
    ]
    assert post(client, token, {"events": [event(1), *scrolls]}).status_code == 200
    filtered = capture_dataset(store, "s1", "filtered")
    full = capture_dataset(store, "s1", "full")
    assert [e.meta["client_session_id"] for e in filtered.episodes] == ["s1"]
    assert sorted(e.meta["client_session_id"] for e in full.episodes) == ["s1", "s2"]


# --- 11. timestamps, NaN, rate limits, buckets ---------------------------------------------


def test_timestamps_need_a_timezone(client: TestClient) -> None:
    token = enrol(client)
    naive = post(client, token, {"events": [event(1, timestamp="2026-01-10T12:00:00")]})
    assert naive.status_code == 422
    assert naive.json()["problems"][0]["location"] == "events[0].timestamp"
    with pytest.raises(ValueError, match="timezone"):
        CapturedEvent.model_validate(event(1, timestamp="2026-01-10T12:00:00"))


def test_number_answers_must_be_finite() -> None:
    shoe = {"id": "shoe", "text": "Shoe size?", "kind": "number", "min": 1, "max": 20}
    q = Questionnaire.model_validate(
        {"title": "t", "sections": [{"id": "a", "title": "A", "questions": [shoe]}]}
    )
    for value in ("nan", "NaN", "inf", "-inf", float("nan")):
        with pytest.raises(AnswersError, match=r"answers\.shoe"):
            check_answers(q, {"shoe": value})
    assert check_answers(q, {"shoe": "9.5"})[0] == {"A": {"Shoe size?": 9.5}}


def test_the_questionnaire_api_is_rate_limited(client: TestClient) -> None:
    token = enrol(client)
    codes = [
        client.post(
            "/api/v1/questionnaire", headers={"authorization": f"Bearer {token}"}, json={}
        ).status_code
        for _ in range(10)
    ]
    assert codes[:8] == [422] * 8 and codes[8] == 429  # the client's burst is 8


def test_idle_rate_limit_buckets_are_forgotten(store: CaptureStore) -> None:
    now = [0.0]
    rate = RateLimit(per_second=10, burst=5)
    state = ServerState(store, Clock(), 1, rate, monotonic=lambda: now[0])
    for i in range(1000):
        assert state.take(f"p{i}") == 0
    assert len(state.buckets) > 700  # pruned as it goes, but all are recent
    now[0] += 1.0  # 0.5 s refills a bucket of 5 at 10/s: every one is full again
    for _ in range(300):
        state.take("busy")
    assert len(state.buckets) <= 2
    assert state.take("busy") > 0  # the busy participant is still limited
