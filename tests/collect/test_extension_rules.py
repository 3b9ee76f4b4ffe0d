"""The extension's pure rules (lib.js) under node: semantic ids, the simplified HTML snapshot,
click types, products, the host allowlist. Pages are the demo shop's real pages, parsed in
Python into a small DOM that lib.js reads like the browser's."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from behaviorlab.collect._events import CLICK_TYPES
from behaviorlab.collect._shop import create_shop_app
from behaviorlab.families.next_action._html import Node, TreeBuilder

LIB = Path(__file__).resolve().parents[2] / "src/behaviorlab/collect/extension/lib.js"
NODE = shutil.which("node") or "/usr/bin/node"

pytestmark = pytest.mark.skipif(not Path(NODE).exists(), reason="node is not installed")

HARNESS = """
const lib = require(process.argv[1]);
function build(json, parent) {
  if (typeof json === "string") {
    return { nodeType: 3, nodeValue: json, parentElement: parent,
             get textContent() { return json; } };
  }
  const el = {
    nodeType: 1, tagName: json.tag.toUpperCase(), attrs: json.attrs, parentElement: parent,
    getAttribute(n) {
      return Object.prototype.hasOwnProperty.call(this.attrs, n) ? this.attrs[n] : null;
    },
    get attributes() {
      return Object.entries(this.attrs).map(([name, value]) => ({ name, value }));
    },
    get textContent() { return this.childNodes.map((c) => c.textContent).join(""); },
  };
  el.childNodes = json.children.map((c) => build(c, el));
  return el;
}
function all(root) {
  const out = [];
  (function walk(n) { if (n.nodeType === 1) { out.push(n); n.childNodes.forEach(walk); } })(root);
  return out;
}
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const dom = input.tree ? build(input.tree, null) : null;
const result = (function (lib, dom, all) { %s })(lib, dom, all);
process.stdout.write(JSON.stringify(result));
"""


def tree(node: Node | str) -> Any:
    if isinstance(node, str):
        return node
    return {"tag": node.tag, "attrs": node.attrs, "children": [tree(c) for c in node.children]}


def parse(html: str) -> Any:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    body = next(
        (c for c in builder.root.children if isinstance(c, Node) and c.tag == "html"),
        builder.root,
    )
    return tree(Node("body", {}, list(body.children)) if body is builder.root else body)


def run_js(code: str, html: str | None = None) -> Any:
    script = HARNESS.replace("%s", code)
    payload = json.dumps({"tree": parse(html) if html is not None else None})
    done = subprocess.run(
        [NODE, "-e", script, str(LIB)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


NAMES_AND_TYPES = """
  const names = lib.semanticNames(dom);
  const out = {};
  for (const [el, name] of names) out[name] = lib.classifyClick(name, lib.clickInfo(el));
  return out;
