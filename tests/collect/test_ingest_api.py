"""The ingest server through its HTTP API (FastAPI TestClient, SQLite store in tmp_path)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

from bl_ingest import SHOP, Clock, enrol, event, post
from fastapi.testclient import TestClient

from behaviorlab.collect._server import create_app
from behaviorlab.collect._store import TABLES, CaptureStore


def test_events_are_stored_once_and_cleaned(client: TestClient, store: CaptureStore) -> None:
    token = enrol(client)
    cfg = client.get("/api/v1/config", headers={"authorization": f"Bearer {token}"}).json()
    assert cfg["allowed_hosts"] == [SHOP] and cfg["study_id"] == "s1"
    hostile = event(
        2,
        action_type="input",
        click_type=None,
        input_text="mail me at jane.doe@example.com",
        url=f"http://{SHOP}/checkout?email=jane.doe%40example.com&step=2",
        simplified_html=(
            '<div onclick="steal()"><script>alert(1)</script>'
            '<a href="javascript:alert(2)" name="x">Call 555-123-4567</a>'
            '<input name="card" value="4111 1111 1111 1111" placeholder="a@b.co"></div>'
        ),
        element_meta={"name": "email", "text": "jane.doe@example.com", "onclick": "x()"},
    )
    batch = {
        "events": [event(1), hostile],
        "rationales": [
            {
                "event_id": "evt-s1-0001",
                "rationale": "cheapest, call 555-123-4567",
                "timestamp": "2026-01-10T12:00:05Z",
            }
        ],
    }
    r = post(client, token, batch)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "duplicates": 0, "rationales": 1}
    again = post(client, token, batch)
    assert again.json() == {"accepted": 0, "duplicates": 2, "rationales": 1}

    rows = store.events_of("s1")
    assert [r.event_id for r in rows] == ["evt-s1-0001", "evt-s1-0002"]
    stored = json.loads(rows[1].payload)
    html = stored["simplified_html"]
    for gone in ("script", "alert", "onclick", "javascript:", "555-123-4567", "4111", "a@b.co"):
        assert gone not in html, gone
    assert "[PHONE]" in html and 'value="[CARD]"' in html and 'name="x"' in html
    assert stored["input_text"] == "mail me at [EMAIL]"
    assert "jane.doe" not in stored["url"] and "step=2" in stored["url"]
    assert stored["element_meta"] == {"name": "email", "text": "[EMAIL]"}
    assert store.rationales_of("s1")[0].rationale == "cheapest, call [PHONE]"


def test_nothing_is_accepted_before_consent(client: TestClient, store: CaptureStore) -> None:
    token = enrol(client, consent=False)
    r = post(client, token, {"events": [event(1)]})
    assert r.status_code == 403 and "consent" in r.json()["error"]
    assert (
        client.get("/api/v1/config", headers={"authorization": f"Bearer {token}"}).status_code
        == 403
    )
    # the questionnaire redirects to consent until then
    assert client.get(f"/p/{token}/questionnaire").headers["location"].endswith("/consent")
    assert store.events_of("s1") == []


def test_tokens_sizes_json_and_fields_are_checked(client: TestClient, store: CaptureStore) -> None:
    token = enrol(client)
    assert post(client, "nope", {"events": []}).status_code == 401
    assert client.post("/api/v1/events", content="{}").status_code == 401
    study_token = post(client, "st-study-token-0001", {"events": [event(1)]})
    assert study_token.status_code == 403 and "study token" in study_token.json()["error"]
    assert client.get("/join/s1", params={"t": "wrong"}).status_code == 403

    bad = post(client, token, b'{"events": [')
    assert bad.status_code == 400 and bad.json()["error"] == "malformed JSON"

    big = post(client, token, {"events": [event(1, simplified_html="x" * 300_000)]})
    assert big.status_code == 413 and "200000" in big.json()["error"]

    wrong = post(
        client, token, {"events": [event(1), event(2, timestamp="yesterday", seq=-1, sneaky=1)]}
    )
    assert wrong.status_code == 422
    where = {p["location"] for p in wrong.json()["problems"]}
    assert where == {"events[1].timestamp", "events[1].seq", "events[1].sneaky"}

    offsite = post(client, token, {"events": [event(1), event(2, url="https://evil.example/x")]})
    assert offsite.status_code == 403
    assert [p["location"] for p in offsite.json()["problems"]] == ["events[1].url"]
    assert "evil.example" in offsite.json()["problems"][0]["problem"]
    assert store.events_of("s1") == []  # a refused batch stores nothing, not even its good part


def test_rate_limit_answers_429_with_retry_after(client: TestClient) -> None:
    token = enrol(client)
    codes = [post(client, token, {"events": [event(i)]}).status_code for i in range(10)]
    assert codes[:8] == [200] * 8  # the burst
    limited = post(client, token, {"events": [event(99)]})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    other = enrol(client)  # per participant: someone else is not limited
    assert post(client, other, {"events": [event(1)]}).status_code == 200


def test_withdrawal_deletes_everything_of_the_participant(
    client: TestClient, store: CaptureStore
) -> None:
    leaver, stayer = enrol(client), enrol(client)
    for token in (leaver, stayer):
        assert (
            post(
                client,
                token,
                {
                    "events": [event(1), event(2)],
                    "rationales": [
                        {
                            "event_id": "evt-s1-0001",
                            "rationale": "why",
                            "timestamp": "2026-01-10T12:00:00Z",
                        }
                    ],
                },
            ).status_code
            == 200
        )
    pid = store.participant(token=leaver)
    assert pid is not None
    before = store.rows_of(pid.participant_id)
    assert before["events"] == 2 and before["consents"] == 1 and before["rationales"] == 1
    r = client.delete("/api/v1/participant", headers={"authorization": f"Bearer {leaver}"})
    assert r.status_code == 200 and r.json()["deleted"]["events"] == 2
    assert store.rows_of(pid.participant_id) == {t: 0 for t in TABLES}
    assert post(client, leaver, {"events": [event(3)]}).status_code == 401
    assert len(store.events_of("s1")) == 2  # the other participant's events stay


def test_retention_purges_old_events_at_start_and_on_demand(
    store: CaptureStore, clock: Clock
) -> None:
    app = create_app(store, clock=clock)
    with TestClient(app, follow_redirects=False) as c:
        token = enrol(c)
        assert post(c, token, {"events": [event(1)]}).status_code == 200
        clock.now += timedelta(days=20)
        assert post(c, token, {"events": [event(2)]}).status_code == 200
    clock.now += timedelta(days=11)  # event 1 is 31 days old, event 2 is 11
    with TestClient(create_app(store, clock=clock)):
        pass  # start-up purges
    assert [r.event_id for r in store.events_of("s1")] == ["evt-s1-0002"]
    assert store.purge_expired(clock.now + timedelta(days=20)) == {"s1": 1}
    assert store.events_of("s1") == []


def test_questionnaire_page_stores_survey_and_raw_survey(
    client: TestClient, store: CaptureStore
) -> None:
    token = enrol(client)
    page = client.get(f"/p/{token}/questionnaire")
    assert page.status_code == 200 and 'name="bfi_reserved"' in page.text
    form = {
        "age": "25-34",
        "gender": "Woman",
        "education": "Master's degree",
        "income": "Prefer not to say",
        "self_description": "I cook; email me x@y.org",
        "online_frequency": "About once a week",
        "research": "I look at a few options",
    }
    likert = {
        "bfi_extraverted": "4",
        "bfi_reserved": "2",
        "bfi_critical": "1",
        "bfi_sympathetic": "5",
        "bfi_dependable": "4",
        "bfi_careless": "2",
        "bfi_anxious": "3",
        "bfi_calm": "3",
        "bfi_open": "5",
        "bfi_conventional": "1",
    }
    from urllib.parse import urlencode

    pairs = [
        *(form | likert).items(),
        ("categories", "Groceries"),
        ("categories", "Books and media"),
        ("priorities", "Price"),
    ]
    missing = client.post(
        f"/p/{token}/questionnaire",
        content=urlencode(pairs[1:]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert missing.status_code == 422 and "required" in missing.text
    r = client.post(
        f"/p/{token}/questionnaire",
        content=urlencode(pairs),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/done")
    who = store.participant(token=token)
    assert who is not None and who.survey is not None and who.raw_survey is not None
    assert who.survey["Demographics"]["What is your age?"] == "25-34"
    shopping = who.survey["Shopping preferences"]
    assert shopping["Which categories do you buy online?"] == ["Groceries", "Books and media"]
    personality = who.survey["Personality"]
    assert personality["Extraversion"] == 4.0  # (4 + (6 - 2)) / 2
    assert personality["Openness"] == 5.0 and personality["Neuroticism"] == 3.0
    assert who.raw_survey["bfi_reserved"] == "2"
    assert who.raw_survey["categories"] == ["Groceries", "Books and media"]
    assert "x@y.org" not in json.dumps(who.survey) + json.dumps(who.raw_survey)

    done = client.get(f"/p/{token}/done").text
    assert f'<meta name="behaviorlab-participant-token" content="{token}">' in done
    assert 'id="behaviorlab-server">http://testserver</code>' in done
    assert "postMessage" not in done  # the extension reads the meta tags only
    consents = store.consents_of(who.participant_id)
    assert len(consents) == 1 and SHOP in consents[0][0]


def test_questionnaire_api_names_each_bad_answer(client: TestClient) -> None:
    token = enrol(client)
    r = client.post(
        "/api/v1/questionnaire",
        headers={"authorization": f"Bearer {token}"},
        json={"answers": {"age": "12", "bfi_open": "9", "shoe_size": "42"}},
    )
    assert r.status_code == 422
    problems = {p["location"]: p["problem"] for p in r.json()["problems"]}
    assert "not one of the options" in problems["answers.age"]
    assert problems["answers.bfi_open"] == "9 is not from 1 to 5"
    assert problems["answers.shoe_size"] == "unknown question"
    assert problems["answers.gender"] == "required"


def test_a_chunked_body_over_the_limit_is_cut_off(client: TestClient, store: CaptureStore) -> None:
    token = enrol(client)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b'{"events": [{"simplified_html": "'
        for _ in range(30):
            yield b"x" * 10_000
        yield b'"}]}'

    r = client.post(
        "/api/v1/events", content=chunks(), headers={"authorization": f"Bearer {token}"}
    )
    assert r.status_code == 413 and "over the limit of 200000 bytes" in r.json()["error"]
    assert store.events_of("s1") == []
