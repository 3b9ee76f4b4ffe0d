"""One scripted shopping session on the synthetic shop.

The script depends on the shopper's style: ``bargain`` sorts by price and buys the cheapest
within budget, ``brand_loyal`` searches its brand and buys fast (often with Buy Now),
``review_reader`` filters 4 stars and up, opens several products and reads reviews,
``browser`` follows category tiles, suggested terms and pagination and rarely buys,
``quality`` sorts by rating, reads the details and pays more. Every session starts on the home
page. Events marked ``full`` (scrolls, navigations, tab switches) exist only in the full
version, ``terminate`` only in the filtered one, so one simulation feeds both versions with
the same action ids and times.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from behaviorlab.data import _opera_catalog as goods
from behaviorlab.data import _opera_pages as shop
from behaviorlab.data._opera_shoppers import RATIONALES, Shopper
from behaviorlab.data._records import Action, Observation, Rationale


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "it"


@dataclass
class _Event:
    """The fields of a :class:`Step` and the only version it belongs to (None: both)."""

    fields: dict[str, Any]
    only: Literal["filtered", "full"] | None = None


@dataclass
class Session:
    """The browser of one shopper in one session: the current page, the cart, the query, and
    the events recorded so far (each with the page as it was before the action)."""

    shopper: Shopper
    catalog: list[goods.Product]
    rng: random.Random
    now: datetime
    rationale_rate: float
    page: shop.Page = field(init=False)
    cart: list[goods.CartItem] = field(default_factory=list)
    query: str = ""
    events: list[_Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page = shop.home_page(self.cart)

    # --- recording ----------------------------------------------------------------------
    def _emit(
        self,
        kind: str,
        sid: str | None = None,
        *,
        gap: tuple[float, float] = (2, 12),
        only: Literal["filtered", "full"] | None = None,
        value: str | None = None,
        products: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        why: dict[str, str] | None = None,
    ) -> None:
        if sid is not None and sid not in self.page.names:
            raise RuntimeError(f"generator bug: {sid!r} is not on the {self.page.kind} page")
        self.now += timedelta(milliseconds=int(self.rng.uniform(*gap) * 1000))
        attributes: dict[str, Any] = dict(extra or {})
        ctype = shop.click_type(sid) if kind == "click" and sid else None
        if ctype:
            attributes["click_type"] = ctype
        if kind in ("click", "input"):
            w, h = self.shopper.window
            x, y = self.rng.randint(40, w - 40), self.rng.randint(60, h - 40)
            attributes["mouse_position"] = {
                "clientX": x,
                "clientY": y,
                "pageX": x,
                "pageY": y + self.rng.randint(0, 900),
                "screenX": x,
                "screenY": y + 128,
            }
            group = (sid or "").split(".")[0]
            data = products[0] if products and ctype == "product_link" else {}
            attributes["element_meta"] = {"name": group, "data": goods.json_text(data)}
        if only != "full":
            attributes["products"] = products or []
        rationale = None
        if only != "full" and self.rng.random() < self.rationale_rate:
            rationale = Rationale(text=self._why(ctype or kind, why or {}))
        w, h = self.shopper.window
        self.events.append(
            _Event(
                {
                    "step_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                    "timestamp": self.now,
                    "observation": Observation(
                        kind="page",
                        content=self.page.html,
                        url=self.page.url,
                        meta={
                            "window_size": {"width": w, "height": h},
                            "page_meta": self.page.page_meta,
                            "image": "",
                        },
                    ),
                    "action": Action(
                        action_type=kind, target=sid, value=value, attributes=attributes
                    ),
                    "rationale": rationale,
                },
                only,
            )
        )

    def _why(self, kind: str, values: dict[str, str]) -> str:
        entry = RATIONALES.get(kind, RATIONALES["*"])
        if isinstance(entry, dict):
            entry = entry.get(self.shopper.style, entry.get(values.get("outcome", ""), entry["*"]))
        return str(entry).format_map(_Blank(query=self.query, **values))

    def go(self, page: shop.Page, navigation: str = "new page") -> None:
        """The next page: a navigation event in the full version, nothing in the filtered."""
        kind = "tab_activate" if navigation == "tab" else "navigation"
        extra = {"simplified_html_new_page": page.html, "image_new_page": ""}
        if kind == "navigation":
            extra["navigation_type"] = navigation
        self._emit(kind, gap=(0.3, 1.5), only="full", extra=extra)
        self.page = page

    def scroll(self, chance: float = 0.6) -> None:
        while self.rng.random() < chance:
            top = self.rng.randint(200, 2400)
            self._emit(
                "scroll",
                gap=(1, 4),
                only="full",
                extra={
                    "scroll_detail": {
                        "scroll_current_top": str(top),
                        "scroll_current_left": "0",
                        "scroll_distance_x": "0",
                        "scroll_distance_y": str(self.rng.randint(150, 700)),
                    }
                },
            )
            chance /= 2

    def click(
        self,
        sid: str,
        page: shop.Page | None = None,
        *,
        gap: tuple[float, float] = (2, 12),
        products: list[dict[str, Any]] | None = None,
        **why: str,
    ) -> None:
        self._emit("click", sid, gap=gap, products=products, why=why)
        if page is not None:
            self.go(page)

    # --- pages --------------------------------------------------------------------------
    def results(
        self,
        sort: str = "featured",
        brand: str | None = None,
        max_price: float = 1e9,
        min_rating: float = 0.0,
        page: int = 1,
    ) -> shop.Page:
        category = next(c for c in goods.CATEGORIES if c in self.query or self.query in c)
        pool = [
            p
            for p in self.catalog
            if p.category == category
            and (brand is None or p.brand == brand)
            and p.price <= max_price
            and p.rating >= min_rating
        ] or [p for p in self.catalog if p.category == category]
        if brand is None and self.query.split()[0] != category.split()[0]:
            pool.sort(key=lambda p: p.brand.lower() not in self.query)  # the named brand first
        key = {
            "price_low_to_high": lambda p: p.price,
            "price_high_to_low": lambda p: -p.price,
            "avg_customer_review": lambda p: -p.rating,
        }.get(sort)
        shown = sorted(pool, key=key) if key else pool
        if page > 1:
            shown = shown[3:] + shown[:3]
        terms = [f"{category} {w}" for w in ("for women", "for men", "sale")]
        return shop.results_page(
            self.query,
            shown[:8],
            self.cart,
            sort=sort,
            page=page,
            suggestions=self.rng.sample(terms, 2),
        )

    def product(
        self,
        p: goods.Product,
        chosen: dict[str, str] | None = None,
        quantity: int = 1,
        side_bar: bool = False,
    ) -> shop.Page:
        local = random.Random(p.asin)  # the same product shows the same reviews and neighbours
        related = local.sample([q for q in self.catalog if q.category == p.category and q != p], 3)
        return shop.product_page(
            p,
            self.query,
            self.cart,
            chosen=chosen or {},
            quantity=quantity,
            related=related,
            reviews=goods.review_lines(p, local),
            side_bar=side_bar,
        )

    def search(self, text: str) -> None:
        self.query = text
        self._emit("input", "nav_bar.search_input", value=text, gap=(3, 10), why={})
        if self.page.kind == "home":  # the typed text now shows in the search box
            self.page = shop.home_page(self.cart, text)
        if self.rng.random() < 0.5:  # otherwise Enter submitted the search
            self.click("nav_bar.search_button", gap=(0.5, 2))
        self.go(self.results())


def run_session(s: Session) -> None:
    """One scripted shopping session (the page sequence depends on the shopper's style)."""
    rng, who, style = s.rng, s.shopper, s.shopper.style
    category = rng.choice(who.interests)
    brand = who.brands[category]
    if style == "browser" and rng.random() < 0.5:
        s.query = category
        s.click(f"home.shop_by_category.{goods.slug(category)}", s.results())
    else:
        s.search(f"{brand} {category}".lower() if style == "brand_loyal" else category)
    sort = "featured"
    if style in ("bargain", "quality"):
        sort = "price_low_to_high" if style == "bargain" else "avg_customer_review"
        s.click(f"search_results.sort_by.{sort}", s.results(sort))
    if style == "bargain" and rng.random() < 0.5:
        cap = 25.0 if who.budget <= 40 else 50.0
        key = "under_25" if cap == 25.0 else "25_to_50"
        s.click(f"refinements.price.{key}", s.results(sort, max_price=cap))
    if style == "review_reader":
        s.click(
            "refinements.avg_customer_review.4_stars_and_above",
            s.results(sort, min_rating=4.0),
        )
    if style == "brand_loyal" and rng.random() < 0.5:
        s.click(f"refinements.brand.{goods.slug(brand)}", s.results(sort, brand=brand))
    if style == "browser" and rng.random() < 0.6:
        term = rng.choice(sorted(n for n in s.page.names if n.startswith("suggested_term.")))
        s.query = term.removeprefix("suggested_term.").replace("_", " ")
        s.click(term, s.results())
    if style == "browser" and rng.random() < 0.5:
        s.click("pagination.2", s.results(page=2))
    results = s.page
    listed = list(results.listed)
    if style == "review_reader":
        listed.sort(key=lambda p: -p.rating)
    elif style == "brand_loyal":
        listed.sort(key=lambda p: p.brand != brand)
    elif style == "browser":
        rng.shuffle(listed)
    views = {"review_reader": rng.randint(2, 3), "browser": rng.randint(2, 4)}.get(style, 1)
    views = min(views, len(listed))
    chosen_product = listed[0]
    for i, p in enumerate(listed[:views]):
        s.scroll()
        part = "product_title" if rng.random() < 0.8 else "product_image"
        s.click(
            f"search_results.{p.slug}.{part}", s.product(p), products=[p.summary()], brand=p.brand
        )
        s.scroll()
        if style in ("review_reader", "quality") or rng.random() < 0.2:
            s.click("reviews", gap=(5, 20))
            if style == "review_reader" and rng.random() < 0.6:
                s.click("reviews.see_all", gap=(5, 25))
        if style == "quality" and rng.random() < 0.5:
            s.click("about_this_item.see_more", gap=(4, 15))
        if style == "browser" and rng.random() < 0.3:
            s.click("products_related_to_this_item.next_page", gap=(2, 8))
        if i < views - 1:
            s.go(results, "tab" if style == "browser" and rng.random() < 0.3 else "back")
    if style == "review_reader":
        chosen_product = max(listed[:views], key=lambda p: p.rating)
        if chosen_product.asin != s.page.listed[0].asin:
            s.go(results, "back")
            s.click(
                f"search_results.{chosen_product.slug}.product_title",
                s.product(chosen_product),
                products=[chosen_product.summary()],
            )
    p = s.page.listed[0]
    buy_chance = {
        "bargain": 0.8,
        "brand_loyal": 0.85,
        "review_reader": 0.6,
        "browser": 0.15,
        "quality": 0.7,
    }[style] * (1.0 if p.price <= who.budget else 0.3)
    bought = rng.random() < buy_chance
    if bought or (style == "browser" and rng.random() < 0.4):
        chosen: dict[str, str] = {}
        for option, values in p.options.items():
            if style in ("quality", "review_reader", "brand_loyal") or rng.random() < 0.6:
                chosen[option] = rng.choice(values)
                s.click(
                    f"product_options.{option}.button_list.{goods.slug(chosen[option])}",
                    s.product(p, chosen),
                    products=[p.summary(1, chosen)],
                    value=chosen[option],
                )
        quantity = 2 if style in ("bargain", "quality") and rng.random() < 0.3 else 1
        if quantity > 1:
            s.click(
                f"buybox.purchase_form.quantity_selector.{quantity}",
                s.product(p, chosen, quantity),
                products=[p.summary(quantity, chosen)],
            )
        item = goods.CartItem(p, quantity, chosen)
        summary = [p.summary(quantity, chosen)]
        if bought and style == "brand_loyal" and rng.random() < 0.6:
            s.cart.append(item)
            s.click(
                "buybox.purchase_form.buy_now",
                shop.checkout_page(s.query, s.cart, "1 Example St"),
                products=summary,
            )
        else:
            s.cart.append(item)
            s.click(
                "buybox.purchase_form.add_to_cart",
                s.product(p, chosen, quantity, True),
                products=summary,
            )
            if bought and rng.random() < 0.4:
                s.click(
                    "cart_side_bar.proceed_to_checkout",
                    shop.checkout_page(s.query, s.cart, "1 Example St"),
                    products=summary,
                )
            elif bought:
                s.click("cart_side_bar.go_to_cart", shop.cart_page(s.query, s.cart))
                if style == "review_reader" and rng.random() < 0.5:
                    s.click(f"active_item_list.{p.slug}.checkbox", gap=(1, 4))
                    s.click(f"active_item_list.{p.slug}.checkbox", gap=(1, 4))
                s.click(
                    "check_out",
                    shop.checkout_page(s.query, s.cart, "1 Example St"),
                    products=[c.product.summary(c.quantity, c.chosen) for c in s.cart],
                )
        if bought and rng.random() < 0.85:
            s.click(
                "checkout.place_order",
                shop.confirmation_page(s.query),
                products=[c.product.summary(c.quantity, c.chosen) for c in s.cart],
            )
    if not bought and s.cart and rng.random() < 0.7:  # a look at the cart, then leave
        s.click("nav_bar.cart_button", shop.cart_page(s.query, s.cart))
        if rng.random() < 0.5:
            s.click(f"active_item_list.{s.cart[0].product.slug}.delete", gap=(2, 8))
    outcome = "bought" if s.page.kind == "confirmation" else ""
    s._emit("terminate", gap=(2, 20), only="filtered", why={"outcome": outcome})
