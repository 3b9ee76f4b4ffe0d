"""The demo shop (``behaviorlab collect shop``): a small local shop to try the capture on.

Search with suggested terms, result lists with filters (category, price range, rating) and
sorting, product pages with options, quantity and reviews, a cart side bar, a cart page with
item selection, and a checkout whose "Place your order" is the purchase (nothing is paid).
The catalogue is invented (:mod:`._shop_catalog`); carts live in memory, one per browser.

Every element a shopper can act on has a stable ``id`` (unique containers such as
``nav_bar``, ``search_results``, ``product_options``) or a ``data-name`` (repeated parts such
as a product card's ``product_title``), so the extension's semantic ids are stable paths like
``search_results.strideline_running_shoes.product_title``. Product elements carry
``data-asin``, ``data-title`` and ``data-price`` (and ``data-quantity``, ``data-options`` in
the cart) for the ``products`` column.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from behaviorlab.collect._shop_cart import ShopState, new_cart_id
from behaviorlab.collect._shop_catalog import (
    BY_ASIN,
    CATALOGUE,
    CATEGORIES,
    PRICE_RANGES,
    RATINGS,
    SORTS,
    SUGGESTED_TERMS,
    SearchQuery,
    related,
    search,
    slug,
)

HERE = Path(__file__).parent
CART_COOKIE = "bl_shop_cart"
PAGE_SIZE = 12
SHIPPING_ADDRESS = "1 Demo Street, Exampletown (invented)"


def search_url(params: dict[str, Any], **changes: Any) -> str:
    """A result list's URL with some parameters changed (back to page 1 unless ``page``)."""
    merged = {**params, "page": None, **changes}
    return "/search?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def product_url(asin: str, chosen: dict[str, str], qty: int, **changes: Any) -> str:
    """A product page's URL with its chosen options, quantity and some changes."""
    merged: dict[str, Any] = {**chosen, "qty": qty if qty != 1 else None, **changes}
    query = urlencode({k: v for k, v in merged.items() if v not in (None, "")})
    return f"/product/{asin}" + (f"?{query}" if query else "")


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["slug"] = slug
    templates.env.filters["tojson_attr"] = lambda v: json.dumps(v, sort_keys=True)
    templates.env.globals.update(
        categories=CATEGORIES,
        suggested_terms=SUGGESTED_TERMS,
        sorts=SORTS,
        price_ranges=PRICE_RANGES,
        ratings=RATINGS,
        search_url=search_url,
        product_url=product_url,
    )
    return templates


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (the shop's forms are all urlencoded; no multipart needed)."""
    body = (await request.body())[:10_000].decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def create_shop_app() -> FastAPI:
    """The shop as a FastAPI app (state in memory: a fresh, empty shop per app)."""
    app = FastAPI(title="behaviorlab demo shop", docs_url=None, redoc_url=None, openapi_url=None)
    templates = _templates()
    state = ShopState()

    def cart_id(request: Request) -> str:
        cid = request.cookies.get(CART_COOKIE) or getattr(request.state, "cart_id", None)
        if not cid:
            cid = new_cart_id()
        request.state.cart_id = cid
        return str(cid)

    def render(request: Request, name: str, page: str, **context: Any) -> Response:
        cart = state.cart(cart_id(request))
        response = templates.TemplateResponse(
            request, name, {"page": page, "cart": cart, "q": "", **context}
        )
        response.set_cookie(CART_COOKIE, cart_id(request), httponly=True, samesite="lax")
        return response

    def redirect(request: Request, url: str) -> Response:
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(CART_COOKIE, cart_id(request), httponly=True, samesite="lax")
        return response

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return render(request, "shop_home.html", "home", featured=list(CATALOGUE[::5]))

    @app.get("/search", response_class=HTMLResponse)
    def search_page(
        request: Request,
        q: str = "",
        category: str | None = None,
        price: str | None = None,
        min_rating: str | None = None,
        sort: str = "featured",
        page: int = 1,
    ) -> Response:
        query = SearchQuery(
            q=q.strip()[:200],
            category=category if category in CATEGORIES else None,
            price=price if price in PRICE_RANGES else None,
            min_rating=_int(min_rating),
            sort=sort if sort in SORTS else "featured",
        )
        found = search(query)
        pages = max(1, math.ceil(len(found) / PAGE_SIZE))
        page = max(1, min(page, pages))
        params = {
            "q": query.q,
            "category": query.category,
            "price": query.price,
            "min_rating": query.min_rating,
            "sort": query.sort,
        }
        return render(
            request,
            "shop_search.html",
            "search",
            q=query.q,
            query=query,
            params={k: v for k, v in params.items() if v not in (None, "")},
            results=found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            total=len(found),
            page_number=page,
            pages=pages,
        )

    @app.get("/product/{asin}", response_class=HTMLResponse)
    def product_page(request: Request, asin: str) -> Response:
        product = BY_ASIN.get(asin)
        if product is None:
            raise HTTPException(404, f"no product {asin!r} in the demo catalogue")
        qp = request.query_params
        chosen = {
            name: qp[name] if qp.get(name) in values else values[0]
            for name, values in product.options.items()
        }
        qty = max(1, min(10, _int(qp.get("qty"), 1) or 1))
        stars = _int(qp.get("review_stars"))
        reviews = [r for r in product.reviews if stars is None or r.stars == stars]
        return render(
            request,
            "shop_product.html",
            "product",
            product=product,
            chosen=chosen,
            qty=qty,
            reviews=reviews,
            review_stars=stars,
            added=qp.get("added") == "1",
            related=related(product),
            close_url=product_url(asin, chosen, qty),
        )

    async def _form_options(request: Request, asin: str) -> dict[str, str]:
        form = await request.form()
        options: dict[str, str] = {}
        for name, values in BY_ASIN[asin].options.items():
            value = str(form.get(f"opt_{name}", ""))
            options[name] = value if value in values else values[0]
        return options

    def _add(
        request: Request, asin: str, options: dict[str, str], qty: int, action: str
    ) -> Response:
        state.add(cart_id(request), asin, options, qty)
        if action == "buy_now":
            return redirect(request, "/cart")
        return redirect(request, product_url(asin, options, 1, added=1))

    @app.post("/cart/add")
    async def cart_add(request: Request) -> Response:
        form = await _form(request)
        asin = form.get("asin", "")
        product = BY_ASIN.get(asin)
        if product is None:
            raise HTTPException(404, f"no product {asin!r} in the demo catalogue")
        options = {}
        for name, values in product.options.items():
            value = form.get(f"opt_{name}", "")
            options[name] = value if value in values else values[0]
        state.add(cart_id(request), asin, options, _int(form.get("qty"), 1) or 1)
        if form.get("action") == "buy_now":
            return redirect(request, "/cart")
        return redirect(request, product_url(asin, options, 1, added=1))

    @app.get("/cart", response_class=HTMLResponse)
    def cart_page(request: Request) -> Response:
        return render(request, "shop_cart.html", "cart")

    @app.post("/cart/quantity")
    async def cart_quantity(request: Request) -> Response:
        form = await _form(request)
        quantity = _int(form.get("quantity"))
        if quantity is not None:
            state.set_quantity(cart_id(request), form.get("line_id", ""), quantity)
        return redirect(request, "/cart")

    @app.post("/cart/select")
    async def cart_select(request: Request) -> Response:
        form = await _form(request)
        state.select(cart_id(request), form.get("line_id") or None, form.get("selected") == "1")
        return redirect(request, "/cart")

    @app.get("/checkout", response_class=HTMLResponse)
    def checkout_page(request: Request) -> Response:
        return render(request, "shop_checkout.html", "checkout", address=SHIPPING_ADDRESS)

    @app.post("/checkout/place")
    def place_order(request: Request) -> Response:
        order = state.place_order(cart_id(request))
        if order is None:
            return redirect(request, "/cart")
        return redirect(request, f"/order/{order.order_id}")

    @app.get("/order/{order_id}", response_class=HTMLResponse)
    def order_page(request: Request, order_id: str) -> Response:
        order = state.orders.get(order_id)
        if order is None:
            raise HTTPException(404, f"no order {order_id!r}")
        return render(request, "shop_order.html", "confirmation", order=order)

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        path = HERE / "static" / name
        if not name.startswith("shop_") or "/" in name or not path.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(path)

    app.state.shop = state
    return app


def serve_shop(host: str, port: int) -> None:
    """Run the demo shop with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_shop_app(), host=host, port=port, log_level="warning")
