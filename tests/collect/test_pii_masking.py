"""PII masking on the corpus in pii_corpus.yaml, and HTML neutralisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from behaviorlab.collect._pii import (
    DEFAULT_TOKENS,
    LruCache,
    PiiConfig,
    PiiMasker,
    luhn_ok,
    mask_value,
)
from behaviorlab.collect._sanitize import clean_html

CORPUS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "pii_corpus.yaml").read_text(encoding="utf-8")
)


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS["positives"]) >= 40 and len(CORPUS["negatives"]) >= 40
    assert {p["kind"] for p in CORPUS["positives"]} == set(DEFAULT_TOKENS)


@pytest.mark.parametrize("case", CORPUS["positives"], ids=lambda c: c["pii"])
def test_positives_are_masked(case: dict[str, str]) -> None:
    out = PiiMasker().text(case["text"])
    assert case["pii"] not in out
    assert DEFAULT_TOKENS[case["kind"]] in out
    # only the PII goes: the text around it stays
    assert out == case["text"].replace(case["pii"], DEFAULT_TOKENS[case["kind"]])


@pytest.mark.parametrize("text", CORPUS["negatives"])
def test_negatives_stay(text: str) -> None:
    assert PiiMasker().text(text) == text


def test_known_false_positives_are_still_masked() -> None:
    # documented in docs/collect.md; if this fails, the limit is gone: move the case
    for text in CORPUS["known_false_positives"]:
        assert PiiMasker().text(text) != text


def test_counts_for_the_docs() -> None:
    masker = PiiMasker()
    found = sum(
        masker.text(c["text"]) == c["text"].replace(c["pii"], DEFAULT_TOKENS[c["kind"]])
        for c in CORPUS["positives"]
    )
    look_alikes = CORPUS["negatives"] + CORPUS["known_false_positives"]
    wrongly = sum(masker.text(t) != t for t in look_alikes)
    assert (found, len(CORPUS["positives"])) == (104, 104)
    assert (wrongly, len(look_alikes)) == (4, 81)


def test_dict_keys_are_masked_and_kept_apart() -> None:
    m = PiiMasker()
    meta = {"jane@example.com": "a", "bob@example.org": {"555-123-4567": ["x@y.io"]}, "ok": 1}
    assert m.value(meta) == {"[EMAIL]": "a", "[EMAIL]#2": {"[PHONE]": ["[EMAIL]"]}, "ok": 1}
    assert mask_value(["18-24", "jane.doe@example.com 555-123-4567"]) == [
        "18-24",
        "[EMAIL] [PHONE]",
    ]


def test_url_query_keys_are_masked() -> None:
    out = PiiMasker().url("https://shop.test/p?jane.doe@example.com=1&q=shoes")
    assert out == "https://shop.test/p?%5BEMAIL%5D=1&q=shoes"


def test_the_probed_misses_are_masked() -> None:
    # issue 14 §2.2, as reported
    m = PiiMasker()
    assert m.text("müller.anna@example.de, anna@bücher.de") == "[EMAIL], [EMAIL]"
    assert m.text('"jane@example.com" jane@example.com-thanks') == '"[EMAIL]" [EMAIL]-thanks'
    phones = "1-800-555-0199, 1 (800) 555-0199, 07700 900123, +49 30 12345678, +33 1 23 45 67 89"
    assert m.text(phones) == ", ".join(["[PHONE]"] * 5)
    cards = ["4111\u00a01111\u00a01111\u00a01111", "4111\u20091111\u20091111\u20091111"]
    cards += ["4111.1111.1111.1111", "4111  1111  1111  1111", "4111/1111/1111/1111"]
    assert m.text("; ".join(cards)) == "; ".join(["[CARD]"] * 5)
    assert m.text("123 MAIN ST; 12 oak avenue") == "[ADDRESS]; [ADDRESS]"
    assert m.text("123 Main St Springfield IL 62701") == "[ADDRESS]"


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112") and not luhn_ok("79927398710")
    # a Luhn-failing 16-digit number on a Visa prefix is not a card
    assert PiiMasker().text("4111 1111 1111 1112") == "4111 1111 1111 1112"


def test_kinds_and_tokens_are_configurable() -> None:
    text = "jane@example.com / 555-123-4567"
    only_mail = PiiMasker(PiiConfig(kinds=("email",), tokens={"email": "<mail>"}))
    assert only_mail.text(text) == "<mail> / 555-123-4567"
    assert PiiMasker(PiiConfig(kinds=())).text(text) == text


def test_urls_mask_path_query_fragment_and_contact_links() -> None:
    m = PiiMasker()
    url = "https://shop.test/u/555-123-4567/cart?phone=555-123-4567&q=red+shoes#x"
    out = m.url(url)
    assert out.startswith("https://shop.test/u/[PHONE]/cart?")
    assert "phone=%5BPHONE%5D" in out and "q=red+shoes" in out and out.endswith("#x")
    assert m.url("https://shop.test/p?q=shoes") == "https://shop.test/p?q=shoes"
    assert m.url("/product/BLDEMO0001?size=9") == "/product/BLDEMO0001?size=9"
    assert m.url("http://shop.test/u/jane.doe@example.com/x") == "http://shop.test/u/[EMAIL]/x"
    assert m.url("/u/jane.doe%40example.com/orders") == "/u/[EMAIL]/orders"
    assert m.url("/order/4111111111111111") == "/order/[CARD]"
    assert m.url("http://jane:s3cret@shop.test:81/a") == "http://shop.test:81/a"
    assert m.url("mailto:jane.doe@example.com?subject=hi") == "mailto:[EMAIL]"
    assert m.url("TEL:5551234567") == "tel:[PHONE]"  # no separators: not a phone as text
    assert m.url("sms:+15551234567") == "sms:[PHONE]"
    assert m.url("whatsapp://send?phone=+15551234567") == "whatsapp://send?phone=[PHONE]"
    # a study that does not mask phones keeps tel: links as they are
    assert PiiMasker(PiiConfig(kinds=("email",))).url("tel:555-123-4567") == "tel:555-123-4567"


def test_card_security_codes_and_expiry_are_masked_when_named() -> None:
    m = PiiMasker()
    assert m.text("cvv 123 exp 12/27") == "cvv [CARD] exp [CARD]"
    assert m.text("CVC: 1234, expiry date 01/2029") == "CVC: [CARD], expiry date [CARD]"
    assert m.text("security code 987; valid thru 3-28") == "security code [CARD]; valid thru [CARD]"
    # the same digits without a keyword are not card data
    for text in ("delivered 12/27", "size 123", "export 12/27 items", "expected 3 days"):
        assert m.text(text) == text


def test_html_drops_svg_math_and_odd_attribute_names() -> None:
    dirty = (
        '<p>a</p><svg><animate attributeName="href" values="javascript:alert(1)"/>'
        '<set attributeName="href" to="javascript:alert(2)"/><a><text>t</text></a></svg>'
        '<math><maction actiontype="statusline" xlink:href="javascript:x()">m</maction></math>'
        '<a x"onmouseover="alert(3)" data-ok="1" href="/p">b</a>'
        '<a href="mailto:jane.doe@example.com">mail</a><a href="tel:+1 555 123 4567">call</a>'
        '<a href="/u/jane.doe@example.com/orders">orders</a>'
    )
    out = clean_html(dirty, PiiMasker())
    assert out == (
        '<p>a</p><a data-ok="1" href="/p">b</a><a href="mailto:[EMAIL]">mail</a>'
        '<a href="tel:[PHONE]">call</a><a href="/u/[EMAIL]/orders">orders</a>'
    )


def test_html_loses_scripts_handlers_and_script_urls() -> None:
    dirty = (
        '<div class="c" onmouseover="x()" name="cart.item"><SCRIPT type="text/javascript">'
        "var a = '<b>';</SCRIPT><script>nested<script>x</script></script>"
        '<a href=" JaVa&#09;Script:alert(1)">bad</a><a href="/p?email=a@b.co">ok</a>'
        '<img src="data:text/html;base64,AAAA" alt="me@x.org"><iframe src="/x"><p>in</p></iframe>'
        '<!-- <script>c()</script> --><p style="background:url(javascript:x)">a &lt;b&gt;</p>'
        '<input name="q" value="call 555-123-4567" placeholder="you@mail.com" disabled></div>'
    )
    dirty += (
        '<meta http-equiv="refresh" content="0;url=javascript:x()"><style>p{x:expression(y)}'
        '</style><svg onload="z()"><a xlink:href="javascript:w()">s</a></svg>'
    )
    out = clean_html(dirty, PiiMasker())
    assert "svg" not in out  # dropped with its content
    lowered = out.lower()
    for gone in (
        "script",
        "onmouseover",
        "javascript",
        "alert",
        "iframe",
        "data:text",
        "style=",
        "a@b.co",
        "me@x.org",
        "555-123-4567",
        "you@mail.com",
        "nested",
    ):
        assert gone not in lowered, gone
    assert '<div class="c" name="cart.item">' in out
    assert '<a href="/p?email=%5BEMAIL%5D">ok</a>' in out
    assert '<img alt="[EMAIL]">' in out
    assert "<p>a &lt;b&gt;</p>" in out
    assert '<input name="q" value="call [PHONE]" placeholder="[EMAIL]" disabled="">' in out


def test_cleaned_pages_are_cached_per_masker_and_evicted_oldest_first() -> None:
    masker = PiiMasker()
    page = '<p onclick="x()">me@x.org</p>'
    assert clean_html(page, masker) == "<p>[EMAIL]</p>"
    assert masker.cache.get(page) == "<p>[EMAIL]</p>"
    assert PiiMasker(PiiConfig(kinds=())).cache.get(page) is None  # other settings, other cache
    small = LruCache(size=2)
    small.put("a", "1")
    small.put("b", "2")
    assert small.get("a") == "1"  # a is now the most recent
    small.put("c", "3")
    assert (small.get("a"), small.get("b"), small.get("c")) == ("1", None, "3")
