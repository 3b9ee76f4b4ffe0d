"""The ingest server: ``create_app(store_url)`` → a FastAPI app (API of :mod:`._events`).

Checks run cheapest first, so a hostile client costs little: the bearer token (401 / 403),
consent (403), the participant's rate limit (429 with ``Retry-After``), the body size (413,
from ``Content-Length`` and again while reading), JSON (400), the models (422 naming every
field), the study's host allowlist (403 naming each event). Accepted events are cleaned
(:mod:`._sanitize`) and committed before the 200, in a transaction that first checks the
participant still exists (a withdrawal racing a batch leaves nothing behind). A background
task purges expired data every ``purge_interval_s`` (see :meth:`CaptureStore.purge_expired`);
another finishes withdrawals still pending (:meth:`CaptureStore.scrub`).
The enrolment pages are in :mod:`._pages`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from behaviorlab._ratelimit import TokenBucket
from behaviorlab.collect._events import (
    API_PREFIX,
    EventBatch,
    FieldProblem,
    IngestResult,
    ParticipantConfig,
    Rejection,
)
from behaviorlab.collect._guards import PageGuards
from behaviorlab.collect._pii import PiiMasker
from behaviorlab.collect._questionnaire import (
    AnswersError,
    Questionnaire,
    check_answers,
    load_questionnaire,
)
from behaviorlab.collect._sanitize import clean_event, clean_rationale
from behaviorlab.collect._store import (
    CaptureStore,
    ParticipantGone,
    StoreUnavailable,
    UnknownEvents,
    open_store,
)
from behaviorlab.collect._study import Clock, Participant, Study, utc_now
from behaviorlab.collect._urls import UnsafeUrl, page_host

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_PURGE_INTERVAL_S = 3600.0
DEFAULT_SCRUB_INTERVAL_S = 2.0
MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and arrays accepted in a body (the models need about 6)."""
_PARSE_IN_THREAD_BYTES = 64 * 1024
_PRUNE_EVERY = 256

log = logging.getLogger(__name__)


class RateLimit(BaseModel):
    """A token bucket per participant: ``burst`` requests at once, ``per_second`` after."""

    per_second: float = Field(default=20.0, gt=0)
    burst: int = Field(default=60, ge=1)


