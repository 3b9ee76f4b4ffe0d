"""A fake OpenAI-compatible server on loopback that misbehaves on a script (tests, benchmark).

Each request is keyed by its prompt (the last message's content, or the prompt text); the
script maps (key, attempt number for that key) to a behaviour:

* ``ok``: a chat or text completion whose content is ``reply`` (default ``{"answer": "A"}``)
* ``429``: HTTP 429 with ``Retry-After``; ``500``: HTTP 500; ``400``: HTTP 400
* ``stall``: no answer for ``stall_s`` seconds (beyond the client's timeout)
* ``malformed``: HTTP 200 with a body that is not JSON
* ``truncated``: HTTP 200 whose body ends before its declared Content-Length
* ``format500``: HTTP 500 naming ``response_format`` for OpenAI's ``json_schema`` form (what
  llama_cpp.server does), else ``ok``

``latency_s`` delays every answer (a fixed-latency fake endpoint for the benchmark). Imported
as ``import bl_fault_server`` (``tests/support`` is on pytest's ``pythonpath``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

Script = Callable[[str, int], str]

KINDS = ("ok", "429", "500x2", "stall", "malformed", "truncated", "500")
"""Fault classes of :func:`by_hash`; the last three never succeed."""


def fault_class(key: str) -> str:
    return KINDS[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(KINDS)]


def by_hash(key: str, attempt: int) -> str:
    """Each prompt gets a fault class from its hash: transient faults clear after one or two
    attempts, permanent ones never do."""
    kind = fault_class(key)
    if kind == "429":
        return "429" if attempt == 1 else "ok"
    if kind == "500x2":
        return "500" if attempt <= 2 else "ok"
    if kind == "stall":
        return "stall" if attempt == 1 else "ok"
    return kind


def always_ok(key: str, attempt: int) -> str:
    return "ok"


@dataclass
class FaultServer:
    script: Script = always_ok
    reply: str = '{"answer": "A"}'
    stall_s: float = 5.0
    latency_s: float = 0.0
    retry_after: str = "0.05"
    attempts: Counter[str] = field(default_factory=Counter)
    served: list[tuple[str, int, str]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    respond: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Builds the JSON of an ``ok`` answer from the request body (default: ``reply``)."""
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            return await self._answer(request, chat=True)

        @app.post("/v1/completions")
        async def completions(request: Request) -> Response:
            return await self._answer(request, chat=False)

        return app

    async def _answer(self, request: Request, *, chat: bool) -> Response:
        body = await request.json()
        self.bodies.append(body)
        key = str(body["messages"][-1]["content"]) if chat else str(body["prompt"])
        self.attempts[key] += 1
        attempt = self.attempts[key]
        kind = self.script(key, attempt)
        if kind == "format500":
            form = (body.get("response_format") or {}).get("type")
            kind = "format" if form == "json_schema" else "ok"
        self.served.append((key, attempt, kind))
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if kind == "429":
            return JSONResponse(
                {"error": {"message": "rate limited"}},
                status_code=429,
                headers={"Retry-After": self.retry_after},
            )
        if kind == "400":
            return JSONResponse({"error": {"message": "bad model name"}}, status_code=400)
        if kind == "500":
            return JSONResponse({"error": {"message": "internal error"}}, status_code=500)
        if kind == "format":
            return JSONResponse(
                {"error": {"message": "Input should be 'text' or 'json_object' (response_format)"}},
                status_code=500,
            )
        if kind == "stall":
            await asyncio.sleep(self.stall_s)
        if kind == "malformed":
            return Response(b'{"choices": [ this is not json', media_type="application/json")
        if self.respond is not None:
            payload = json.dumps(self.respond(body))
        else:
            payload = json.dumps(_completion(self.reply, chat=chat, n_prompt=len(key) // 4))
        if kind == "truncated":
            return Response(
                payload.encode()[:20],
                media_type="application/json",
                headers={"content-length": str(len(payload))},
            )
        return Response(payload, media_type="application/json")


def _completion(text: str, *, chat: bool, n_prompt: int) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None}
    if chat:
        choice["message"] = {"role": "assistant", "content": text}
    else:
        choice["text"] = text
    return {
        "id": "fake-1",
        "object": "chat.completion" if chat else "text_completion",
        "model": "fake-model",
        "choices": [choice],
        "usage": {
            "prompt_tokens": n_prompt,
            "completion_tokens": 5,
            "total_tokens": n_prompt + 5,
        },
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(server: FaultServer) -> Iterator[FaultServer]:
    """Run ``server`` in a thread on a free loopback port; stop it on exit."""
    server.port = free_port()
    config = uvicorn.Config(
        server.app(),
        host="127.0.0.1",
        port=server.port,
        log_level="critical",
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    userver = uvicorn.Server(config)
    thread = threading.Thread(target=userver.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not userver.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fault server did not start")
        time.sleep(0.01)
    try:
        yield server
    finally:
        userver.should_exit = True
        thread.join(timeout=10)
