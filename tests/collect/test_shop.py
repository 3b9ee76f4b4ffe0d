"""The demo shop: pages render, search / filters / sorting, the cart and the checkout."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from behaviorlab.collect._shop import create_shop_app
from behaviorlab.collect._shop_catalog import BY_ASIN, CATALOGUE, CATEGORIES, SearchQuery, search


@pytest.fixture
def shop() -> TestClient:
    return TestClient(create_shop_app())


def titles(html: str) -> list[str]:
    return re.findall(r'data-name="product_title" class="title">([^<]+)<', html)


def test_catalogue_is_forty_invented_products_with_unique_ids() -> None:
    assert len(CATALOGUE) == 40 and len(CATEGORIES) == 8
    assert len({p.asin for p in CATALOGUE}) == 40
    assert len({p.slug for p in CATALOGUE}) == 40
    shoes = BY_ASIN["BLDEMO0001"]
    assert shoes.title == "Strideline Running Shoes" and shoes.price == 63.99
    assert shoes.options["size"] == ("7", "8", "9", "10", "11")
    assert shoes.rating == 4.7  # reviews 5, 5, 4


def test_home_page_has_nav_bar_suggested_terms_and_demo_notice(shop: TestClient) -> None:
    page = shop.get("/")
    assert page.status_code == 200
    html = page.text
    assert 'id="nav_bar"' in html and 'data-name="search_input"' in html
    assert 'href="/search?q=running%20shoes" data-name="running_shoes"' in html
    assert "nothing is sold" in html
    assert len(titles(html)) == 8  # every fifth product


def test_search_matches_every_word(shop: TestClient) -> None:
    html = shop.get("/search", params={"q": "running shoes"}).text
    assert titles(html) == ["Strideline Running Shoes", "Pebblefoot Trail Running Shoes"]
    assert '2 results for "running shoes"' in html


def test_filters_and_sort_combine(shop: TestClient) -> None:
    params = {"category": "Kitchen", "price": "under_25", "sort": "price_high_to_low"}
    html = shop.get("/search", params=params).text
    # Kitchen: mug 10.99, travel mug 18.99, press 31.99, knife 57.99, pan 43.99
    assert titles(html) == ["Copperleaf Travel Mug", "Hearthware Coffee Mug"]
    assert 'data-name="under_25" aria-current="true"' in html


def test_rating_filter_counts_by_hand() -> None:
    # star patterns cycle every 6 products; averages 4.7, 3.7, 4.5, 2.7, 4.5, 4.0, so
    # products 0, 2, 4, 5 of each cycle have 4 stars & up: 6 cycles × 4 + (36, 38) = 26
    assert len(search(SearchQuery(min_rating=4))) == 26
    ratings = [p.rating for p in search(SearchQuery(sort="avg_customer_review"))]
    assert ratings == sorted(ratings, reverse=True)


def test_pagination_splits_forty_products_in_pages_of_twelve(shop: TestClient) -> None:
    last = shop.get("/search", params={"page": 4}).text
    assert len(titles(last)) == 4 and 'data-name="previous"' in last
    assert 'data-name="next"' not in last


def test_product_page_options_and_quantity(shop: TestClient) -> None:
    html = shop.get("/product/BLDEMO0001", params={"size": "9", "qty": "2"}).text
    assert 'id="product_options"' in html
    assert 'data-name="9" aria-pressed="true"' in html
    assert 'data-name="7" aria-pressed="false"' in html
    assert 'name="opt_size" value="9"' in html and 'name="qty" value="2"' in html
    assert html.count('class="review"') == 3
    five = shop.get("/product/BLDEMO0001", params={"review_stars": "5"}).text
    assert five.count('class="review"') == 2


def test_unknown_product_says_which(shop: TestClient) -> None:
    answer = shop.get("/product/NOPE")
    assert answer.status_code == 404 and "NOPE" in answer.json()["detail"]


def _add(shop: TestClient, asin: str, **form: str) -> str:
    answer = shop.post("/cart/add", data={"asin": asin, **form})
    assert answer.status_code == 200, answer.text  # followed the 303
    return answer.text


def test_cart_side_bar_cart_page_and_checkout(shop: TestClient) -> None:
    side = _add(shop, "BLDEMO0001", opt_size="9", opt_colour="Navy", qty="2")
    assert 'id="cart_side_bar"' in side
    assert 'data-quantity="2"' in side and 'Cart (<span class="cart-count">2</span>)' in side
    _add(shop, "BLDEMO0001", opt_size="9", opt_colour="Navy")  # same options: 3
    _add(shop, "BLDEMO0016", opt_colour="bogus")  # unknown colour: the first one
    cart = shop.app.state.shop  # type: ignore[attr-defined]
    (cart_id,) = cart._carts
    lines = cart.cart(cart_id).lines
    assert [(ln.product.asin, ln.quantity, ln.options) for ln in lines] == [
        ("BLDEMO0001", 3, {"size": "9", "colour": "Navy"}),
        ("BLDEMO0016", 1, {"colour": BY_ASIN["BLDEMO0016"].options["colour"][0]}),
    ]
    page = shop.post("/cart/select", data={"line_id": "L2", "selected": "0"}).text
    assert 'data-selected="false"' in page and "Subtotal (1 selected items): $191.97" in page
    checkout = shop.get("/checkout").text
    assert "3 × Strideline Running Shoes" in checkout and "Coffee Mug" not in checkout
    done = shop.post("/checkout/place")
    assert "Order placed" in done.text and "total $191.97" in done.text
    assert [ln.line_id for ln in cart.cart(cart_id).lines] == ["L2"]  # unselected stays


def test_quantity_change_and_delete(shop: TestClient) -> None:
    _add(shop, "BLDEMO0016")
    page = shop.post("/cart/quantity", data={"line_id": "L1", "quantity": "4"}).text
    assert 'data-quantity="4"' in page
    page = shop.post("/cart/quantity", data={"line_id": "L1", "quantity": "0"}).text
    assert "Your cart is empty" in page
    assert shop.post("/checkout/place").url.path == "/cart"  # nothing selected: no order
