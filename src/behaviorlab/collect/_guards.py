"""Guards in front of the enrolment pages (``/join/...`` and ``/p/{token}/...``), as one
ASGI middleware so the events API pays nothing for them:

- every page under them is sent with ``Cache-Control: no-store`` (the done page shows the
  participant token), ``Referrer-Policy: same-origin`` (the token is in the URL; no other
  site gets it, while the forms' own posts keep their ``Origin``, which ``no-referrer``
  would turn into ``null``) and
  ``frame-ancestors 'none'`` / ``X-Frame-Options: DENY`` (no clickjacking of the forms);
- a form post from another site is refused (403): ``Sec-Fetch-Site`` and ``Origin`` must
  say the server's own;
- ``/join`` is rate limited per client address (429 with ``Retry-After``);
- ``/join/{study}`` answers an unknown study exactly as a known study with a wrong token
  (403), so study ids cannot be probed;
- the time the consent page was served is recorded, so the consent stores the server's
  ``shown_at``, not one the client sent.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from behaviorlab._ratelimit import TokenBucket

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE_HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "same-origin",
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
}
_CONSENT = re.compile(r"/p/([^/]+)/consent")
_JOIN = re.compile(r"/join/([^/]+)")
_MAX_BUCKETS = 10_000


def _origin_of(scope: Scope, headers: dict[str, str]) -> str:
    return f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()


def _cross_site(scope: Scope, headers: dict[str, str]) -> bool:
    """Whether a browser says a request comes from another site: ``Sec-Fetch-Site`` (set by
    the browser, not the page) other than same-origin, or an ``Origin`` not the server's own
    (``null``, which browsers send for sandboxed frames and some redirects, only counts as
    own when ``Sec-Fetch-Site`` says same-origin). Without either header (not a browser) the
    request is allowed."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    if origin == "null":
        return site != "same-origin"
    return origin.lower() != _origin_of(scope, headers)


def _page(title: str, text: str, status: int, extra: dict[str, str] | None = None) -> Response:
    from behaviorlab.collect._pages import render

    page = render("collect_message.html", status, title=title, text=text)
    page.headers.update(extra or {})
    return page


class PageGuards:
    """The guards above over ``app`` (``state``: the server's ServerState)."""

    def __init__(
        self,
        app: App,
        state: Any,
        *,
        join_per_second: float,
        join_burst: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app, self.state = app, state
        self.join_per_second, self.join_burst = join_per_second, join_burst
        self.monotonic = monotonic
        self.buckets: dict[str, TokenBucket] = {}
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(("/p/", "/join/")):
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope, path)
        if refusal is not None:
            refusal.headers.update(PAGE_HEADERS)
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [
                    (k, v) for k, v in message.get("headers", []) if k.decode() not in PAGE_HEADERS
                ]
                raw += [(k.encode(), v.encode()) for k, v in PAGE_HEADERS.items()]
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refusal(self, scope: Scope, path: str) -> Response | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        if method == "POST" and _cross_site(scope, headers):
            return _page(
                "Refused",
                "This form was sent from another site; open the study's own page to continue.",
                403,
            )
        join = _JOIN.fullmatch(path)
        if join is not None:
            wait = self._take(scope)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                return _page(
                    "Too many requests",
                    f"Too many join requests from your address; try again in {seconds} s.",
                    429,
                    {"Retry-After": str(seconds)},
                )
            if method == "GET" and not await self._valid_join(join[1], scope):
                return _page(
                    "Invalid link",
                    "This join link is not valid; ask the study for its link.",
                    403,
                )
        consent = _CONSENT.fullmatch(path)
        if consent is not None and method == "GET":
            store, now = self.state.store, self.state.clock()
            await run_in_threadpool(store.consent_shown, consent[1], now)
        return None

    async def _valid_join(self, study_id: str, scope: Scope) -> bool:
        token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("t", [""])[0]
        study = await run_in_threadpool(self.state.store.get_study, study_id)
        expected = study.token if study is not None else "st-" + secrets.token_urlsafe(24)
        return secrets.compare_digest(token.encode(), expected.encode()) and study is not None

    def _take(self, scope: Scope) -> float:
        client = scope.get("client")
        who = str(client[0]) if client else "unknown"
        with self.lock:
            if len(self.buckets) > _MAX_BUCKETS:
                now = self.monotonic()
                for key in [k for k, b in self.buckets.items() if b.full_at() <= now]:
                    del self.buckets[key]
            bucket = self.buckets.get(who)
            if bucket is None:
                bucket = self.buckets[who] = TokenBucket(
                    self.join_per_second, self.join_burst, self.monotonic
                )
            return bucket.take(1)
