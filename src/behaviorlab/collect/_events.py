"""The wire contract between the browser extension and the ingest server.

Written first so the server, the extension and the demo shop can be built apart. Every
payload the extension sends is one of these models (JSON); the server validates it with them
and answers with :class:`IngestResult` or, on a 4xx, :class:`Rejection` naming each bad field.

Endpoints (all under the server's base URL, JSON bodies, ``Authorization: Bearer <token>``):

- ``GET  /api/v1/config``: the participant's :class:`ParticipantConfig` (participant token).
  Refused (403) before consent is recorded: nothing is captured before consent.
- ``POST /api/v1/events``: an :class:`EventBatch` (participant token). Idempotent by
  ``event_id``: a retried batch stores nothing twice and answers ``duplicates``.
- ``DELETE /api/v1/participant``: withdraw; deletes all the participant's data. Answers
  ``{"withdrawn", "deleted", "status", "receipt", "status_url"}``: ``status`` is ``"done"``
  once the deleted rows are off disk, ``"pending"`` while a reader of the store keeps them
  in its write-ahead log (the server retries; ``GET status_url`` says when it is done).
- ``GET  /api/v1/withdrawals/{receipt}``: ``{"receipt", "status"}`` of one withdrawal.
- ``POST /api/v1/questionnaire``: ``{"answers": {question_id: answer}}`` (participant token,
  after consent); the same validation as the questionnaire page.
- ``GET  /healthz``: ``{"ok": true}``.

Answers: 200 :class:`IngestResult`; 400 malformed JSON, 401 missing / unknown token, 403 a
study token where a participant token is needed, no consent yet, or an event whose URL host
is not in the study's allowlist (:class:`Rejection` naming ``events[i].url``), 413 a body over
the server's byte limit (checked before parsing), 422 a payload that fails these models
(every problem with its location; also a ``seq`` of 2^63 or more and a NaN or infinite
number anywhere in the body), 429 over the participant's rate limit (``Retry-After``
header, seconds), 503 the store cannot take writes now (disk full, read-only: a
:class:`Rejection` saying which; ``Retry-After``). A batch is stored whole or not at all.

Enrolment pages (HTML, same server): ``GET /join/{study_id}?t=<study token>`` issues a
pending participant and redirects to ``/p/{participant_token}/consent`` (the consent text;
``POST`` records the consent: what was shown and when), then ``/p/{token}/questionnaire``
(the persona questionnaire; ``POST`` stores it), then ``/p/{token}/done``. The done page
offers the participant token to the extension with
``<meta name="behaviorlab-participant-token" content="TOKEN">`` and
``<meta name="behaviorlab-server" content="BASE_URL">`` in its ``<head>`` (the extension takes
it only when the page's origin is the server the participant approved in its options page;
see docs/collect-extension.md), and shows ``<code id="behaviorlab-participant-token">TOKEN
</code>`` for a person to copy.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# OPeRA's click types: the extension's heuristics assign one to every click on a shop page.
from behaviorlab.data._opera_schema import CLICK_TYPES as CLICK_TYPES
from behaviorlab.data._opera_schema import ClickType

ActionType = Literal["click", "input", "scroll", "navigation", "tab_activate", "terminate"]
"""OPeRA's filtered version keeps click / input / terminate; the full version adds the rest."""


NavigationType = Literal["navigate", "reload", "back_forward", "prerender", "history", "hash"]
"""Page loads (the Navigation Timing types) and in-page history / hash changes."""

API_PREFIX = "/api/v1"
MAX_BATCH_EVENTS = 200
MAX_HTML_CHARS = 2_000_000
MAX_SEQ = 2**63 - 1
"""The largest ``seq`` (a signed 64-bit integer, as the stores keep it)."""


class Size(BaseModel):
    model_config = ConfigDict(extra="forbid")
    width: int = Field(ge=0)
    height: int = Field(ge=0)


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    x: float
    y: float


class ScrollDetail(BaseModel):
    """Where the page was scrolled to (pixels); nothing else is accepted."""

    model_config = ConfigDict(extra="forbid")
    x: float = Field(ge=-1e7, le=1e7)
    y: float = Field(ge=-1e7, le=1e7)
    delta_y: float = Field(default=0.0, ge=-1e7, le=1e7)
    page_height: int | None = Field(default=None, ge=0, le=10**8)
    viewport_height: int | None = Field(default=None, ge=0, le=10**6)


class CapturedEvent(BaseModel):
    """One action of a participant, as the extension saw it."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=8, max_length=64, description="Client UUID; idempotency key.")
    session_id: str = Field(min_length=1, max_length=128, description="Client browsing session.")
    seq: int = Field(ge=0, le=MAX_SEQ, description="Order of the event within its session.")
    timestamp: AwareDatetime = Field(description="Client clock, ISO 8601 with timezone.")
    action_type: ActionType
    click_type: ClickType | None = Field(
        default=None, description="One of CLICK_TYPES; clicks without one are 'other'."
    )
    semantic_id: str | None = Field(default=None, max_length=512)
    element_meta: dict[str, Any] = Field(
        default_factory=dict, description="name, data, tag, text of the target element."
    )
    url: str = Field(max_length=8192)
    window_size: Size | None = None
    mouse_position: Point | None = None
    simplified_html: str | None = Field(default=None, max_length=MAX_HTML_CHARS)
    input_text: str | None = Field(default=None, max_length=10_000)
    scroll_detail: ScrollDetail | None = None
    navigation_type: NavigationType | None = None
    page_meta: dict[str, Any] = Field(default_factory=dict)
    products: list[dict[str, Any]] | None = Field(
        default=None, description="Products on the page / in the cart: asin, title, price, ..."
    )

    @model_validator(mode="after")
    def _click_type_for_clicks_only(self) -> CapturedEvent:
        if self.action_type == "click" and self.click_type is None:
            self.click_type = "other"
        elif self.action_type != "click" and self.click_type is not None:
            raise ValueError(f"click_type is only for clicks, not for a {self.action_type!r}")
        if self.action_type != "scroll" and self.scroll_detail is not None:
            raise ValueError(f"scroll_detail is only for scrolls, not for a {self.action_type!r}")
        return self


class RationaleEvent(BaseModel):
    """A just-in-time rationale the participant typed for one of their actions."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=8, max_length=64, description="The action it explains.")
    rationale: str = Field(max_length=5_000)
    timestamp: AwareDatetime


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[CapturedEvent] = Field(default_factory=list, max_length=MAX_BATCH_EVENTS)
    rationales: list[RationaleEvent] = Field(default_factory=list, max_length=MAX_BATCH_EVENTS)


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    rationales: int


class FieldProblem(BaseModel):
    location: str = Field(description="Where in the payload, e.g. 'events[3].timestamp'.")
    problem: str


class Rejection(BaseModel):
    error: str
    problems: list[FieldProblem] = Field(default_factory=list)


class ParticipantConfig(BaseModel):
    """What the extension needs to know to record for one participant."""

    study_id: str
    participant_id: str
    allowed_hosts: list[str] = Field(description="Record only on these hosts (host[:port]).")
    rationale_share: float = Field(ge=0, le=1, description="Share of actions asked why.")
    flush_interval_s: float = 2.0
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024, description="The largest request body the server accepts."
    )
