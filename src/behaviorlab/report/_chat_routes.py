"""The viewer's chat pages and JSON API (mounted by :func:`behaviorlab.report._viewer.create_app`).

Pages: ``/chat`` (start a conversation: a source, a person, a model; the stored
conversations) and ``/chat/ID`` (the conversation, to go on with). JSON: ``GET
/api/chat/sources``, ``GET /api/chat/people?source=&q=&options=``, ``GET
/api/chat/backends``, ``GET|POST /api/chat``, ``GET /api/chat/ID``, ``POST
/api/chat/ID/messages``, ``GET /api/chat/ID/episode`` (the conversation as an Episode) and
``GET /api/chat/dataset`` (every conversation, as one Dataset); for dialogues (a role taken
in a multi-party trial, :mod:`behaviorlab.report._chat_dialogue`) ``GET /api/chat/tasks``
and ``GET /api/chat/roles?task=&options=``.

Every request must name the viewer in its ``Host`` header (``localhost``, ``127.0.0.1`` or
``[::1]`` when the viewer listens on loopback; the given host otherwise): a page of another
site that rebinds its own name to 127.0.0.1 is refused (400). A POST must be
``application/json`` (anything else is refused with 415) and, when it carries an ``Origin``,
come from the viewer's own origin (403). The content type alone stops no one: a page of
another origin can send a JSON body with ``fetch(..., {mode: "no-cors"})`` as
``text/plain``, and with a rebound name it is not even cross-origin; the Host and Origin
checks are what refuse it. Every string is escaped where it is shown (the templates
autoescape; the page's script only sets ``textContent``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from behaviorlab.models import backends
from behaviorlab.report._chat import (
    PEOPLE_LIMIT,
    ChatRequestError,
    ChatService,
    Say,
    StartChat,
    check_start,
    refuse_secrets,
)
from behaviorlab.report._chat_dialogue import Dialogues, close_task, make_task, multi_party_tasks
from behaviorlab.report._chat_store import ChatError
from behaviorlab.report._html import render_page

CHAT_ID = re.compile(r"^[0-9a-f]{16}$")


def require_json(request: Request) -> None:
    """Refuse a POST whose body is not declared JSON (forms, text/plain: what another
    origin's page can send without asking)."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(
            status_code=415,
            detail=f"send the body as application/json, not {kind or 'no content type'}",
        )


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def allowed_hosts(host: str) -> frozenset[str]:
    """The ``Host`` names the viewer answers to when it listens on ``host``."""
    from behaviorlab.report._hosts import is_loopback

    bare = host.strip("[]")
    if is_loopback(bare):
        return frozenset(LOOPBACK_HOSTS)
    if bare in ("0.0.0.0", "::", ""):  # every interface: this machine's names
        import socket

        names = {socket.gethostname().lower(), socket.getfqdn().lower()}
        return frozenset({*names, *LOOPBACK_HOSTS})
    return frozenset({f"[{bare}]" if ":" in bare else bare.lower(), *LOOPBACK_HOSTS})


def host_name(header: str) -> str:
    """``header`` (a Host or an origin's netloc) without its port, lower-cased."""
    header = header.strip().lower()
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.split(":", 1)[0]


def guard(hosts: frozenset[str]) -> Any:
    """A dependency refusing a request for another host name (DNS rebinding) and a POST from
    another origin."""

    def check(request: Request) -> None:
        host = request.headers.get("host", "")
        if host_name(host) not in hosts:
            raise HTTPException(
                status_code=400,
                detail=f"this viewer answers to {', '.join(sorted(hosts))}, not the host "
                f"{host!r}: open it at http://127.0.0.1:PORT/chat",
            )
        origin = request.headers.get("origin")
        if request.method == "POST" and origin is not None:
            own = f"{request.url.scheme}://{host}".lower()
            if origin.lower() != own:
                raise HTTPException(
                    status_code=403,
                    detail=f"a POST from {origin!r} is refused: only the viewer's own pages "
                    f"({own}) may write",
                )

    return check


def _problem(exc: ChatError) -> JSONResponse:
    status = exc.status if isinstance(exc, ChatRequestError) else 404
    return JSONResponse({"detail": str(exc)}, status_code=status)


def _checked(chat_id: str) -> str:
    if not CHAT_ID.match(chat_id):
        raise ChatRequestError(
            f"{chat_id!r} is not a conversation id (16 hex digits; the list is at /chat)", 404
        )
    return chat_id


