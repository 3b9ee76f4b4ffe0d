"""A page seen again skips cleaning (issue 14 §1): the per-process cache of stored pages is
keyed by the raw page and the PII settings and bounded in bytes."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from behaviorlab.collect import _ingest
from behaviorlab.collect._ingest import Prepared, prepare_batch
from behaviorlab.collect._page_store import PageCache, decompress
from behaviorlab.collect._pii import PiiConfig
from behaviorlab.collect._sanitize import clean_html
from behaviorlab.collect._study import Study

PAGE = '<p onclick="x()">call 555-123-4567</p><script>s()</script>'


def _body(*pages: str) -> bytes:
    events = [
        {
            "event_id": f"event-{i:04d}",
            "session_id": "s",
            "seq": i,
            "timestamp": "2026-01-01T00:00:00Z",
            "action_type": "click",
            "url": "https://shop.test/p",
            "simplified_html": page,
        }
        for i, page in enumerate(pages)
    ]
    return json.dumps({"events": events}).encode()


def _study(pii: PiiConfig | None = None) -> str:
    study = Study(study_id="s", name="s", allowed_hosts=["shop.test"], pii=pii or PiiConfig())
    return study.model_dump_json()


def test_a_repeated_raw_page_is_cleaned_once_per_pii_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_ingest, "PAGES", PageCache())
    cleaned: list[str] = []
    real = clean_html

    def counting(markup: str, *args: object, **kwargs: bool) -> str:
        cleaned.append(markup)
        return real(markup, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_ingest, "clean_html", counting)
    first = prepare_batch(_body(PAGE, PAGE, "<p>other</p>"), _study())
    again = prepare_batch(_body(PAGE), _study())
    assert isinstance(first, Prepared) and isinstance(again, Prepared)
    assert cleaned == [PAGE, "<p>other</p>"]  # the second and third sight of PAGE: no clean
    assert decompress(first.pages[0][2]) == "<p>call [PHONE]</p>"
    assert first.pages[0][1:] == first.pages[1][1:] == again.pages[0][1:]
    assert [row[0] for row in first.pages] == ["event-0000", "event-0001", "event-0002"]
    unmasked = prepare_batch(_body(PAGE), _study(PiiConfig(kinds=())))
    assert isinstance(unmasked, Prepared) and len(cleaned) == 3  # other settings: cleaned
    assert decompress(unmasked.pages[0][2]) == "<p>call 555-123-4567</p>"
    assert unmasked.pages[0][1] != first.pages[0][1]


def test_the_page_cache_is_bounded_in_compressed_bytes() -> None:
    cache = PageCache(max_bytes=1_000)
    for i in range(20):
        cache.put(PageCache.key("{}", f"page {i}"), (f"h{i}", b"x" * 200, 5_000))
    assert cache.bytes <= 1_000 and len(cache) == 3  # 200 bytes + hash + entry overhead
    assert cache.get(PageCache.key("{}", "page 19")) is not None
    assert cache.get(PageCache.key("{}", "page 0")) is None
    cache.put(PageCache.key("{}", "huge"), ("h", b"x" * 2_000, 9))  # over the bound: not kept
    assert cache.get(PageCache.key("{}", "huge")) is None
    assert PageCache.key("{}", "p") != PageCache.key('{"kinds":[]}', "p")


def test_a_page_wanted_by_many_threads_at_once_is_made_once() -> None:
    """A burst of participants on the same product page: the first thread cleans it, the
    others wait for its result instead of cleaning it too."""
    cache = PageCache()
    key = PageCache.key("{}", PAGE)
    made: list[int] = []
    started = threading.Event()

    def make() -> tuple[str, bytes, int]:
        made.append(1)
        started.set()
        time.sleep(0.2)  # the others arrive meanwhile
        return ("h", b"body", 4)

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(cache.get_or_make, key, make)
        started.wait(5)
        rest = [pool.submit(cache.get_or_make, key, make) for _ in range(7)]
        pages = [first.result(), *(r.result() for r in rest)]
    assert made == [1] and pages == [("h", b"body", 4)] * 8


def test_when_the_maker_fails_a_waiting_thread_makes_the_page_itself() -> None:
    cache = PageCache()
    key = PageCache.key("{}", PAGE)
    started, release = threading.Event(), threading.Event()

    def failing() -> tuple[str, bytes, int]:
        started.set()
        release.wait(5)
        raise RuntimeError("the cleaner broke")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cache.get_or_make, key, failing)
        started.wait(5)
        second = pool.submit(cache.get_or_make, key, lambda: ("h2", b"b", 1))
        time.sleep(0.05)
        release.set()
        with pytest.raises(RuntimeError):
            first.result()
        assert second.result() == ("h2", b"b", 1)
    assert cache.get(key) == ("h2", b"b", 1)
