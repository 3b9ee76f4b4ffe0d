"""Reading an HTTP response body within bounds, whatever the server sends.

* **A cap on the decompressed size.** httpx's own decoders inflate each received chunk whole:
  one 64 KiB piece of a gzip bomb becomes about 64 MB at once, and other codings expand far
  more. :class:`BodyReader` therefore reads the raw bytes and inflates them itself with zlib's
  ``max_length``, at most :data:`STEP` bytes at a time, and stops as soon as the decompressed
  size (or the raw size) passes its limit: memory stays under the limit plus one step, whatever
  the compression ratio. Only ``gzip`` and ``deflate`` are asked for (:data:`ACCEPT_ENCODING`)
  and decoded; a body in another coding is reported, not decoded.
* **A head, not the whole.** The limit is the caller's: the whole answer of a successful call
  (:data:`DEFAULT_MAX_RESPONSE_BYTES`), the first :data:`ERROR_HEAD_BYTES` of an error page.
  :class:`Body` says whether it holds the whole body and how many bytes came over the wire.
* **Excerpts of heads.** :meth:`Body.excerpt` collapses whitespace in the first few KiB only,
  so an error message never walks a huge body.

Nothing here sets a time limit: the caller wraps the whole exchange in its deadline.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

ACCEPT_ENCODING = "gzip, deflate"
"""What the backend asks for: the codings :class:`BodyReader` inflates within bounds."""

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""The default cap on a successful response (decompressed): 16 MiB, hundreds of times what a
chat completion or an echo of a long prompt with log-probabilities takes."""

ERROR_HEAD_BYTES = 64 * 1024
"""How much of an error response is read: enough for any error message a server writes."""

STEP = 64 * 1024
"""The most bytes one inflate step produces."""

_EXCERPT_SOURCE = 4096
"""Bytes of the head an excerpt is made from."""


@dataclass(frozen=True)
class Body:
    """What was read of a response body."""

    status: int
    content: bytes
    """The decompressed body, or its first ``limit`` bytes when ``complete`` is false."""
    complete: bool
    """Whether ``content`` is the whole body (false: the body went past the reader's limit)."""
    raw_bytes: int
    """Bytes received on the wire (before decompression) when reading stopped."""
    encoding: str = ""
    """The response's Content-Encoding ("" for none)."""
    problem: str | None = None
    """Why the body could not be decoded (corrupt or truncated compressed data, an unknown
    coding); ``content`` then holds what was decoded before."""

    def head_text(self, limit: int = ERROR_HEAD_BYTES) -> str:
        """The first ``limit`` bytes as text (invalid UTF-8 replaced)."""
        return self.content[:limit].decode("utf-8", errors="replace")

    def excerpt(self, chars: int = 300) -> str:
        """The start of the body on one line, for error messages."""
        if self.problem is not None and not self.content:
            return f"({self.problem})"
        return " ".join(self.head_text(_EXCERPT_SOURCE).split())[:chars]


class _Inflater:
    """Undoes one content coding (``gzip`` or ``deflate``) in steps of at most :data:`STEP`
    bytes. Data after the end of the (first) compressed stream is ignored, as httpx does."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        # gzip: the gzip wrapper; deflate: the zlib wrapper, else (see feed) raw deflate
        self._wbits = zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decompressed pieces of ``data`` (lazily: a caller that stops early stops the
        work too)."""
        more = True
        while (data or more) and not self._inflate.eof:
            out = self._step(data)
            more = len(out) == STEP  # a full step: zlib may hold more output for this input
            data = self._inflate.unconsumed_tail
            if out:
                yield out

    def _step(self, data: bytes) -> bytes:
        first = not self._started and bool(data)
        self._started = self._started or bool(data)
        try:
            return self._inflate.decompress(data, STEP)
        except zlib.error as e:
            if first and self.coding == "deflate":  # some servers send raw deflate data
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._step(data)
            raise _Corrupt(f"the {self.coding} data is corrupt ({e})") from e

    def finish(self) -> None:
        """Raise if the compressed stream ended before its end marker."""
        if not self._inflate.eof:
            raise _Corrupt(f"the {self.coding} data ends before its end (truncated)")


class _Corrupt(Exception):
    pass


def _inflaters(content_encoding: str) -> list[_Inflater]:
    """The decoders of a Content-Encoding header, in decoding order (the last coding applied
    is undone first). Raises :class:`_Corrupt` for a coding it does not decode."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    chain: list[_Inflater] = []
    for coding in reversed([c for c in codings if c and c != "identity"]):
        if coding in ("gzip", "x-gzip"):
            chain.append(_Inflater("gzip"))
        elif coding == "deflate":
            chain.append(_Inflater("deflate"))
        else:
            raise _Corrupt(
                f"the body is in Content-Encoding {coding!r}, which behaviorlab does not decode "
                f"(it asks for {ACCEPT_ENCODING})"
            )
    return chain


def _through(chain: Sequence[_Inflater], data: bytes) -> Iterator[bytes]:
    if not chain:
        if data:
            yield data
        return
    for piece in chain[0].feed(data):
        yield from _through(chain[1:], piece)


class BodyReader:
    """Reads one response body up to ``limit`` decompressed bytes (see the module docstring).

    Its counters stay readable while a read is under way, so a caller whose deadline cut the
    read can say how far it got."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a body limit must be positive, not {limit}")
        self.limit = limit
        self.status: int | None = None
        self.raw_bytes = 0
        self.size = 0

    async def read(self, response: httpx.Response) -> Body:
        self.status = response.status_code
        encoding = response.headers.get("content-encoding", "")
        pieces: list[bytes] = []

        def body(complete: bool, problem: str | None = None) -> Body:
            return Body(
                status=response.status_code,
                content=b"".join(pieces),
                complete=complete,
                raw_bytes=self.raw_bytes,
                encoding=encoding,
                problem=problem,
            )

        try:
            chain = _inflaters(encoding)
            async for raw in response.aiter_raw():
                self.raw_bytes += len(raw)
                for piece in _through(chain, raw):
                    room = self.limit - self.size
                    if len(piece) > room:  # past the limit: keep the head, stop reading
                        pieces.append(piece[:room])
                        self.size = self.limit
                        return body(complete=False)
                    pieces.append(piece)
                    self.size += len(piece)
                if self.raw_bytes > self.limit:  # compressed data that inflates to ~nothing
                    return body(complete=False)
            for inflater in chain:
                inflater.finish()
        except _Corrupt as e:
            return body(complete=False, problem=str(e))
        return body(complete=True)
