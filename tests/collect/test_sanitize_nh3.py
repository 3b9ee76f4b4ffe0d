"""The nh3 sanitizer and PII masking on a page's text as one string (issue 14 §1, §2.2).

What must go is tested in test_pii_masking.py (scripts, handlers, script URLs, svg/math,
attribute-name tricks); here: PII split across elements, PII in id / for / name / class,
the demo shop's semantic ids kept, and the held-out corpus' HTML cases.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from behaviorlab.collect._pii import DEFAULT_TOKENS, LruCache, PiiConfig, PiiMasker
from behaviorlab.collect._sanitize import clean_html
from behaviorlab.collect._sanitize_text import joined_text, text_nodes
from behaviorlab.collect._shop import create_shop_app

HTML_CASES: list[dict[str, str]] = [
    case
    for part in ("", "2", "3")
    for case in yaml.safe_load(
        (Path(__file__).parent / f"pii_corpus_heldout{part}.yaml").read_text(encoding="utf-8")
    )["html"]
]


def test_pii_split_across_elements_is_masked() -> None:
    m = PiiMasker()
    assert clean_html("<p>jane<b></b>.doe@example.com</p>", m) == "<p>[EMAIL]<b></b></p>"
    cards = "<p>card <span>4111</span><span>1111</span><span>1111</span><span>1111</span>.</p>"
    assert clean_html(cards, m) == (
        "<p>card <span>[CARD]</span><span></span><span></span><span></span>.</p>"
    )
    spaced = "<td><span>4111</span> <span>1111</span> <span>1111</span> <span>1111</span></td>"
    assert "1111" not in clean_html(f"<table><tr>{spaced}</tr></table>", m)
    assert clean_html("<p>call <b>555</b>-123-4567 now</p>", m) == "<p>call <b>[PHONE]</b> now</p>"


def test_block_elements_separate_words() -> None:
    # cells and paragraphs are read apart: a price next to a quantity is not one number
    page = "<table><tr><td>555-123</td><td>4567</td></tr></table><p>4111 1111</p><p>1111 1111</p>"
    out = clean_html(page, PiiMasker())
    assert "[PHONE]" not in out and "[CARD]" not in out
    assert clean_html("<p>jane</p><p>@example.com</p>", PiiMasker()).count("jane") == 1


def test_id_for_name_and_class_are_masked_but_semantic_ids_stay() -> None:
    m = PiiMasker()
    page = (
        '<input id="jo@example.com" name="ann@example.com" class="user 555-123-4567">'
        '<label for="jo@example.com">email</label>'
        '<div name="cart.item" id="product_title" class="card" data-name="add_to_cart">x</div>'
    )
    out = clean_html(page, m)
    assert "example.com" not in out and "555-123-4567" not in out
    assert 'id="[EMAIL]"' in out and 'for="[EMAIL]"' in out and 'class="user [PHONE]"' in out
    assert '<div name="cart.item" id="product_title" class="card" data-name="add_to_cart">' in out


def test_the_demo_shops_semantic_ids_survive_cleaning() -> None:
    with TestClient(create_shop_app()) as client:
        pages = [client.get(p).text for p in ("/", "/search?q=shoes", "/product/BLDEMO0003")]
    ids = re.compile(r'\b(?:name|data-name|id|class|data-asin)="([^"]*)"')
    for page in pages:
        body = page[page.index("<body>") : page.index("</body>")]
        out = clean_html(body, PiiMasker())
        assert ids.findall(out) == ids.findall(body)


@pytest.mark.parametrize("case", HTML_CASES, ids=lambda c: c["html"][:40])
def test_held_out_html_cases(case: dict[str, str]) -> None:
    out = clean_html(case["html"], PiiMasker())
    assert case["pii"] not in out
    assert any(token in out for token in DEFAULT_TOKENS.values())


def test_obfuscated_urls_and_unknown_tags() -> None:
    m = PiiMasker()
    page = (
        '<a href="java&#x0A;script:x()">a</a><a href="  vbscript:y">b</a>'
        '<a href="data:text/html,<script>z()</script>">c</a><img src="JAVASCRIPT:w()">'
        '<custom-card data-x="1" onclick="q()">kept text</custom-card>'
        '<form action="javascript:v()"><button formaction="javascript:u()">go</button></form>'
    )
    out = clean_html(page, m)
    lowered = out.lower()
    for gone in (
        "script",
        "javascript",
        "vbscript",
        "data:",
        "onclick",
        "formaction",
        "custom-card",
    ):
        assert gone not in lowered, gone
    assert "kept text" in out and "<form>" in out


def test_a_study_without_masking_keeps_text_but_still_sanitizes() -> None:
    out = clean_html("<p onclick='x()'>jane@example.com</p>", PiiMasker(PiiConfig(kinds=())))
    assert out == "<p>jane@example.com</p>"


def test_pii_joined_into_identifiers_is_masked() -> None:
    m = PiiMasker()
    page = (
        '<li id="contact-604-555-0148" class="user_jane.doe@example.com card-4111111111111111">'
        '<b name="order-112-4567890" data-name="product_title">x</b></li>'
    )
    out = clean_html(page, m)
    assert 'id="contact-[PHONE]"' in out
    assert "jane" not in out and "4111111111111111" not in out
    # an order number or a semantic id joined the same way stays
    assert 'name="order-112-4567890" data-name="product_title"' in out


def _node_join(markup: str) -> str:
    """The page's text joined node by node (the slow path's offsets), for comparison."""
    _, _, starts, texts = text_nodes(markup)
    out, at = [], 0
    for start, text in zip(starts, texts, strict=True):
        out += ["\n" * (start - at), text]
        at = start + len(text)
    return "".join(out)


@pytest.mark.parametrize(
    "page",
    [
        "plain text, no tags & an entity",
        "<p>a</p><p>b</p>",
        "<div><p></p><span>x</span><b>y</b></div>tail",
        "lead<br><br>after&nbsp;&amp;&lt;b&gt;<i>i</i><table><tr><td>1</td><td>2</td></tr></table>",
        '<a href="/x?a=1&amp;b=2" title="q &gt; r">link</a><abbr>ab</abbr><address>ad</address>',
        "<ul><li>one</li>\n  <li>two</li></ul>",
        "",
    ],
)
def test_the_fast_text_join_equals_the_node_by_node_join(page: str) -> None:
    cleaned = clean_html(page, PiiMasker(PiiConfig(kinds=())))
    assert joined_text(cleaned) == _node_join(cleaned)


def test_the_demo_shops_pages_join_the_same_both_ways() -> None:
    with TestClient(create_shop_app()) as client:
        pages = [client.get(p).text for p in ("/", "/search?q=shoes", "/product/BLDEMO0003")]
    for page in pages:
        cleaned = clean_html(page, PiiMasker(PiiConfig(kinds=())))
        assert "\n" in joined_text(cleaned)  # the pages have blocks
        assert joined_text(cleaned) == _node_join(cleaned)


def test_masked_attribute_values_are_escaped_and_others_left_byte_for_byte() -> None:
    page = (
        '<a href="/p?q=1&amp;r=2" title="say &quot;hi&quot; &amp; call 555-123-4567">x</a>'
        '<img alt="a &lt; b &amp; c" src="/i.png"><input value="&quot;jo@example.com&quot;">'
    )
    out = clean_html(page, PiiMasker())
    assert 'href="/p?q=1&amp;r=2"' in out  # unchanged values are not rewritten
    assert 'alt="a &lt; b &amp; c"' in out
    assert 'title="say &quot;hi&quot; &amp; call [PHONE]"' in out
    assert 'value="&quot;[EMAIL]&quot;"' in out
    # a value that masks to markup-like text stays one attribute
    tokens = PiiMasker(PiiConfig(tokens={"email": '"><script>x()</script>'}))
    hostile = clean_html('<p title="jo@example.com">t</p>', tokens)
    assert "<script" not in hostile and hostile.startswith('<p title="&quot;&gt;&lt;script')


def test_the_page_cache_is_bounded_in_characters() -> None:
    cache = LruCache(size=100, max_chars=10)
    cache.put("a" * 1_000_000, "12345")
    cache.put("b", "67890")
    assert cache.get("a" * 1_000_000) == "12345" and cache.chars == 10
    cache.put("c", "x")  # over 10 characters: the least recently used (b) goes
    assert cache.get("b") is None and cache.get("a" * 1_000_000) == "12345"
    cache.put("d", "y" * 11)  # longer than the bound: not kept
    assert cache.get("d") is None and cache.chars == 6 and len(cache) == 2
