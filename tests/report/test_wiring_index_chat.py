"""The viewer's index page links the chat, and the link leads to the chat page."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from behaviorlab.report._viewer import create_app


def test_the_index_links_the_chat(tmp_path: Path) -> None:
    # the chat answers only the viewer's own host names (a DNS-rebinding guard)
    client = TestClient(create_app(tmp_path / "runs"), base_url="http://127.0.0.1:8765")
    page = client.get("/")
    assert page.status_code == 200
    assert '<a href="/chat">talk to a twin</a>' in page.text
    assert '<a href="/rate">rate transcripts</a>' in page.text
    assert page.text.index('class="subtitle"') < page.text.index('href="/chat"')
    chat = client.get("/chat")
    assert chat.status_code == 200 and "<html" in chat.text.lower()
