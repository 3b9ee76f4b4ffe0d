"""The synthetic shop's pages as simplified HTML (the catalog is in ``_opera_catalog``).

Pages are shaped like OPeRA's simplified HTML of a real shop: every element a shopper can act
on carries its ``semantic_id`` as a ``name`` attribute (dotted paths such as
``nav_bar.search_input`` or ``search_results.<product>.product_title``); chrome nobody acts on
(footer links, legal text) has no name. Page kinds: home, search results (suggested terms,
filters, sort, product cards, pagination), product (options, quantity, add to cart / buy now,
reviews, related products, optionally the cart side bar), cart, checkout, order confirmation.
Prices, ratings, brands and reviews are invented.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from behaviorlab.data._opera_catalog import CATEGORIES, CartItem, Product, slug

SITE = "https://shop.example.com"

# category → (brands, product nouns, options, price range)
SORTS = {
    "featured": "Featured",
    "price_low_to_high": "Price: Low to High",
    "price_high_to_low": "Price: High to Low",
    "avg_customer_review": "Avg. Customer Review",
}


@dataclass(frozen=True)
class Page:
    """A rendered page: its simplified HTML, URL, OPeRA ``page_meta`` and the semantic ids
    present (for the generator's own checks)."""

    kind: str
    html: str
    url: str
    page_meta: dict[str, Any]
    names: frozenset[str]
    listed: tuple[Product, ...] = ()


def _attr(keyword: str) -> str:
    """``aria_label`` → ``aria-label`` (keyword arguments cannot hold dashes)."""
    return keyword.replace("_", "-")


@dataclass
class _Builder:
    parts: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def el(self, tag: str, name: str | None, text: str = "", **attrs: str) -> None:
        attributes = "".join(f' {_attr(k)}="{html.escape(v)}"' for k, v in attrs.items())
        if name is not None:
            self.names.add(name)
            attributes = f' name="{name}"' + attributes
        if tag == "input":
            self.parts.append(f"<input{attributes}/>")
        else:
            self.parts.append(f"<{tag}{attributes}>{html.escape(text)}</{tag}>")

    def open(self, tag: str, name: str | None = None, **attrs: str) -> None:
        attributes = "".join(f' {_attr(k)}="{html.escape(v)}"' for k, v in attrs.items())
        if name is not None:
            attributes = f' name="{name}"' + attributes
        self.parts.append(f"<{tag}{attributes}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")


def _page_meta(query: str, cart: Sequence[CartItem]) -> dict[str, Any]:
    return {
        "search_term": [{"term": query}],
        "cart_items": [
            {
                "title": c.product.title,
                "asin": c.product.asin,
                "price": c.product.price_text,
                "url": f"/dp/{c.product.asin}",
                "quantity": str(c.quantity),
            }
            for c in cart
        ],
    }


def _chrome_top(b: _Builder, title: str, query: str, cart: Sequence[CartItem]) -> None:
    b.parts.append(f"<html><head><title>{html.escape(title)}</title></head><body>")
    b.open("div", "nav_bar", role="navigation", aria_label="Primary")
    b.el("a", "nav_bar.homepage", "shop.example")
    b.open("form", role="search")
    b.el("select", "nav_bar.search_drop_down_list", "All Departments")
    b.el("input", "nav_bar.search_input", type="text", value=query, placeholder="Search")
    b.el("button", "nav_bar.search_button", "Go")
    b.close("form")
    b.el("a", "nav_bar.account_and_list_button", "Hello, sign in")
    b.el("a", "nav_bar.order_button", "Returns & Orders")
    b.el("a", "nav_bar.cart_button", f"Cart {sum(c.quantity for c in cart)}")
    b.close("div")


def _chrome_bottom(b: _Builder) -> None:
    b.open("div", "footer")
    b.el("a", "footer.back_to_top", "Back to top")
    for text in ("Conditions of Use", "Privacy Notice", "Help"):
        b.el("a", None, text)
    b.el("span", None, "© shop.example (a synthetic shop)")
    b.close("div")
    b.parts.append("</body></html>")


def _finish(
    b: _Builder,
    kind: str,
    url: str,
    query: str,
    cart: Sequence[CartItem],
    listed: Sequence[Product] = (),
) -> Page:
    _chrome_bottom(b)
    return Page(
        kind, "".join(b.parts), url, _page_meta(query, cart), frozenset(b.names), tuple(listed)
    )


def home_page(cart: Sequence[CartItem], query: str = "") -> Page:
    b = _Builder()
    _chrome_top(b, "shop.example: online shopping", query, cart)
    b.open("div", "home")
    b.el("h2", None, "Shop by category")
    for category in CATEGORIES:
        b.el("a", f"home.shop_by_category.{slug(category)}", category.title())
    b.el("button", "home.deals_carousel.next_page", "Next deals")
    b.close("div")
    return _finish(b, "home", f"{SITE}/", query, cart)


def results_page(
    query: str,
    products: Sequence[Product],
    cart: Sequence[CartItem],
    *,
    sort: str = "featured",
    page: int = 1,
    suggestions: Sequence[str] = (),
) -> Page:
    b = _Builder()
    _chrome_top(b, f"shop.example: {query}", query, cart)
    if suggestions:
        b.open("div", "suggested_term")
        for term in suggestions:
            b.el("a", f"suggested_term.{slug(term)}", term)
        b.close("div")
    b.open("div", "refinements")
    b.el("span", None, "Brands")
    for brand in sorted({p.brand for p in products}):
        b.el("input", f"refinements.brand.{slug(brand)}", type="checkbox", aria_label=brand)
    b.el("a", "refinements.avg_customer_review.4_stars_and_above", "4 Stars & Up")
    for key, text in (
        ("under_25", "Under $25"),
        ("25_to_50", "$25 to $50"),
        ("50_to_100", "$50 to $100"),
        ("over_100", "$100 & above"),
    ):
        b.el("a", f"refinements.price.{key}", text)
    b.close("div")
    b.open("div", "search_results")
    b.el("span", None, f'1-{len(products)} of over {len(products) * 7} results for "{query}"')
    b.open("select", "search_results.sort_by")
    for key, text in SORTS.items():
        b.el(
            "option",
            f"search_results.sort_by.{key}",
            text,
            selected="true" if key == sort else "false",
        )
    b.close("select")
    for p in products:
        base = f"search_results.{p.slug}"
        b.open("div", base, data_asin=p.asin)
        b.el("a", f"{base}.product_image", "", aria_label=p.title)
        b.el("a", f"{base}.product_title", p.title)
        b.el("span", None, f"{p.rating} out of 5 stars ({p.ratings:,})")
        b.el("span", None, p.price_text)
        b.el("button", f"{base}.add_to_cart", "Add to cart")
        b.close("div")
    b.close("div")
    b.open("div", "pagination")
    if page > 1:
        b.el("a", "pagination.previous", "Previous")
    for n in (1, 2, 3):
        b.el("a", f"pagination.{n}", str(n), aria_current="page" if n == page else "false")
    b.el("a", "pagination.next", "Next")
    b.close("div")
    url = f"{SITE}/s?k={query.replace(' ', '+')}" + (f"&s={sort}" if sort != "featured" else "")
    return _finish(b, "results", url + (f"&page={page}" if page > 1 else ""), query, cart, products)


def product_page(
    p: Product,
    query: str,
    cart: Sequence[CartItem],
    *,
    chosen: dict[str, str],
    quantity: int,
    related: Sequence[Product],
    reviews: Sequence[tuple[int, str]],
    side_bar: bool = False,
) -> Page:
    b = _Builder()
    _chrome_top(b, f"shop.example: {p.title}", query, cart)
    if side_bar:
        b.open("div", "cart_side_bar")
        b.el(
            "span",
            None,
            f"Added to cart. Subtotal: ${sum(c.product.price * c.quantity for c in cart):,.2f}",
        )
        b.el("a", "cart_side_bar.go_to_cart", "Go to Cart")
        b.el("button", "cart_side_bar.proceed_to_checkout", "Proceed to checkout")
        b.close("div")
    b.el("a", f"breadcrumbs.{slug(p.category)}", p.category.title())
    b.el("h1", None, p.title)
    b.el("a", "reviews", f"{p.rating} out of 5 stars, {p.ratings:,} ratings")
    b.open("div", "product_options")
    for option, values in p.options.items():
        b.el("span", None, f"{option.title()}: {chosen.get(option, 'Select')}")
        for value in values:
            b.el(
                "button",
                f"product_options.{option}.button_list.{slug(value)}",
                value,
                aria_pressed="true" if chosen.get(option) == value else "false",
            )
    b.close("div")
    b.open("div", "about_this_item")
    for line in p.bullets:
        b.el("li", None, line)
    b.el("a", "about_this_item.see_more", "See more product details")
    b.close("div")
    b.open("div", "buybox")
    b.el("span", None, p.price_text)
    b.el("span", None, "In Stock")
    b.open("select", "buybox.purchase_form.quantity_selector")
    for n in range(1, 6):
        b.el(
            "option",
            f"buybox.purchase_form.quantity_selector.{n}",
            str(n),
            selected="true" if n == quantity else "false",
        )
    b.close("select")
    b.el("button", "buybox.purchase_form.add_to_cart", "Add to Cart")
    b.el("button", "buybox.purchase_form.buy_now", "Buy Now")
    b.close("div")
    b.open("div", "reviews_section")
    for i, (stars, text) in enumerate(reviews):
        b.el("div", None, f"{stars} stars: {text}", data_review=str(i))
    b.el("a", "reviews.see_all", "See more reviews")
    b.el("a", "reviews.filter_by.critical", "Critical reviews")
    b.close("div")
    b.open("div", "products_related_to_this_item")
    for r in related:
        b.el(
            "a",
            f"products_related_to_this_item.{r.slug}.product_title",
            f"{r.title} {r.price_text}",
        )
    b.el("button", "products_related_to_this_item.next_page", "Next")
    b.close("div")
    return _finish(b, "product", f"{SITE}/dp/{p.asin}", query, cart, [p, *related])


def cart_page(query: str, cart: Sequence[CartItem]) -> Page:
    b = _Builder()
    _chrome_top(b, "shop.example: shopping cart", query, cart)
    b.open("div", "cart_header")
    b.el("h1", None, "Shopping Cart")
    b.el("input", "cart_header.select_all_items", type="checkbox", aria_label="Select all items")
    b.close("div")
    b.open("div", "active_item_list")
    for c in cart:
        base = f"active_item_list.{c.product.slug}"
        b.open("div", base)
        b.el("input", f"{base}.checkbox", type="checkbox", checked="true")
        b.el("a", f"{base}.product_title", c.product.title)
        options = ", ".join(f"{k.title()}: {v}" for k, v in c.chosen.items())
        b.el("span", None, f"{c.product.price_text} {options}".strip())
        b.el("select", f"{base}.quantity", f"Qty: {c.quantity}")
        b.el("button", f"{base}.delete", "Delete")
        b.close("div")
    b.close("div")
    total = sum(c.product.price * c.quantity for c in cart)
    b.el("span", None, f"Subtotal ({sum(c.quantity for c in cart)} items): ${total:,.2f}")
    b.el("button", "check_out", "Proceed to checkout")
    return _finish(b, "cart", f"{SITE}/cart", query, cart, [c.product for c in cart])


def checkout_page(query: str, cart: Sequence[CartItem], address: str) -> Page:
    b = _Builder()
    _chrome_top(b, "shop.example: checkout", query, cart)
    b.open("div", "checkout")
    b.el("span", None, f"Ship to: {address}")
    b.el("a", "checkout.shipping_address.change", "Change")
    b.el("span", None, "Pay with: card ending in 0000 (synthetic)")
    b.el("a", "checkout.payment_method.change", "Change")
    for c in cart:
        b.el("span", None, f"{c.quantity} x {c.product.title} {c.product.price_text}")
    b.el("button", "checkout.place_order", "Place your order")
    b.close("div")
    return _finish(b, "checkout", f"{SITE}/checkout", query, cart, [c.product for c in cart])


def confirmation_page(query: str) -> Page:
    b = _Builder()
    _chrome_top(b, "shop.example: order placed", query, [])
    b.el("h1", None, "Order placed, thank you! (synthetic: nothing was bought)")
    return _finish(b, "confirmation", f"{SITE}/order-confirmation", query, [])


# semantic id → OPeRA click_type, by the first rule that matches
CLICK_RULES: tuple[tuple[str, str], ...] = (
    (r"^nav_bar\.search_(button|input)$", "search"),
    (r"^nav_bar\.", "nav_bar"),
    (r"^suggested_term\.", "suggested_term"),
    (r"^(refinements|search_results\.sort_by)\.", "filter"),
    (
        r"\.add_to_cart$|\.buy_now$|^check_out$|^checkout\.place_order$|proceed_to_checkout$",
        "purchase",
    ),
    (r"^cart_side_bar\.", "cart_side_bar"),
    (r"\.(product_title|product_image)$", "product_link"),
    (r"^product_options\.", "product_option"),
    (r"quantity|\.delete$", "quantity"),
    (r"^reviews", "review"),
    (
        r"^(pagination\.|home\.deals_carousel|products_related_to_this_item\.next_page)",
        "page_related",
    ),
    (r"\.checkbox$|^cart_header\.select_all_items$", "cart_page_select"),
)


def click_type(semantic_id: str) -> str:
    for pattern, kind in CLICK_RULES:
        if re.search(pattern, semantic_id):
            return kind
    return "other"
