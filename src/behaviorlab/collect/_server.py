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
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from behaviorlab._ratelimit import TokenBucket
from behaviorlab.collect._events import (
    API_PREFIX,
    FieldProblem,
    IngestResult,
    ParticipantConfig,
    Rejection,
)
from behaviorlab.collect._guards import PageGuards
from behaviorlab.collect._ingest import (
    DEFAULT_QUEUE_SIZE,
    IngestQueue,
    Prepared,
    Refusal,
    parse_json,
)
from behaviorlab.collect._pii import PiiMasker
from behaviorlab.collect._questionnaire import (
    AnswersError,
    Questionnaire,
    check_answers,
    load_questionnaire,
)
from behaviorlab.collect._store import (
    CaptureStore,
    ParticipantGone,
    StoreUnavailable,
    UnknownEvents,
    open_store,
)
from behaviorlab.collect._study import Clock, Participant, Study, utc_now

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_PURGE_INTERVAL_S = 3600.0
DEFAULT_SCRUB_INTERVAL_S = 2.0
_PARSE_IN_THREAD_BYTES = 64 * 1024
_PRUNE_EVERY = 256

log = logging.getLogger(__name__)


class RateLimit(BaseModel):
    """A token bucket per participant: ``burst`` requests at once, ``per_second`` after."""

    per_second: float = Field(default=20.0, gt=0)
    burst: int = Field(default=60, ge=1)


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
    queue: IngestQueue = field(default_factory=IngestQueue)
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


async def read_body(state: ServerState, request: Request) -> bytes:
    """The body, refused over the byte limit (413) before any parsing."""
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
    return b"".join(chunks)


async def read_json(state: ServerState, request: Request) -> Any:
    """The body as JSON (see :func:`._ingest.parse_json`)."""
    data = await read_body(state, request)
    if len(data) <= _PARSE_IN_THREAD_BYTES:
        return parse_json(data)
    return await run_in_threadpool(parse_json, data)  # a big body must not block the loop


def _store_batch(state: ServerState, who: Participant, batch: Prepared) -> IngestResult:
    accepted, duplicates, stored = state.store.add_batch(
        who, batch.events, batch.rationales, state.clock(), batch.pages
    )
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
    workers: int = 0,
    queue_size: int = DEFAULT_QUEUE_SIZE,
) -> FastAPI:
    """The ingest server over a store (a SQLite path, ``postgresql://...`` or a store).

    ``clock`` (default: UTC now) stamps receipts, consents and retention; expired data is
    purged at start-up and then every ``purge_interval_s`` seconds while the server runs; a
    withdrawal a reader kept from leaving the disk is retried every ``scrub_interval_s``.
    ``max_body_bytes`` caps a request body; ``rate_limit`` is per participant,
    ``join_rate_limit`` per client address on ``/join`` (default 1 a second, bursts of 30).
    ``api_docs`` serves ``/docs`` and ``/openapi.json`` (off by default). Batches are
    cleaned in ``workers`` processes (0: in the server's threads), at most ``queue_size``
    at once; one more is answered 503 with ``Retry-After``.
    :class:`StoreUnavailable` when the store cannot take writes (read-only, full disk)."""
    store = store_url if isinstance(store_url, CaptureStore) else open_store(store_url)
    store.check_writable((clock or utc_now)())
    state = ServerState(
        store=store,
        clock=clock or utc_now,
        max_body_bytes=max_body_bytes,
        rate=rate_limit or RateLimit(),
        queue=IngestQueue(queue_size, workers),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.purge_expired, state.clock())
        await state.queue.start()
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
            state.queue.close()
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
        with state.queue.slot():
            body = await read_body(state, request)
            prepared = await state.queue.prepare(body, study.model_dump_json())
            if not isinstance(prepared, Prepared):
                raise prepared.refusal()
            try:
                return await run_in_threadpool(_store_batch, state, who, prepared)
            except ParticipantGone:
                raise Refusal(401, "unknown token (the participant has withdrawn)") from None
            except UnknownEvents as err:
                problems = [
                    FieldProblem(
                        location=f"rationales[{i}].event_id",
                        problem=f"no event {prepared.rationales[i][0]!r} of this participant "
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
