"""Page snapshots stored once: each distinct cleaned page (``simplified_html``) is kept one
time, zstd-compressed, keyed by the SHA-256 of the study's PII settings and the cleaned page
(one product page seen by many participants, one page across a participant's clicks).

An event's stored payload carries ``simplified_html: null``; ``event_pages`` links it to its
page, and :func:`with_pages` puts the page back when events are read (the export rebuilds
OPeRA's per-action ``simplified_html`` from it). References are counted by query: after a
withdrawal or a retention purge, a page goes only when no remaining event links to it, so a
page shared with a withdrawn participant's events stays for everyone else's.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import zstandard

PAGE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS pages (
        page_hash TEXT PRIMARY KEY, body BYTEA NOT NULL, size INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS event_pages (
        participant_id TEXT NOT NULL, event_id TEXT NOT NULL, page_hash TEXT NOT NULL,
        PRIMARY KEY (participant_id, event_id))""",
    "CREATE INDEX IF NOT EXISTS event_pages_by_hash ON event_pages (page_hash)",
)
ZSTD_LEVEL = 3

PAGE_CACHE_BYTES = 64 * 1024 * 1024
"""The most compressed bytes one process keeps in its :class:`PageCache`."""

PageRow = tuple[str, str, bytes, int]
"""(event_id, page_hash, zstd-compressed page, uncompressed UTF-8 bytes)."""
StoredPage = tuple[str, bytes, int]
"""(page_hash, zstd-compressed page, uncompressed UTF-8 bytes): a page row without its event."""
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    found: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if found is None:  # a compressor is not safe to share between threads
        found = _local.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return found


def stored_page(html: str, pii_key: str) -> StoredPage:
    """The stored form of a cleaned page under PII settings ``pii_key``."""
    data = html.encode("utf-8")
    digest = hashlib.sha256(pii_key.encode("utf-8") + b"\0" + data).hexdigest()
    return digest, _compressor().compress(data), len(data)


def page_row(event_id: str, html: str, pii_key: str) -> PageRow:
    """The stored form of one event's cleaned page under PII settings ``pii_key``."""
    return (event_id, *stored_page(html, pii_key))


@dataclass
class _Flight:
    """A page being made by one thread; the others wanting it wait for ``done``."""

    done: threading.Event = field(default_factory=threading.Event)
    page: StoredPage | None = None


class PageCache:
    """Stored pages by a hash of the RAW page and the PII settings, least recently used
    first out, bounded in compressed bytes: a page seen again (a product page many
    participants open, a participant's page across clicks) skips cleaning, hashing and
    compression. Thread-safe (the server prepares batches in threads when it has no worker
    processes); each worker process has its own. :meth:`get_or_make` makes a page once
    however many threads ask for it at the same time (a burst of participants opening the
    same product page)."""

    def __init__(self, max_bytes: int = PAGE_CACHE_BYTES) -> None:
        self.max_bytes, self.bytes = max_bytes, 0
        self._items: OrderedDict[bytes, StoredPage] = OrderedDict()
        self._flights: dict[bytes, _Flight] = {}
        self._lock = threading.Lock()

    def get_or_make(self, key: bytes, make: Callable[[], StoredPage]) -> StoredPage:
        """The page under ``key``, made by ``make`` (and kept) when it is not stored; while
        one thread makes it, others asking for the same key wait for its result instead of
        making it again."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
            flight = self._flights.get(key)
            mine = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not mine:
            flight.done.wait()
            if flight.page is not None:
                return flight.page
            return self.get_or_make(key, make)  # the maker failed: try again
        try:
            flight.page = page = make()
            self.put(key, page)
            return page
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    @staticmethod
    def key(pii_key: str, raw: str) -> bytes:
        data = pii_key.encode("utf-8") + b"\0" + raw.encode("utf-8", "surrogatepass")
        return hashlib.blake2b(data, digest_size=20).digest()

    def get(self, key: bytes) -> StoredPage | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: bytes, page: StoredPage) -> None:
        size = len(page[1]) + len(page[0]) + 100  # the body, the hash and the entry
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = page
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (digest, body, _) = self._items.popitem(last=False)
                self.bytes -= len(body) + len(digest) + 100

    def __len__(self) -> int:
        return len(self._items)


def decompress(body: bytes) -> str:
    return zstandard.decompress(bytes(body)).decode("utf-8")


def store_pages(cur: Any, pid: str, pages: Sequence[PageRow], new_events: set[str]) -> None:
    """Insert each page not stored yet and link the newly inserted events to theirs (a
    duplicate event keeps its first link)."""
    for event_id, digest, body, size in pages:
        if event_id not in new_events:
            continue
        cur.execute(
            "INSERT INTO pages VALUES (?, ?, ?) ON CONFLICT (page_hash) DO NOTHING",
            (digest, body, size),
        )
        cur.execute(
            "INSERT INTO event_pages VALUES (?, ?, ?) "
            "ON CONFLICT (participant_id, event_id) DO NOTHING",
            (pid, event_id, digest),
        )


def hashes_of(cur: Any, pid: str) -> list[str]:
    cur.execute("SELECT DISTINCT page_hash FROM event_pages WHERE participant_id = ?", (pid,))
    return [str(r[0]) for r in cur.fetchall()]


def drop_unlinked(cur: Any, hashes: Iterable[str] | None = None) -> int:
    """Delete pages no event links to (among ``hashes``; all pages when None)."""
    unlinked = "NOT EXISTS (SELECT 1 FROM event_pages ep WHERE ep.page_hash = pages.page_hash)"
    if hashes is None:
        cur.execute(
            "DELETE FROM event_pages WHERE NOT EXISTS (SELECT 1 FROM events e WHERE "
            "e.participant_id = event_pages.participant_id AND e.event_id = event_pages.event_id)"
        )
        cur.execute(f"DELETE FROM pages WHERE {unlinked}")
        return int(cur.rowcount)
    dropped = 0
    for digest in hashes:
        cur.execute(f"DELETE FROM pages WHERE page_hash = ? AND {unlinked}", (digest,))
        dropped += int(cur.rowcount)
    return dropped


def with_page(payload: str, body: bytes | None) -> str:
    """The event's payload with its page put back (unchanged without a stored page)."""
    if body is None:
        return payload
    event = json.loads(payload)
    event["simplified_html"] = decompress(body)
    return json.dumps(event)
