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

from behaviorlab.collect._pii import DEFAULT_TOKENS, PiiConfig, PiiMasker
from behaviorlab.collect._sanitize import clean_html
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
