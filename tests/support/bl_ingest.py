"""Helpers shared by the ingest server's tests: a settable clock, a valid event, enrolment
through the consent page, and posting a batch (``import bl_ingest``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

SHOP = "127.0.0.1:8123"
STUDY_TOKEN = "st-study-token-0001"
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


class Clock:
    """The server's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def event(i: int, *, session: str = "s1", **extra: Any) -> dict[str, Any]:
    """A valid click event of ``session`` (fields overridden by ``extra``)."""
    base: dict[str, Any] = {
        "event_id": f"evt-{session}-{i:04d}",
        "session_id": session,
        "seq": i,
        "timestamp": f"2026-01-10T12:00:{i % 60:02d}.000Z",
        "action_type": "click",
        "click_type": "product_link",
        "semantic_id": f"search_results.product_{i}.title",
        "url": f"http://{SHOP}/search?q=shoes",
        "simplified_html": f'<body><a name="search_results.product_{i}.title">P</a></body>',
    }
    return base | extra


def enrol(client: TestClient, *, consent: bool = True) -> str:
    """Join study ``s1`` by its link and (unless ``consent=False``) agree on the consent page
    it showed; the participant token."""
    r = client.get("/join/s1", params={"t": STUDY_TOKEN})
    assert r.status_code == 303
    token = r.headers["location"].split("/")[2]
    if consent:
        page = client.get(f"/p/{token}/consent")
        assert "Recorded sites" in page.text and SHOP in page.text
        shown = re.search(r'name="shown_at" value="([^"]+)"', page.text)
        assert shown
        r = client.post(
            f"/p/{token}/consent",
            content=f"agree=yes&shown_at={shown[1]}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 303 and r.headers["location"].endswith("/questionnaire")
    return token


def post(client: TestClient, token: str, body: Any) -> Any:
    """POST a batch (a dict is sent as JSON; bytes or str as they are)."""
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(
        "/api/v1/events",
        content=data,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
