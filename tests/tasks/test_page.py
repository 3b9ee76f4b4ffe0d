"""Page rendering: simplified HTML → compact text with every actionable element kept."""

from __future__ import annotations

import re

import pytest

from behaviorlab.data import Dataset, load_opera, make_synthetic_opera
from behaviorlab.families.next_action import RenderedPage, render_page

NAME = re.compile(r'name="([^"]+)"')


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    root = make_synthetic_opera(tmp_path_factory.mktemp("opera"), users=5, sessions_per_user=3)
    return load_opera(root).dataset


def page_of(data: Dataset, url_part: str) -> tuple[str, RenderedPage]:
    for ep in data.episodes:
        for step in ep.steps:
            url = step.observation.url or ""
            if url_part in url:
                html = step.observation.content
                return html, render_page(html, url)
    raise AssertionError(f"no page with {url_part!r} in the synthetic data")


def line_of(page: RenderedPage, semantic_id: str) -> str:
    return next(ln for ln in page.text().splitlines() if f"[{semantic_id}]" in ln)


@pytest.mark.parametrize("kind", ["/s?k=", "/dp/", "/cart", "/checkout", ".com/"])
def test_every_named_element_of_a_synthetic_page_is_kept_and_no_markup(
    shop: Dataset, kind: str
) -> None:
    html, page = page_of(shop, kind)
    assert page.semantic_ids() == list(dict.fromkeys(NAME.findall(html)))
    text = page.text()
    assert not re.search(r"</?[a-z]+[ >/]", text)
    assert text.startswith("Page: shop.example")
    for chrome in ("Conditions of Use", "Privacy Notice", "synthetic shop"):
        assert chrome not in text  # footer text nobody acts on
    assert "[footer.back_to_top] link" in text  # the footer's actionable element stays
    assert len(text) < len(html)


def test_search_results_render_cards_with_title_price_and_rating(shop: Dataset) -> None:
    html, page = page_of(shop, "/s?k=")
    cards = re.findall(r'<div name="(search_results\.[^"]+)" data-asin', html)
    assert cards
    for card in cards:
        title = re.search(rf'name="{re.escape(card)}\.product_title">([^<]+)<', html)
        assert title is not None
        summary = line_of(page, card)
        assert f'product "{title.group(1)}"' in summary
        assert re.search(r"\| \$\d+\.\d\d \| \d\.\d out of 5 stars", summary)
        assert line_of(page, f"{card}.product_title").endswith("link (title)")
        assert 'button "Add to cart"' in line_of(page, f"{card}.add_to_cart")
    assert line_of(page, "refinements.avg_customer_review.4_stars_and_above").strip() == (
        '[refinements.avg_customer_review.4_stars_and_above] link "4 Stars & Up"'
    )
    assert "checkbox" in line_of(page, next(n for n in page.semantic_ids() if ".brand." in n))
    sort = [ln for ln in page.text().splitlines() if "search_results.sort_by." in ln]
    assert sum("[selected]" in ln for ln in sort) == 1
    assert all(" option " in ln for ln in sort)


def test_product_page_keeps_options_buybox_and_review_text(shop: Dataset) -> None:
    html, page = page_of(shop, "/dp/")
    text = page.text()
    assert '[buybox.purchase_form.quantity_selector.1] option "1" [selected]' in text
    assert 'button "Buy Now"' in line_of(page, "buybox.purchase_form.buy_now")
    assert any(" button " in line_of(page, n) for n in page.semantic_ids() if "button_list" in n)
    price = re.search(r"<span>(\$[\d,]+\.\d\d)</span><span>In Stock", html)
    assert price is not None and f"{price.group(1)} In Stock" in text
    assert re.search(r"\d stars: ", text)  # review snippets are visible text
    h1 = re.search(r"<h1>([^<]+)</h1>", html)
    assert h1 is not None and f"# {h1.group(1)}" in text


def test_cart_and_checkout_pages(shop: Dataset) -> None:
    _, cart = page_of(shop, "/cart")
    checkbox = next(n for n in cart.semantic_ids() if n.endswith(".checkbox"))
    assert line_of(cart, checkbox).endswith("checkbox [checked]")
    card = checkbox.removesuffix(".checkbox")
    assert re.search(r'product ".+" \| \$[\d,]+\.\d\d', line_of(cart, card))
    assert 'button "Proceed to checkout"' in line_of(cart, "check_out")
    assert "# Shopping Cart" in cart.text()
    _, checkout = page_of(shop, "/checkout")
    assert 'button "Place your order"' in line_of(checkout, "checkout.place_order")
    assert "Ship to: 1 Example St" in checkout.text()


# --- hand-written pages shaped like OPeRA's simplified HTML ------------------------------

