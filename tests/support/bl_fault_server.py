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

and, as a hostile endpoint would:

* ``gzipbomb``: HTTP 200, ``Content-Encoding: gzip``, the bytes of ``bomb`` (see
  :func:`gzip_bomb`: about 1 MB that inflates to over 1 GB)
* ``huge``: HTTP 200 with a valid chat completion of ``huge_bytes`` bytes (its content all
  ``x``), streamed; ``huge500``: HTTP 500 with an HTML page of ``huge_bytes`` bytes, streamed
* ``long``: HTTP 200, a valid completion whose content is ``long_chars`` characters of text
* ``html200``: HTTP 200 with an HTML page; ``badutf8``: HTTP 200, JSON with invalid UTF-8
* ``dribble``: HTTP 200 with a valid completion sent one byte every ``dribble_s`` seconds
* ``raw``: HTTP 200 with the bytes of ``raw_body`` (malformed shapes, ``1e400``, ...)

``latency_s`` delays every answer (a fixed-latency fake endpoint for the benchmark). Imported
as ``import bl_fault_server`` (``tests/support`` is on pytest's ``pythonpath``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

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


def gzip_bomb(expanded: int, block: int = 1 << 20) -> bytes:
    """A valid gzip body that inflates to ``expanded`` zero bytes (a multiple of ``block``)
    from about a thousandth of that. Built in well under a second: the zeros of one block
    compress to the same bytes every time after a full flush, so one compressed block is
    repeated, and the trailer's CRC-32 and size are those of the whole."""
    zeros = bytes(block)
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush(zlib.Z_FINISH)[:-8]  # the last (empty) block, without the trailer
    n = expanded // block
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (n * block) & 0xFFFFFFFF)
    return first + again * (n - 1) + end + trailer


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
    bomb: bytes = b""
    huge_bytes: int = 200 * 10**6
    long_chars: int = 1_000_000
    dribble_s: float = 1.0
    raw_body: bytes = b""
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
        hostile = self._hostile(kind, request, chat=chat, n_prompt=len(key) // 4)
        if hostile is not None:
            return hostile
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

    def _hostile(
        self, kind: str, request: Request, *, chat: bool, n_prompt: int
    ) -> Response | None:
        """The answer of a hostile kind (None for the others)."""
        json_type = "application/json"
        if kind == "gzipbomb":
            headers = {"content-encoding": "gzip"}
            return Response(self.bomb, media_type=json_type, headers=headers)
        if kind == "huge":
            head, tail = b'{"choices": [{"message": {"content": "', b'"}}]}'
            filler = self.huge_bytes - len(head) - len(tail)
            body = _stream(request, head, b"x", filler, tail)
            return StreamingResponse(body, media_type=json_type)
        if kind == "huge500":
            head, tail = b"<html><body><h1>Internal Server Error</h1>\n", b"</body></html>"
            filler = self.huge_bytes - len(head) - len(tail)
            body = _stream(request, head, b"a ", filler, tail)
            return StreamingResponse(body, status_code=500, media_type="text/html")
        if kind == "long":
            text = ("lorem ipsum " * (self.long_chars // 12 + 1))[: self.long_chars]
            payload = json.dumps(_completion(text, chat=chat, n_prompt=n_prompt))
            return Response(payload, media_type=json_type)
        if kind == "html200":
            page = "<!doctype html><html><head><title>Sign in</title></head><body>Log in</body>"
            return Response(page, media_type="text/html")
        if kind == "badutf8":
            return Response(
                b'{"choices": [{"message": {"content": "caf\xe9 \xff\xfe"}}]}', media_type=json_type
            )
        if kind == "dribble":
            payload = json.dumps(_completion(self.reply, chat=chat, n_prompt=n_prompt)).encode()
            return StreamingResponse(_dribble(payload, self.dribble_s), media_type=json_type)
        if kind == "raw":
            return Response(self.raw_body, media_type=json_type)
        return None


async def _stream(
    request: Request, head: bytes, unit: bytes, size: int, tail: bytes
) -> AsyncIterator[bytes]:
    """``head``, ``size`` bytes of ``unit`` repeated, ``tail``: in 64 KiB pieces (one bytes
    object sent again and again, so the server holds no more than a piece); it stops when the
    client hangs up."""
    piece = unit * (65536 // len(unit))
    yield head
    sent = 0
    while sent + len(piece) <= size:
        if await request.is_disconnected():
            return
        yield piece
        sent += len(piece)
    yield (unit * (size - sent))[: size - sent] + tail


async def _dribble(payload: bytes, every_s: float) -> AsyncIterator[bytes]:
    for i in range(len(payload)):
        yield payload[i : i + 1]
        await asyncio.sleep(every_s)


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