def _options(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ChatRequestError(f"options must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ChatRequestError('options must be a JSON object, e.g. {"path": "data/"}')
    return value


def chat_router(service: ChatService, dialogues: Dialogues, host: str = "127.0.0.1") -> APIRouter:
    """The chat's routes over ``service`` (and its ``dialogues``), for a viewer listening on
    ``host``."""
    router = APIRouter(dependencies=[Depends(guard(allowed_hosts(host)))])
    json_only = [Depends(require_json)]

    def backend_names() -> list[dict[str, str]]:
        return [{"name": e.name, "description": e.description} for e in backends.entries()]

    def page(**context: Any) -> HTMLResponse:
        context.setdefault("message", "")
        status = int(context.pop("status", 200))
        html = render_page("chat.html.j2", title="behaviorlab chat", **context)
        return HTMLResponse(html, status_code=status)

    @router.get("/chat", response_class=HTMLResponse)
    def chat_index() -> HTMLResponse:
        sources = [s.__dict__ for s in service.sources()]
        return page(
            mode="index",
            subtitle=f"talk to a twin · conversations in {service.store.path}",
            sources=sources,
            backends=backend_names(),
            tasks=multi_party_tasks(),
            chats=[c.model_dump() for c in service.store.chats()],
            data={"sources": sources, "limit": PEOPLE_LIMIT},
        )

    @router.get("/chat/{chat_id}", response_class=HTMLResponse)
    async def chat_page(chat_id: str) -> HTMLResponse:
        try:
            info = service.store.get(_checked(chat_id))
            waiting = await dialogues.state(info) if info.kind == "dialogue" else None
        except ChatError as exc:
            return page(mode="missing", subtitle="", message=str(exc), status=404, data={})
        info = service.store.get(chat_id)
        phase = dialogues.phase(info, waiting) if info.kind == "dialogue" else None
        messages = [m.model_dump() for m in service.store.messages(chat_id)]
        what = (
            f"{info.meta.get('role')} in {info.meta.get('task')}"
            if info.kind == "dialogue"
            else "twin"
        )
        return page(
            mode="chat",
            subtitle=f"{info.person_id} from {info.source} · {what} · {info.backend}",
            chat=info.model_dump(),
            messages=messages,
            waiting=waiting,
            data={"chat_id": chat_id, "kind": info.kind, "waiting": waiting, "phase": phase},
        )

    @router.get("/api/chat/sources")
    def api_sources() -> list[dict[str, str]]:
        return [s.__dict__ for s in service.sources()]

    @router.get("/api/chat/backends")
    def api_backends() -> list[dict[str, str]]:
        return backend_names()

    @router.get("/api/chat/people")
    def api_people(
        source: str, q: str = "", options: str = "", limit: int = PEOPLE_LIMIT
    ) -> JSONResponse:
        try:
            asked = refuse_secrets(_options(options), "source options")
            found = service.people(source, asked, q, max(1, min(limit, PEOPLE_LIMIT)))
        except ChatError as exc:
            return _problem(exc)
        return JSONResponse(found)

    @router.get("/api/chat")
    def api_chats() -> list[dict[str, Any]]:
        return [c.model_dump(mode="json") for c in service.store.chats()]

    @router.get("/api/chat/dataset")
    def api_dataset() -> JSONResponse:
        return JSONResponse(service.store.dataset().model_dump(mode="json"))

    @router.get("/api/chat/tasks")
    def api_tasks() -> list[dict[str, str]]:
        return multi_party_tasks()

    @router.get("/api/chat/roles")
    async def api_roles(task: str, options: str = "") -> JSONResponse:
        try:
            asked = refuse_secrets(_options(options), "task options")
            made = await run_in_threadpool(make_task, task, asked)
        except ChatError as exc:
            return _problem(exc)
        try:
            return JSONResponse({"task": task, "roles": [str(r) for r in made.roles]})
        finally:
            await close_task(made)

    @router.post("/api/chat", dependencies=json_only, status_code=201)
    async def api_start(body: StartChat) -> JSONResponse:
        try:
            check_start(body)
            if body.task:
                info = await dialogues.begin(body)
            else:
                info = await run_in_threadpool(service.start, body)
        except ChatError as exc:
            return _problem(exc)
        payload = info.model_dump(mode="json")
        return JSONResponse({**payload, "url": f"/chat/{info.chat_id}"}, status_code=201)

    @router.get("/api/chat/{chat_id}")
    async def api_chat(chat_id: str) -> JSONResponse:
        try:
            info = service.store.get(_checked(chat_id))
            waiting = await dialogues.state(info) if info.kind == "dialogue" else None
        except ChatError as exc:
            return _problem(exc)
        info = service.store.get(chat_id)
        messages = [m.model_dump(mode="json") for m in service.store.messages(chat_id)]
        phase = dialogues.phase(info, waiting) if info.kind == "dialogue" else None
        return JSONResponse(
            {
                "chat": info.model_dump(mode="json"),
                "messages": messages,
                "waiting": waiting,
                "phase": phase,
            }
        )

    @router.post("/api/chat/{chat_id}/messages", dependencies=json_only)
    async def api_say(chat_id: str, body: Say) -> JSONResponse:
        try:
            info = service.store.get(_checked(chat_id))
            if info.kind == "dialogue":
                before = info.turns
                info = await dialogues.reply(chat_id, body.text, body.turn)
                added = service.store.messages(chat_id)[before:]
                waiting = await dialogues.state(info)
                phase = dialogues.phase(info, waiting)
            else:
                info, added = await service.say(chat_id, body.text)
                waiting, phase = None, None
        except ChatError as exc:
            return _problem(exc)
        return JSONResponse(
            {
                "chat": info.model_dump(mode="json"),
                "messages": [m.model_dump(mode="json") for m in added],
                "waiting": waiting,
                "phase": phase,
            }
        )

    @router.get("/api/chat/{chat_id}/episode")
    def api_episode(chat_id: str) -> JSONResponse:
        try:
            episode = service.store.episode(_checked(chat_id))
        except ChatError as exc:
            return _problem(exc)
        return JSONResponse(episode.model_dump(mode="json"))

    return router