AMAZON_LIKE = """
<html><head><title>Amazon.com : rice cooker</title><style>.a{color:red}</style>
<script>var tracking = 1;</script></head><body>
<div name="nav_bar" role="navigation" aria-label="Primary">
  <div name="nav_bar.homepage">Homepage</div>
  <form role="search">
    <select name="nav_bar.search_drop_down_list"><option>All</option></select>
    <input name="nav_bar.search_input" type="text" value="rice cooker" placeholder="Search Amazon">
    <input name="nav_bar.search_button" type="submit" value="Go">
  </form>
</div>
<div name="4_stars_and_above">
  <h2>4 stars &amp; above</h2>
  <div name="4_stars_and_above.tiger_jbv_s18u_rice_cooker">
    <a name="4_stars_and_above.tiger_jbv_s18u_rice_cooker.product_image"
       ><img alt="Tiger JBV-S18U"></a>
    <a name="4_stars_and_above.tiger_jbv_s18u_rice_cooker.product_title">Tiger JBV-S18U 10-Cup
       Rice Cooker</a>
    <span>4.6 out of 5 stars</span> <span>$139.99</span> <span>Color: White</span>
  </div>
</div>
<div data-asin="B000X"><h2>Zojirushi NS-LAC05</h2><span>$99.00</span>
  <button name="zojirushi.add_to_cart">Add to Cart</button></div>
<div style="display: none"><a name="hidden.by_style">Secret</a></div>
<div hidden><a name="hidden.by_attribute">Secret</a></div>
<div aria-hidden="true"><a name="hidden.by_aria">Secret</a></div>
<input type="hidden" name="hidden.input" value="token">
<noscript>Enable JavaScript</noscript>
<div><div></div><span>  </span></div>
<footer><a>Conditions of Use</a><span>© Amazon</span></footer>
<div id="navFooter"><a name="footer.back_to_top">Back to top</a><a>Careers</a></div>
</body></html>
"""


def test_amazon_shaped_page() -> None:
    page = render_page(AMAZON_LIKE, "https://www.amazon.com/s?k=rice+cooker")
    text = page.text()
    assert page.title == "Amazon.com : rice cooker"
    assert text.splitlines()[:2] == [
        "Page: Amazon.com : rice cooker",
        "URL: https://www.amazon.com/s?k=rice+cooker",
    ]
    for dropped in ("tracking", "color:red", "Secret", "token", "Enable JavaScript", "Careers",
                    "Conditions of Use", "© Amazon"):  # fmt: skip
        assert dropped not in text
    assert not any(n.startswith("hidden.") for n in page.semantic_ids())
    assert line_of(page, "nav_bar").strip() == '[nav_bar] navigation "Primary"'
    assert line_of(page, "nav_bar.homepage").strip() == '[nav_bar.homepage] clickable "Homepage"'
    assert line_of(page, "nav_bar.search_input").strip() == (
        '[nav_bar.search_input] input "Search Amazon" [value "rice cooker"]'
    )
    assert line_of(page, "nav_bar.search_button").strip() == '[nav_bar.search_button] button "Go"'
    card = "4_stars_and_above.tiger_jbv_s18u_rice_cooker"
    assert line_of(page, card).strip() == (
        f'[{card}] product "Tiger JBV-S18U 10-Cup Rice Cooker" | $139.99 | 4.6 out of 5 stars'
        " | Color: White"
    )  # the title link's text wins over the image's alt text
    assert line_of(page, f"{card}.product_title").strip().endswith("link (title)")
    assert line_of(page, f"{card}.product_image").strip().endswith('link "Tiger JBV-S18U"')
    assert "# 4 stars & above" in text
    # an unnamed card (data-asin only): the summary line has no id, its element follows
    lines = text.splitlines()
    i = lines.index('product "Zojirushi NS-LAC05" | $99.00')
    assert lines[i + 1].strip() == '[zojirushi.add_to_cart] button "Add to Cart"'
    assert "[footer.back_to_top] link" in text  # a footer with an actionable element keeps it


def test_roles_state_and_text_fallbacks() -> None:
    html = """<div name="form">
      <div name="form.fake_button" role="button">Apply</div>
      <input name="form.agree" type="checkbox" checked>
      <input name="form.size_m" type="radio" aria-checked="true" aria-label="Medium">
      <textarea name="form.note" placeholder="Write a note"></textarea>
      <a name="form.img_link"><img alt="A red mug"></a>
      <button name="form.off" disabled>Off</button>
      <button name="form.on" aria-pressed="true">On</button>
      <a name="form.page_2" aria-current="page">2</a>
      <a name="form.page_3" aria-current="false">3</a>
      <span name="form.icon" title="Share"></span>
    </div>"""
    page = render_page(html)
    got = {e.semantic_id: (e.role, e.text, e.state) for e in page.elements}
    assert got["form"] == ("group", "", ())
    assert got["form.fake_button"] == ("button", "Apply", ())
    assert got["form.agree"] == ("checkbox", "", ("checked",))
    assert got["form.size_m"] == ("radio", "Medium", ("checked",))
    assert got["form.note"] == ("input", "Write a note", ())
    assert got["form.img_link"] == ("link", "A red mug", ())
    assert got["form.off"] == ("button", "Off", ("disabled",))
    assert got["form.on"] == ("button", "On", ("pressed",))
    assert got["form.page_2"][2] == ("current",) and got["form.page_3"][2] == ()
    assert got["form.icon"] == ("clickable", "Share", ())
    assert all(ln.startswith("  [form.") for ln in page.text().splitlines()[2:])  # indented


def test_malformed_html_entities_whitespace_and_clipping() -> None:
    long = "word " * 100
    html = (
        "<div><p>Fish &amp; chips<b>  now\n\n  </b></div></span></p>"
        f'<a name="x.long">{long}</a><p>{long}</p><div><a name="x.after">After</a>'
    )
    page = render_page(html, max_text=50, max_element_text=30)
    lines = page.text().splitlines()
    assert "Fish & chips now" in lines
    long_line = line_of(page, "x.long")
    assert long_line.endswith('…"') and len(long_line) < 60
    assert any(ln.endswith("…") and len(ln) == 50 for ln in lines)
    assert page.semantic_ids() == ["x.long", "x.after"]  # the unclosed <div> did not hide it


def test_empty_and_text_only_pages() -> None:
    assert render_page("").lines == ()
    assert render_page("<div><div></div> <span></span></div>").lines == ()
    page = render_page("<p>Only text</p>")
    assert page.elements == [] and page.text() == "Page:\nOnly text"
