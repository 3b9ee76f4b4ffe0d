"""The demo shop's carts and orders, kept in memory per browser (a cookie names the cart)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from behaviorlab.collect._shop_catalog import BY_ASIN, Product

MAX_QUANTITY = 10


@dataclass
class CartLine:
    """One product with its chosen options in a cart; ``selected`` lines go to checkout."""

    line_id: str
    product: Product
    options: dict[str, str]
    quantity: int = 1
    selected: bool = True

    @property
    def subtotal(self) -> float:
        return round(self.product.price * self.quantity, 2)

    @property
    def options_text(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.options.items())


@dataclass
class Order:
    order_id: str
    lines: list[CartLine]

    @property
    def total(self) -> float:
        return round(sum(line.subtotal for line in self.lines), 2)


@dataclass
class Cart:
    lines: list[CartLine] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def selected(self) -> list[CartLine]:
        return [line for line in self.lines if line.selected]

    @property
    def selected_total(self) -> float:
        return round(sum(line.subtotal for line in self.selected), 2)

    def line(self, line_id: str) -> CartLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)


class ShopState:
    """Carts by cart id and placed orders; thread-safe (uvicorn may run handlers in threads)."""

    def __init__(self) -> None:
        self._carts: dict[str, Cart] = {}
        self.orders: dict[str, Order] = {}
        self._lock = threading.Lock()

    def cart(self, cart_id: str) -> Cart:
        with self._lock:
            return self._carts.setdefault(cart_id, Cart())

    def add(self, cart_id: str, asin: str, options: dict[str, str], quantity: int) -> CartLine:
        """Add a product (same product and options: the quantities add up, at most 10)."""
        product = BY_ASIN[asin]
        quantity = max(1, min(MAX_QUANTITY, quantity))
        cart = self.cart(cart_id)
        with self._lock:
            for line in cart.lines:
                if line.product.asin == asin and line.options == options:
                    line.quantity = min(MAX_QUANTITY, line.quantity + quantity)
                    return line
            line = CartLine(f"L{len(cart.lines) + 1}", product, dict(options), quantity)
            cart.lines.append(line)
            return line

    def set_quantity(self, cart_id: str, line_id: str, quantity: int) -> None:
        cart = self.cart(cart_id)
        with self._lock:
            line = cart.line(line_id)
            if line is None:
                return
            if quantity <= 0:
                cart.lines.remove(line)
            else:
                line.quantity = min(MAX_QUANTITY, quantity)

    def select(self, cart_id: str, line_id: str | None, selected: bool) -> None:
        """Select one line for checkout (or every line when ``line_id`` is None)."""
        cart = self.cart(cart_id)
        with self._lock:
            for line in cart.lines:
                if line_id is None or line.line_id == line_id:
                    line.selected = selected

    def place_order(self, cart_id: str) -> Order | None:
        """Turn the selected lines into an order (nothing is paid); None if none is selected."""
        cart = self.cart(cart_id)
        with self._lock:
            chosen = [line for line in cart.lines if line.selected]
            if not chosen:
                return None
            cart.lines = [line for line in cart.lines if not line.selected]
            order = Order(f"ORDER-{len(self.orders) + 1:05d}", chosen)
            self.orders[order.order_id] = order
            return order


def new_cart_id() -> str:
    return uuid.uuid4().hex
