"""Masking and cleaning take time linear in their input (issue 14 §2.1), and every string
field the sanitize layer sees is capped.

Linearity is read from how CPU time grows: the input is doubled until one call takes
``FLOOR`` seconds of CPU (4 ms), then timed at twice and four times that size; two doublings of a
linear pass take about 4x the time, of a quadratic one about 16x. The test fails above 9x
(3x per doubling), a generous margin for a shared machine. Ratios are measured within one
run; no absolute time is asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from behaviorlab.collect._events import CapturedEvent
from behaviorlab.collect._pii import TRUNCATED, PiiMasker, ValueLimits
from behaviorlab.collect._sanitize import (
    MAX_ATTRIBUTE,
    MAX_TEXT_NODE,
    META_LIMITS,
    clean_event,
    clean_html,
)

FLOOR = 0.004
MAX_GROWTH = 9.0


def _cpu(fn: Callable[[str], object], arg: str, reps: int = 2) -> float:
    best = float("inf")
    for _ in range(reps):
        start = time.process_time()
        fn(arg)
        best = min(best, time.process_time() - start)
    return best


def growth(fn: Callable[[str], object], make: Callable[[int], str]) -> float:
    """CPU time at 4n over CPU time at n, n the first size (doubling) taking FLOOR seconds
    (or reaching a million characters: a capped field takes constant time). The lower of two
    measurements, so one burst of load on a shared machine does not fail a linear pass; a
    quadratic one is 16x both times."""
    n = 64
    while _cpu(fn, make(n), reps=1) < FLOOR and len(make(n)) < 1_000_000:
        n *= 2
    small, large = make(n), make(4 * n)
    return min(_cpu(fn, large) / max(_cpu(fn, small), 1e-6) for _ in range(2))


TEXT_CASES: dict[str, Callable[[int], str]] = {
    "cvv then spaces": lambda n: "cvv" + " " * n + "x",
    "exp then spaces": lambda n: "exp" + " " * n + "x",
    "expiry then spaces": lambda n: "expiry" + " " * n + "date",
    "cvv 1 then spaces": lambda n: "cvv 1" + " " * n + "x",
    "security then spaces": lambda n: "security" + " " * n + "x",
    "a% repeated": lambda n: "a%" * n,
    "local part run": lambda n: "a" * n + "@",
    "domain of hyphens": lambda n: "x@" + "a-" * n,
    "domain of labels": lambda n: "x@" + "a." * n,
    "address words": lambda n: "1 " + "Main " * n,
    "address spaces": lambda n: "1" + " " * n + "Main St",
    "after a suffix": lambda n: "1 Main St" + " " * n + "x",
    "po box spaces": lambda n: "PO Box" + " " * n + "x",
    "card groups": lambda n: "4 " * n,
    "phone groups": lambda n: "+1 " * n,
    "digit pairs": lambda n: "1 1 " * n,
    "dots after a word": lambda n: "1 A" + "." * n,
    "at signs": lambda n: "a@" * n,
    "dotted words": lambda n: "a.b " * n,
    "plus digits": lambda n: "+" + "1" * n,
    "parens": lambda n: "(555) " * n,
    "paren digits": lambda n: "(1)" * n,
    "hyphen digits": lambda n: "1-" * n,
    "no-break digits": lambda n: "1\u00a0" * n,
    "non-ASCII local part": lambda n: "é%" * n,
    "address in capitals": lambda n: "1 MAIN " * n,
    "address in lower case": lambda n: "1 main " * n,
    "city words": lambda n: "1 Main St " + "Springfield " * n,
    "card separators": lambda n: "4./" * n,
    "address cues": lambda n: "ship to " * n,
    "a cue then words": lambda n: "ship to 1 " + "a " * n,
    "city words after a street": lambda n: "1 Main Street " + "Boston " * n,
    "states after a street": lambda n: "1 Main St " + "NY " * n,
    # round 3's patterns: European streets, directions, units, two-word cities, products,
    # 00 prefixes and a slash after an area code
    "rue then names": lambda n: "15 Rue de " + "Paix " * n,
    "rue words": lambda n: "1 Rue " * n,
    "names then a number": lambda n: "Calle " + "Mayor " * n + "10",
    "via and particles": lambda n: "Via de " * n + "1",
    "german street words": lambda n: "Hauptstraße " * n + "5",
    "long word then straße": lambda n: "H" + "a" * n + "straße 5",
    "capitals before straße": lambda n: "Ab" * n + "straße 5",
    "direction words": lambda n: "1 Main St " + "South " * n,
    "unit hashes": lambda n: "1 Main St " + "#" * n,
    "city first words": lambda n: "1 Main Street " + "San " * n,
    "count words": lambda n: "3 Pack " * n + "Drive",
    "storage words": lambda n: "1 Hard " + "Flash " * n + "Drive",
    "exit codes": lambda n: "0049 " * n,
    "slashed groups": lambda n: "030/" * n,
}


@pytest.mark.parametrize("make", TEXT_CASES.values(), ids=TEXT_CASES.keys())
def test_masking_text_is_linear(make: Callable[[int], str]) -> None:
    assert growth(PiiMasker().text, make) < MAX_GROWTH


HTML_CASES: dict[str, Callable[[int], str]] = {
    "cvv in a text node": lambda n: "<p>cvv" + " " * n + "x</p>",
    "a% in a text node": lambda n: "<p>" + "a%" * n + "</p>",
    "a% in an attribute": lambda n: '<input value="' + "a%" * n + '">',
    "many small nodes": lambda n: "<p>a@b.co 555-123-4567</p>" * n,
    "many attributes": lambda n: "<a " + 'x="a%" ' * n + ">",
}


@pytest.mark.parametrize("make", HTML_CASES.values(), ids=HTML_CASES.keys())
def test_cleaning_html_is_linear(make: Callable[[int], str]) -> None:
    def clean(markup: str) -> str:
        return clean_html(markup, PiiMasker())  # a fresh masker: no cached page

    assert growth(clean, make) < MAX_GROWTH


URL_CASES: dict[str, Callable[[int], str]] = {
    "query pairs": lambda n: "http://x/?" + "a=b&" * n,
    "path segments": lambda n: "http://x/" + "a/" * n,
    "a% in a query value": lambda n: "http://x/?q=" + "a%25" * n,
}


@pytest.mark.parametrize("make", URL_CASES.values(), ids=URL_CASES.keys())
def test_masking_urls_is_linear(make: Callable[[int], str]) -> None:
    assert growth(PiiMasker().url, make) < MAX_GROWTH


def _event(**fields: object) -> CapturedEvent:
    base: dict[str, object] = {
        "event_id": "e-0000001",
        "session_id": "s",
        "seq": 1,
        "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "action_type": "click",
        "url": "http://shop.test/p",
    }
    return CapturedEvent.model_validate(base | fields)


def test_the_reported_stall_is_linear_in_element_meta() -> None:
    # issue 14: "cvv" + 40,000 spaces in element_meta kept one request 24.7 s
    def clean(text: str) -> object:
        return clean_event(_event(element_meta={"text": text}), PiiMasker())

    assert growth(clean, lambda n: "cvv" + " " * n + "x") < MAX_GROWTH


def test_metadata_strings_keys_and_depth_are_capped() -> None:
    deep: dict[str, object] = {"leaf": "x"}
    for _ in range(40):
        deep = {"d": deep}
    meta = {"text": "a" * 50_000, "k" * 1_000: 1, "deep": deep}
    out = clean_event(_event(element_meta=meta, page_meta=meta, products=[meta]), PiiMasker())
    for cleaned in (out.element_meta, out.page_meta, out.products[0] if out.products else {}):
        assert cleaned["text"] == "a" * META_LIMITS.string + TRUNCATED
        assert "k" * META_LIMITS.key + TRUNCATED in cleaned
        depth, node = 0, cleaned["deep"]
        while isinstance(node, dict):
            depth, node = depth + 1, node["d"]
        assert depth < META_LIMITS.depth


def test_html_text_nodes_and_attributes_are_capped() -> None:
    page = f'<p title="{"t" * 10_000}">{"w " * 30_000}</p>'
    out = clean_html(page, PiiMasker())
    assert f'title="{"t" * MAX_ATTRIBUTE}{TRUNCATED}"' in out
    assert out.endswith(f"{TRUNCATED}</p>")
    assert len(out) < MAX_TEXT_NODE + MAX_ATTRIBUTE + 100


def test_pii_straddling_a_cut_is_masked_not_left_half_visible() -> None:
    masker = PiiMasker()
    text = "x" * 95 + " jane.doe@example.com and more"
    cut = masker.text(text, limit=100)
    assert cut == "x" * 95 + " [EMA" + TRUNCATED
    assert "jane" not in cut
    assert masker.text("short", limit=100) == "short"
    limits = ValueLimits(string=10, key=3, depth=1)
    assert masker.value({"abcdef": ["a", {"b": 1}]}, limits=limits) == {"abc" + TRUNCATED: None}
    few = ValueLimits(items=2)
    assert masker.value({"a": [1, 2, 3], "b": 1, "c": 2}, limits=few) == {"a": [1, 2], "b": 1}


def test_metadata_entries_are_capped() -> None:
    meta = {f"k{i}": i for i in range(5_000)}
    out = clean_event(_event(element_meta=meta, page_meta=meta, products=[{}] * 5_000), PiiMasker())
    assert len(out.element_meta) == len(out.page_meta) == META_LIMITS.items
    assert out.products is not None and len(out.products) == META_LIMITS.items