class Refusal(Exception):
    """A request refused with a status and a :class:`Rejection`."""

    def __init__(
        self,
        status: int,
        error: str,
        problems: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status, self.headers = status, headers or {}
        self.rejection = Rejection(error=error, problems=problems or [])
        super().__init__(error)


@dataclass
class ServerState:
    """What the routes share: the store, the clock, limits and per-study caches."""

    store: CaptureStore
    clock: Clock
    max_body_bytes: int
    rate: RateLimit
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    maskers: dict[str, PiiMasker] = field(default_factory=dict)
    monotonic: Callable[[], float] = time.monotonic
    takes: int = 0

    def masker(self, study: Study) -> PiiMasker:
        key = study.pii.model_dump_json()
        if key not in self.maskers:
            self.maskers[key] = PiiMasker(study.pii)
        return self.maskers[key]

    def questionnaire(self, study: Study) -> Questionnaire:
        if study.questionnaire is None:
            return load_questionnaire("default")
        return Questionnaire.model_validate(study.questionnaire)

    def take(self, participant_id: str) -> float:
        """0 when a request may go ahead, else the seconds until it may."""
        with self.lock:
            self.takes += 1
            if self.takes % _PRUNE_EVERY == 0:
                self._prune(self.monotonic())
            bucket = self.buckets.get(participant_id)
            if bucket is None:
                bucket = self.buckets[participant_id] = TokenBucket(
                    self.rate.per_second, self.rate.burst, self.monotonic
                )
            return bucket.take(1)

    def _prune(self, now: float) -> None:
        """Forget buckets that are full again (a new bucket is the same)."""
        idle = [pid for pid, b in self.buckets.items() if b.full_at() <= now]
        for pid in idle:
            del self.buckets[pid]

    def limit(self, participant_id: str) -> None:
        """Refuse with 429 and ``Retry-After`` when the participant is over their rate."""
        wait = self.take(participant_id)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise Refusal(
                429,
                f"rate limit: at most {self.rate.per_second:g} requests per second "
                f"(bursts of {self.rate.burst}); retry after {seconds} s",
                headers={"Retry-After": str(seconds)},
            )


def json_depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests objects / arrays at most ``limit`` deep (iteratively: a deep
    body must not exhaust the stack of whatever walks it later)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return True


class _NonFinite(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _NonFinite(f"{name} is not a number JSON allows; send finite numbers only")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # e.g. 1e400
        raise _NonFinite(f"{text} overflows a 64-bit float; send finite numbers only")
    return value


def _parse_json(data: bytes) -> Any:
    """``data`` as JSON; NaN, Infinity and numbers that overflow a float are refused (422)
    wherever they are: they would be acknowledged and then lost at export."""
    try:
        value = json.loads(data, parse_constant=_no_constant, parse_float=_finite_float)
    except _NonFinite as err:
        problem = FieldProblem(location="body", problem=str(err))
        raise Refusal(422, "non-finite number in the body", [problem]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        problem = FieldProblem(location="body", problem=str(err))
        raise Refusal(400, "malformed JSON", [problem]) from None
    except RecursionError:
        problem = FieldProblem(location="body", problem="nested too deeply")
        raise Refusal(400, "malformed JSON", [problem]) from None
    if not json_depth_ok(value):
        problem = FieldProblem(
            location="body", problem=f"objects and arrays nest deeper than {MAX_JSON_DEPTH}"
        )
        raise Refusal(400, "JSON nested too deeply", [problem])
    return value


def problems_of(err: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """pydantic errors as ``events[3].timestamp: <message>`` problems."""
    out = []
    for e in err.errors():
        where = prefix
        for part in e["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else part)
        out.append(FieldProblem(location=where or "body", problem=e["msg"]))
    return out


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(401, "missing credentials: send 'Authorization: Bearer <participant token>'")
    return token.strip()


async def participant_of(state: ServerState, request: Request) -> tuple[Participant, Study]:
    """The participant whose token the request carries; refused without consent."""
    token = bearer(request)
    found = await run_in_threadpool(state.store.participant, token=token)
    if found is None:
        if await run_in_threadpool(state.store.study_by_token, token):
            raise Refusal(
                403,
                "this is a study token; the capture API needs a participant token (enrol "
                "through the study's join link to get one)",
            )
        raise Refusal(401, "unknown token (a withdrawn participant's token no longer works)")
    if found.consented_at is None:
        raise Refusal(
            403, "consent not recorded: nothing is accepted before the participant consents"
        )
    study = await run_in_threadpool(state.store.get_study, found.study_id)
    if study is None:
        raise Refusal(401, f"study {found.study_id!r} no longer exists")
    return found, study


async def read_json(state: ServerState, request: Request) -> Any:
    """The body as JSON, refused over the byte limit before any parsing."""
    limit = state.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"body of {int(declared)} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    data = b"".join(chunks)
    if size <= _PARSE_IN_THREAD_BYTES:
        return _parse_json(data)
    return await run_in_threadpool(_parse_json, data)  # a big body must not block the loop


def _host_problems(study: Study, batch: EventBatch) -> list[FieldProblem]:
    problems = []
    allowed = ", ".join(study.allowed_hosts) or "none"
    for i, event in enumerate(batch.events):
        try:
            where = page_host(event.url)
        except UnsafeUrl as err:
            problem = f"{err}; the study records only its allowed hosts ({allowed})"
        else:
            if study.allows(where.host, where.port):
                continue
            problem = f"host {str(where)!r} is not in the study's allowed hosts ({allowed})"
        problems.append(FieldProblem(location=f"events[{i}].url", problem=problem))
    return problems


def _ingest(state: ServerState, who: Participant, study: Study, batch: EventBatch) -> IngestResult:
    masker = state.masker(study)
    rows = []
    for event in batch.events:
        clean = clean_event(event, masker)
        rows.append(
            (
                clean.event_id,
                clean.session_id,
                clean.seq,
                clean.timestamp.isoformat(),
                clean.action_type,
                clean.model_dump_json(),
            )
        )
    whys = []
    for item in batch.rationales:
        clean_why = clean_rationale(item, masker)
        whys.append((clean_why.event_id, clean_why.rationale, clean_why.timestamp.isoformat()))
    accepted, duplicates, stored = state.store.add_batch(who, rows, whys, state.clock())
    return IngestResult(accepted=accepted, duplicates=duplicates, rationales=stored)


async def _scrub_periodically(state: ServerState, interval_s: float) -> None:
    """Finish pending withdrawals: try to get their deleted rows off disk (each try waits
    at most ``SCRUB_BUSY_MS`` for readers, without the store's lock)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await run_in_threadpool(state.store.scrub)
        except Exception:  # retried next time
            log.warning("scrubbing withdrawn data off disk failed", exc_info=True)


async def _purge_periodically(state: ServerState, interval_s: float) -> None:
    """Enforce retention while the server runs (not only at start-up)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            purged = await run_in_threadpool(state.store.purge_expired, state.clock())
        except Exception:  # a failed purge is retried next time; the server goes on
            log.warning("retention purge failed", exc_info=True)
            continue
        if any(purged.values()):
            log.info("retention purge deleted %s", purged)


def create_app(
    store_url: str | Path | CaptureStore,
    *,
    clock: Clock | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    rate_limit: RateLimit | None = None,
    flush_interval_s: float = 2.0,
    purge_interval_s: float = DEFAULT_PURGE_INTERVAL_S,
    scrub_interval_s: float = DEFAULT_SCRUB_INTERVAL_S,
    join_rate_limit: RateLimit | None = None,
    api_docs: bool = False,
) -> FastAPI:
    """The ingest server over a store (a SQLite path, ``postgresql://...`` or a store).

    ``clock`` (default: UTC now) stamps receipts, consents and retention; expired data is
    purged at start-up and then every ``purge_interval_s`` seconds while the server runs; a
    withdrawal a reader kept from leaving the disk is retried every ``scrub_interval_s``.
    ``max_body_bytes`` caps a request body; ``rate_limit`` is per participant,
    ``join_rate_limit`` per client address on ``/join`` (default 1 a second, bursts of 30).
    ``api_docs`` serves ``/docs`` and ``/openapi.json`` (off by default).
    :class:`StoreUnavailable` when the store cannot take writes (read-only, full disk)."""
    store = store_url if isinstance(store_url, CaptureStore) else open_store(store_url)
    store.check_writable((clock or utc_now)())
    state = ServerState(
        store=store,
        clock=clock or utc_now,
        max_body_bytes=max_body_bytes,
        rate=rate_limit or RateLimit(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.purge_expired, state.clock())
        tasks = [
            asyncio.create_task(_purge_periodically(state, purge_interval_s)),
            asyncio.create_task(_scrub_periodically(state, scrub_interval_s)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            if not isinstance(store_url, CaptureStore):
                store.close()

    docs = {} if api_docs else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="behaviorlab ingest", lifespan=lifespan, **docs)  # type: ignore[arg-type]
    app.state.collect = state
    join = join_rate_limit or RateLimit(per_second=1.0, burst=30)
    app.add_middleware(
        PageGuards, state=state, join_per_second=join.per_second, join_burst=join.burst
    )

    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> Response:
        return JSONResponse(exc.rejection.model_dump(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(request: Request, exc: StoreUnavailable) -> Response:
        log.error("store unavailable: %s", exc.reason)
        rejection = Rejection(error=f"the server cannot store data now: {exc.reason}")
        return JSONResponse(rejection.model_dump(), status_code=503, headers={"Retry-After": "30"})

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.get(f"{API_PREFIX}/config")
    async def config(request: Request) -> ParticipantConfig:
        who, study = await participant_of(state, request)
        return ParticipantConfig(
            study_id=study.study_id,
            participant_id=who.participant_id,
            allowed_hosts=study.allowed_hosts,
            rationale_share=study.rationale_share,
            flush_interval_s=flush_interval_s,
            max_body_bytes=state.max_body_bytes,
        )

    @app.post(f"{API_PREFIX}/events")
    async def events(request: Request) -> IngestResult:
        who, study = await participant_of(state, request)
        state.limit(who.participant_id)
        body = await read_json(state, request)
        try:
            batch = EventBatch.model_validate(body)
        except ValidationError as err:
            raise Refusal(422, "invalid event batch", problems_of(err)) from None
        bad_hosts = _host_problems(study, batch)
        if bad_hosts:
            raise Refusal(403, "events from hosts the study does not record", bad_hosts)
        try:
            return await run_in_threadpool(_ingest, state, who, study, batch)
        except ParticipantGone:
            raise Refusal(401, "unknown token (the participant has withdrawn)") from None
        except UnknownEvents as err:
            problems = [
                FieldProblem(
                    location=f"rationales[{i}].event_id",
                    problem=f"no event {batch.rationales[i].event_id!r} of this participant "
                    "(send the event first, or in the same batch)",
                )
                for i in err.positions
            ]
            raise Refusal(422, "rationales for events never sent", problems) from None

    @app.post(f"{API_PREFIX}/questionnaire")
    async def questionnaire(request: Request) -> dict[str, Any]:
        who, study = await participant_of(state, request)
        state.limit(who.participant_id)
        body = await read_json(state, request)
        answers = body.get("answers") if isinstance(body, dict) else None
        if not isinstance(answers, dict):
            problem = FieldProblem(location="answers", problem="an object of answers is required")
            raise Refusal(422, "invalid questionnaire submission", [problem])
        try:
            survey, raw = check_answers(state.questionnaire(study), answers, state.masker(study))
        except AnswersError as err:
            raise Refusal(422, "invalid questionnaire answers", err.problems) from None
        await run_in_threadpool(
            state.store.save_survey, who.participant_id, survey, raw, state.clock()
        )
        return {"survey": survey}

    @app.delete(f"{API_PREFIX}/participant")
    async def withdraw(request: Request) -> dict[str, Any]:
        token = bearer(request)
        found = await run_in_threadpool(state.store.participant, token=token)
        if found is None:
            raise Refusal(401, "unknown token (already withdrawn?)")
        done = await run_in_threadpool(state.store.withdraw, found.participant_id)
        state.buckets.pop(found.participant_id, None)
        return {
            "withdrawn": found.participant_id,
            "deleted": done.deleted,
            "status": "done" if done.done else "pending",
            "receipt": done.receipt,
            "status_url": f"{API_PREFIX}/withdrawals/{done.receipt}",
        }

    @app.get(API_PREFIX + "/withdrawals/{receipt}")
    async def withdrawal_status(receipt: int) -> dict[str, Any]:
        done = await run_in_threadpool(state.store.scrub_done, receipt)
        return {"receipt": receipt, "status": "done" if done else "pending"}

    from behaviorlab.collect._pages import add_pages

    add_pages(app, state)
    return app