"""


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    shop = TestClient(create_shop_app())
    out = {"search": shop.get("/search", params={"q": "running shoes"}).text}
    out["home"] = shop.get("/").text
    out["product_added"] = shop.post(
        "/cart/add", data={"asin": "BLDEMO0001", "opt_size": "9", "qty": "1"}
    ).text
    shop.post("/cart/add", data={"asin": "BLDEMO0016", "qty": "2"})
    out["product"] = shop.get("/product/BLDEMO0001").text
    out["cart"] = shop.get("/cart").text
    out["checkout"] = shop.get("/checkout").text
    out["search_after"] = shop.get("/search", params={"q": "running shoes"}).text
    return out


def test_semantic_ids_on_shop_pages_are_stable_paths(pages: dict[str, str]) -> None:
    search = run_js(NAMES_AND_TYPES, pages["search"])
    for name in (
        "nav_bar.search_input",
        "nav_bar.search_button",
        "nav_bar.categories.shoes",
        "suggested_term.running_shoes",
        "refinements.category.kitchen",
        "refinements.price.under_25",
        "search_results.sort_by.price_low_to_high",
        "search_results.strideline_running_shoes.product_title",
        "search_results.pebblefoot_trail_running_shoes.product_image",
    ):
        assert name in search, name
    # the same page with a different cart (state elsewhere on the page): same ids
    after = run_js(NAMES_AND_TYPES, pages["search_after"])
    assert set(after) == set(search)


# (page, semantic id, click type): one or more per OPeRA click type, decided by hand
EXPECTED = [
    ("search", "nav_bar.search_button", "search"),
    ("search", "nav_bar.search_input", "search"),
    ("search", "nav_bar.logo", "nav_bar"),
    ("search", "nav_bar.cart", "nav_bar"),
    ("search", "nav_bar.categories.books", "nav_bar"),
    ("home", "suggested_term.coffee_mug", "suggested_term"),
    ("search", "refinements.rating.4_up", "filter"),
    ("search", "search_results.sort_by.avg_customer_review", "filter"),
    ("search", "search_results.strideline_running_shoes.product_title", "product_link"),
    ("home", "featured.hearthware_coffee_mug.product_image", "product_link"),
    ("product", "product_options.size.9", "product_option"),
    ("product", "product_options.colour.navy", "product_option"),
    ("product", "buy_box.quantity.increase", "quantity"),
    ("product", "buy_box.add_to_cart", "purchase"),
    ("product", "buy_box.buy_now", "purchase"),
    ("product", "reviews.filter.5_star", "review"),
    ("product", "reviews.review_2.helpful", "review"),
    ("product", "see_reviews", "review"),
    ("product", "products_related_to_this_item.pebblefoot_trail_running_shoes.product_title",
     "product_link"),
    ("product", "brand", "other"),
    ("product_added", "cart_side_bar.go_to_cart", "cart_side_bar"),
    ("product_added", "cart_side_bar.proceed_to_checkout", "purchase"),
    ("cart", "cart_header.select_all_items", "cart_page_select"),
    ("cart", "cart.strideline_running_shoes.checkbox", "cart_page_select"),
    ("cart", "cart.strideline_running_shoes.quantity", "quantity"),
    ("cart", "cart.strideline_running_shoes.delete", "quantity"),
    ("cart", "cart.strideline_running_shoes.product_title", "product_link"),
    ("cart", "check_out", "purchase"),
    ("checkout", "checkout.place_order", "purchase"),
]  # fmt: skip


def test_click_types_on_shop_pages(pages: dict[str, str]) -> None:
    got = {page: run_js(NAMES_AND_TYPES, pages[page]) for page in {p for p, _, _ in EXPECTED}}
    wrong = [(sid, got[page].get(sid), kind) for page, sid, kind in EXPECTED
             if got[page].get(sid) != kind]  # fmt: skip
    assert not wrong, wrong
    seen = {t for types in got.values() for t in types.values()}
    assert seen <= {*CLICK_TYPES}
    missing = set(CLICK_TYPES) - seen - {"page_related"}
    assert not missing  # every type but paging occurs on these pages


def test_click_rules_name_only_opera_click_types() -> None:
    out = run_js(
        """return {
          kinds: lib.CLICK_RULES.map((r) => r[0]),
          paths: ['pagination.next', 'pagination.page_2', 'x.y'].map(
            (s) => lib.classifyClick(s, {})),
          generic: [lib.classifyClick('a', {inNav: true}),
            lib.classifyClick('b', {href: '/dp/B000123'}),
            lib.classifyClick('q', {inSearchForm: true})],
        };"""
    )
    assert set(out["kinds"]) <= set(CLICK_TYPES)
    assert out["paths"] == ["page_related", "page_related", "other"]
    assert out["generic"] == ["nav_bar", "product_link", "search"]


def test_simplified_html_keeps_what_matters() -> None:
    html = """<html><head><title>t</title><style>p{}</style></head><body>
      <script>alert(1)</script>
      <div class="wrap" style="color:red"><div>
        <h1 class="big">Shoes</h1>
        <svg><text>icon</text></svg>
        <p hidden>secret</p><p style="display: none">gone</p>
        <a href="/p/1" onclick="x()" class="c" data-tracking="t1">Buy  <b>now</b></a>
        <input type="password" name="pw" value="hunter2">
        <input type="hidden" name="csrf" value="abc">
        <input type="text" name="q" value="red shoes" id="search-box">
        <div id="product_options" data-asin="B1"><button data-name="size_m">M</button></div>
      </div></div></body></html>"""
    out = run_js("return lib.simplify(dom).html;", html)
    assert out == (
        "<h1>Shoes</h1> "
        '<a name="buy_now" href="/p/1">Buy now</a> '
        '<input name="pw" type="password"> '
        '<input name="search_box" type="text" value="red shoes"> '
        '<div name="product_options" data-asin="B1">'
        '<button name="product_options.size_m">M</button></div>'
    )


def test_segment_rules_labels_unstable_ids_radios_duplicates() -> None:
    html = """<body>
      <button id="btn-1234567">Add to Cart</button>
      <button id="a1b2c3d4e5f6a7">OK</button>
      <a aria-label="Close dialog" href="#">x</a>
      <input type="radio" name="size" value="XL">
      <img alt="Front view" src="x.png">
      <div data-testid="deals"><a href="#">Next</a><a href="#">Next</a><span>plain</span></div>
    </body>"""
    names = run_js("return Array.from(lib.semanticNames(dom).values());", html)
    assert names == [
        "add_to_cart",
        "ok",
        "close_dialog",
        "size.xl",
        "deals",
        "deals.next",
        "deals.next_2",
    ]


def test_action_target_products_hosts_backoff() -> None:
    html = """<body><div data-name="card" data-asin="B9" data-title="Mug" data-price="9.99"
      data-quantity="2" data-options='{"colour": "Red"}'>
      <button data-name="add"><span id="inner">Add</span></button></div></body>"""
    out = run_js(
        """
        const span = all(dom).find((e) => e.getAttribute('id') === 'inner');
        return {
          target: lib.actionTarget(span).getAttribute('data-name'),
          products: lib.productsOf(dom),
          meta: lib.elementMeta(lib.actionTarget(span), 'card.add'),
          hosts: [
            lib.hostAllowed('127.0.0.1', '8001', ['127.0.0.1:8001']),
            lib.hostAllowed('127.0.0.1', '8002', ['127.0.0.1:8001']),
            lib.hostAllowed('shop.example.com', '', ['*.example.com']),
            lib.hostAllowed('example.com', '', ['*.example.com']),
            lib.hostAllowed('evil.com', '', ['*.example.com', 'example.com']),
            lib.hostAllowed('Shop.Test', '', ['shop.test']),
          ],
          backoff: [1, 2, 3, 9, 20].map(lib.backoffSeconds),
        };
        """,
        html,
    )
    assert out["target"] == "add"
    assert out["products"] == [
        {"asin": "B9", "title": "Mug", "price": 9.99, "quantity": 2, "options": {"colour": "Red"}}
    ]
    assert out["meta"] == {"name": "card.add", "data": {"name": "add"}, "tag": "button",
                           "text": "Add"}  # fmt: skip
    assert out["hosts"] == [True, False, True, True, False, True]
    assert out["backoff"] == [2, 4, 8, 300, 300]


def test_sensitive_fields_keep_no_value_in_the_snapshot() -> None:
    html = """<body>
      <input name="q" value="red shoes">
      <input autocomplete="cc-number" name="x1" value="4111 1111 1111 1111">
      <input autocomplete="shipping tel" name="x2" value="555 123 4567">
      <input autocomplete="section-a billing street-address" name="x3" value="12 Main St">
      <input type="email" name="x4" value="jane@example.com">
      <input name="card_cvv" value="123">
      <input name="exp_date" value="12/27">
      <input autocomplete="given-name" name="x5" value="Jane">
      <input type="password" name="pw" value="hunter2">
      <textarea autocomplete="street-address" name="addr">1 High St</textarea>
    </body>"""
    out = run_js(
        """return {
          html: lib.simplify(dom).html,
          sensitive: all(dom).filter((e) => e.tagName !== 'BODY')
            .map((e) => [e.getAttribute('name'), lib.sensitiveField(e)]),
        };""",
        html,
    )
    for secret in ("4111", "555", "Main", "jane@", "123", "12/27", "Jane", "hunter2"):
        assert secret not in out["html"], secret
    assert 'value="red shoes"' in out["html"]
    assert [name for name, s in out["sensitive"] if not s] == ["q"]


def test_only_the_users_own_events_are_recorded() -> None:
    out = run_js(
        """
        const el = (marker) => ({ getAttribute: (n) => (n === lib.UI_MARKER ? marker : null) });
        const ev = (isTrusted, path) => ({ isTrusted, composedPath: () => path });
        return [
          lib.fromUser(ev(true, [el(null), el(null)])),
          lib.fromUser(ev(false, [el(null)])),           // dispatched by the page's script
          lib.fromUser({ composedPath: () => [] }),        // no isTrusted at all
          lib.fromUser(ev(true, [el(null), el('rationale-prompt')])),  // our own prompt
        ];
        """
    )
    assert out == [True, False, False, False]


def test_handover_rules() -> None:
    out = run_js(
        """
        const s = 'http://127.0.0.1:8765';
        const d = (settings, origin, offer) => lib.handoverDecision(settings, origin, offer).action;
        return [
          d({ server: s, token: '' }, s, { token: 'pt-aaaaaaaa' }),
          d({ server: s + '/', token: 'pt-old-token' }, s, { token: 'pt-aaaaaaaa', server: s }),
          d({ server: s, token: '' }, 'https://evil.test', { token: 'pt-aaaaaaaa', server: s }),
          d({ server: s, token: 'pt-old-token' }, 'https://evil.test', { token: 'pt-aaaaaaaa' }),
          d(null, 'https://evil.test', { token: 'pt-aaaaaaaa' }),
          d(null, s, { token: 'pt-aaaaaaaa', server: 'https://evil.test' }),
          d(null, s, { token: 'short' }),
          d(null, 'file:///x', { token: 'pt-aaaaaaaa' }),
          lib.participantChanged({ server: s, token: 'a' }, { server: s, token: 'a' }),
          lib.participantChanged({ server: s, token: 'a' }, { server: s, token: 'b' }),
          lib.takeBatch({ events: [{ a: 'é' }, { a: 'x'.repeat(50) }], rationales: [{ b: 1 }] },
                        200, 60),
        ];
        """
    )
    # nothing is ever left pending for approval: no configured server, no handover
    assert out[:8] == ["accept", "accept", "ignore", "ignore", "ignore", "ignore", "ignore",
                       "ignore"]  # fmt: skip
    assert out[8:10] == [False, True]
    # 29 bytes of envelope + '{"a":"é"}' (10 bytes) + a comma; the next would pass 60 bytes
    assert out[10] == {"events": [{"a": "é"}], "rationales": [{"b": 1}], "bytes": 29 + 11 + 8}


def test_the_options_page_shows_the_offering_origin() -> None:
    out = run_js(
        """
        const s = { server: 'http://127.0.0.1:8765', token: 'pt-x' };
        const seen = (origin, action) => ({ origin, action, reason: 'why' });
        return [
          lib.offerNotice(seen('https://evil.test', 'ignore'), s),
          lib.offerNotice(seen('http://127.0.0.1:8765', 'accept'), s),
          lib.offerNotice(null, s),
        ];
        """
    )
    assert out[0]["origin"] == "https://evil.test" and out[0]["warning"] is True
    assert out[0]["linked"] is False and "ignored" in out[0]["text"]
    assert out[1] == {
        "origin": "http://127.0.0.1:8765",
        "linked": True,
        "text": "linked this extension to your study (your configured server).",
        "warning": False,
    }
    assert out[2] is None
    page = (LIB.parent / "options.html").read_text()
    assert '<p id="offer-origin">' in page and "font: bold 1.5rem" in page  # prominent
    assert page.index('src="lib.js"') < page.index('src="options.js"')


def test_a_rationale_waits_for_its_event() -> None:
    out = run_js(
        """
        const ev = (id, n) => ({ event_id: id, pad: 'x'.repeat(n) });
        const why = (id) => ({ event_id: id, rationale: 'r' });
        const queue = { events: [ev('e1', 10), ev('e2', 500)], rationales: [why('e2'), why('e0')] };
        return [lib.takeBatch(queue, 200, 200), lib.takeBatch(queue, 200, 10000)];
        """
    )
    # e2 does not fit: its rationale stays queued; e0 was sent (and acknowledged) before
    assert [e["event_id"] for e in out[0]["events"]] == ["e1"]
    assert [w["event_id"] for w in out[0]["rationales"]] == ["e0"]
    assert [w["event_id"] for w in out[1]["rationales"]] == ["e2", "e0"]
