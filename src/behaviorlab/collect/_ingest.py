"""The CPU work of one event batch and the bounded queue in front of it.

:func:`prepare_batch` parses, validates, checks hosts, cleans and masks a batch; it takes and
returns plain data (the body's bytes and the study's JSON in; rows, or a refusal, out), so it
runs in a worker process (``create_app(workers=N)``, ``collect serve --workers N``) as well as
in a thread of the server (``workers=0``). Either way the event loop only reads bodies and
answers: a 40 KB page costs milliseconds to clean, and a batch of them must not stall
``/healthz`` or other participants.

:class:`IngestQueue` admits at most ``capacity`` batches at once (read, prepared or being
stored); one more is refused with 503 and ``Retry-After`` (the extension backs off and
sends it again; nothing is lost).
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from behaviorlab.collect._events import EventBatch, FieldProblem, Rejection
from behaviorlab.collect._page_store import PageCache, PageRow, stored_page
from behaviorlab.collect._pii import PiiConfig, PiiMasker
from behaviorlab.collect._sanitize import clean_event, clean_html, clean_rationale
from behaviorlab.collect._study import Study
from behaviorlab.collect._urls import UnsafeUrl, page_host

MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and arrays accepted in a body (the models need about 6)."""
DEFAULT_QUEUE_SIZE = 64
"""Batches in progress at once before the server answers 503."""

EventRowIn = tuple[str, str, int, str, str, str]
RationaleRowIn = tuple[str, str, str]


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


def parse_json(data: bytes) -> Any:
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


def host_problems(study: Study, batch: EventBatch) -> list[FieldProblem]:
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


@dataclass(frozen=True)
class Prepared:
    """A batch ready to store: (event_id, session_id, seq, client_ts, action_type, payload)
    events and (event_id, rationale, client_ts) rationales, cleaned and masked."""

    events: list[EventRowIn]
    rationales: list[RationaleRowIn]
    pages: list[PageRow]
    """Each event's cleaned page, compressed, stored once per distinct page."""


@dataclass(frozen=True)
class Rejected:
    """A batch refused (status, error, problems): plain data, so it crosses processes."""

    status: int
    error: str
    problems: list[tuple[str, str]]

    def refusal(self) -> Refusal:
        found = [FieldProblem(location=where, problem=what) for where, what in self.problems]
        return Refusal(self.status, self.error, found)


@lru_cache(maxsize=64)
def _study(study_json: str) -> Study:
    return Study.model_validate_json(study_json)


@lru_cache(maxsize=16)
def _masker(pii_json: str) -> PiiMasker:
    """One masker per PII setting in this process (its cache of cleaned pages with it)."""
    return PiiMasker(PiiConfig.model_validate_json(pii_json))


PAGES = PageCache()
"""This process's stored pages by raw page and PII settings (see :class:`PageCache`)."""


def _stored(raw: str, masker: PiiMasker, pii_key: str) -> tuple[str, bytes, int]:
    # not kept in the masker's own cache too: PAGES holds the compressed form
    return PAGES.get_or_make(
        PAGES.key(pii_key, raw),
        lambda: stored_page(clean_html(raw, masker, remember=False), pii_key),
    )


def prepare_batch(body: bytes, study_json: str) -> Prepared | Rejected:
    """Parse, validate, check hosts, clean and mask one ``POST /api/v1/events`` body."""
    try:
        value = parse_json(body)
        try:
            batch = EventBatch.model_validate(value)
        except ValidationError as err:
            raise Refusal(422, "invalid event batch", problems_of(err)) from None
        study = _study(study_json)
        bad_hosts = host_problems(study, batch)
        if bad_hosts:
            raise Refusal(403, "events from hosts the study does not record", bad_hosts)
    except Refusal as refused:
        r = refused.rejection
        return Rejected(refused.status, r.error, [(p.location, p.problem) for p in r.problems])
    pii_key = study.pii.model_dump_json()
    masker = _masker(pii_key)
    events: list[EventRowIn] = []
    pages: list[PageRow] = []
    for event in batch.events:
        raw = event.simplified_html
        if raw is not None:
            event = event.model_copy(update={"simplified_html": None})
            pages.append((event.event_id, *_stored(raw, masker, pii_key)))
        clean = clean_event(event, masker)
        events.append(
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
        why = clean_rationale(item, masker)
        whys.append((why.event_id, why.rationale, why.timestamp.isoformat()))
    return Prepared(events=events, rationales=whys, pages=pages)


def _warm() -> int:
    return os.getpid()


PARENT_CHECK_S = 0.5
"""How often a worker process checks that the server that started it is still there."""


def _exit_with(parent: int) -> None:
    """In a worker process: exit once ``parent`` (the server) is gone. A server killed with
    ``kill -9`` cannot stop its workers, and they would wait for work for ever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class IngestQueue:
    """At most ``capacity`` batches in progress; :func:`prepare_batch` in ``workers``
    processes (0: in the server's threads). Used from the event loop only."""

    def __init__(self, capacity: int = DEFAULT_QUEUE_SIZE, workers: int = 0) -> None:
        if capacity < 1 or workers < 0:
            raise ValueError("the ingest queue needs capacity >= 1 and workers >= 0")
        self.capacity, self.workers = capacity, workers
        self.in_progress = 0
        self._pool: ProcessPoolExecutor | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one place for a batch; :class:`Refusal` 503 with ``Retry-After`` when full."""
        if self.in_progress >= self.capacity:
            raise Refusal(
                503,
                f"the server is busy ({self.in_progress} batches in progress); retry after 1 s",
                headers={"Retry-After": "1"},
            )
        self.in_progress += 1
        try:
            yield
        finally:
            self.in_progress -= 1

    async def start(self) -> None:
        """Start the worker processes (spawned: the server's threads are not forked)."""
        if self.workers and self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_exit_with, initargs=(os.getpid(),)
            )
            loop = asyncio.get_running_loop()
            warm = [loop.run_in_executor(self._pool, _warm) for _ in range(self.workers)]
            await asyncio.gather(*warm)

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (none without workers)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    async def prepare(self, body: bytes, study_json: str) -> Prepared | Rejected:
        if self._pool is None:
            return await run_in_threadpool(prepare_batch, body, study_json)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, prepare_batch, body, study_json)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
