"""The demo shop's invented catalogue: 40 products in 8 categories, with options and reviews.

Everything is deterministic (built from fixed tables, no randomness), so a page renders the
same for every run and tests can compute expected results by hand. Brands, products,
prices and reviews are made up: this is a demo shop, nothing is for sale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SortKey = Literal["featured", "price_low_to_high", "price_high_to_low", "avg_customer_review"]
SORTS: dict[str, str] = {
    "featured": "Featured",
    "price_low_to_high": "Price: Low to High",
    "price_high_to_low": "Price: High to Low",
    "avg_customer_review": "Avg. Customer Review",
}
PRICE_RANGES: dict[str, tuple[float | None, float | None, str]] = {
    "under_25": (None, 25.0, "Under $25"),
    "25_to_50": (25.0, 50.0, "$25 to $50"),
    "50_to_100": (50.0, 100.0, "$50 to $100"),
    "over_100": (100.0, None, "$100 & above"),
}
RATINGS = (4, 3, 2)
"""The rating filter's thresholds ("4 stars & up", ...)."""

SUGGESTED_TERMS = (
    "running shoes",
    "wireless headphones",
    "coffee mug",
    "hiking backpack",
    "cotton t-shirt",
    "desk lamp",
)

_SIZES_CLOTHES = ("S", "M", "L", "XL")
_SIZES_SHOES = ("7", "8", "9", "10", "11")
_COLOURS = ("Black", "Navy", "Red", "Green", "White")


@dataclass(frozen=True)
class Review:
    author: str
    stars: int
    title: str
    text: str


@dataclass(frozen=True)
class Product:
    asin: str
    title: str
    brand: str
    category: str
    price: float
    options: dict[str, tuple[str, ...]]
    description: str
    reviews: tuple[Review, ...]

    @property
    def slug(self) -> str:
        return slug(self.title)

    @property
    def rating(self) -> float:
        return round(sum(r.stars for r in self.reviews) / len(self.reviews), 1)

    @property
    def price_text(self) -> str:
        return f"${self.price:.2f}"

    def matches(self, query: str) -> bool:
        """Every word of the query appears in the title, brand or category (any case)."""
        haystack = f"{self.title} {self.brand} {self.category}".lower()
        return all(word in haystack for word in _words(query))


# category → (brands, (noun, base price) × 5, option names)
_CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, float], ...], tuple[str, ...]]] = {
    "Shoes": (
        ("Strideline", "Pebblefoot"),
        (
            ("Running Shoes", 64.0),
            ("Trail Running Shoes", 89.0),
            ("Canvas Sneakers", 39.0),
            ("Leather Boots", 119.0),
            ("Slip-on Sandals", 24.0),
        ),
        ("size", "colour"),
    ),
    "Clothing": (
        ("Northloom", "Fablewear"),
        (
            ("Cotton T-Shirt", 14.0),
            ("Merino Sweater", 72.0),
            ("Rain Jacket", 98.0),
            ("Denim Jeans", 49.0),
            ("Fleece Hoodie", 36.0),
        ),
        ("size", "colour"),
    ),
    "Headphones": (
        ("Quietwave", "Bassnook"),
        (
            ("Wireless Headphones", 79.0),
            ("Noise Cancelling Headphones", 149.0),
            ("Wired Earbuds", 12.0),
            ("Wireless Earbuds", 45.0),
            ("Studio Headphones", 110.0),
        ),
        ("colour",),
    ),
    "Kitchen": (
        ("Hearthware", "Copperleaf"),
        (
            ("Coffee Mug", 11.0),
            ("Travel Mug", 19.0),
            ("French Press", 32.0),
            ("Chef Knife", 58.0),
            ("Cast Iron Pan", 44.0),
        ),
        ("colour",),
    ),
    "Bags": (
        ("Trailmark", "Satchelry"),
        (
            ("Hiking Backpack", 84.0),
            ("Laptop Backpack", 56.0),
            ("Tote Bag", 18.0),
            ("Duffel Bag", 62.0),
            ("Waist Pack", 21.0),
        ),
        ("colour",),
    ),
    "Home": (
        ("Lumenry", "Nestform"),
        (
            ("Desk Lamp", 34.0),
            ("Floor Lamp", 89.0),
            ("Throw Blanket", 29.0),
            ("Wall Clock", 27.0),
            ("Scented Candle", 9.0),
        ),
        ("colour",),
    ),
    "Books": (
        ("Inkwell Press", "Paperkite"),
        (
            ("Cookbook for Beginners", 22.0),
            ("Guide to Birdwatching", 18.0),
            ("Mystery Novel", 13.0),
            ("Atlas of Mountains", 42.0),
            ("Notebook Set", 8.0),
        ),
        ("format",),
    ),
    "Sports": (
        ("Peakform", "Rallypoint"),
        (
            ("Yoga Mat", 26.0),
            ("Water Bottle", 15.0),
            ("Jump Rope", 10.0),
            ("Tennis Racket", 95.0),
            ("Dumbbell Pair", 54.0),
        ),
        ("colour",),
    ),
}
_AUTHORS = ("Alex", "Sam", "Robin", "Jordan", "Casey", "Morgan", "Riley", "Taylor")
_REVIEW_TEXTS = {
    5: ("Love it", "Exactly what I wanted, would buy again."),
    4: ("Pretty good", "Does the job well; one small flaw."),
    3: ("It's okay", "Fine for the price, nothing special."),
    2: ("Disappointing", "Quality is lower than the photos suggest."),
}
_STAR_PATTERNS = ((5, 5, 4), (4, 4, 3), (5, 4), (3, 3, 2), (5, 4, 4, 5), (4, 3, 5))


def slug(text: str) -> str:
    """``"Trail Running Shoes"`` → ``"trail_running_shoes"`` (semantic-id segments)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.lower().strip()) if w]


def _options(category: str, names: tuple[str, ...], index: int) -> dict[str, tuple[str, ...]]:
    options: dict[str, tuple[str, ...]] = {}
    for name in names:
        if name == "size":
            options["size"] = _SIZES_SHOES if category == "Shoes" else _SIZES_CLOTHES
        elif name == "format":
            options["format"] = ("Paperback", "Hardcover")
        else:
            options["colour"] = tuple(_COLOURS[(index + k) % len(_COLOURS)] for k in range(3))
    return options


def _build() -> tuple[Product, ...]:
    products: list[Product] = []
    index = 0
    for category, (brands, items, option_names) in _CATEGORIES.items():
        for k, (noun, base) in enumerate(items):
            brand = brands[k % len(brands)]
            stars = _STAR_PATTERNS[index % len(_STAR_PATTERNS)]
            reviews = tuple(
                Review(
                    author=_AUTHORS[(index + j) % len(_AUTHORS)],
                    stars=s,
                    title=_REVIEW_TEXTS[s][0],
                    text=_REVIEW_TEXTS[s][1],
                )
                for j, s in enumerate(stars)
            )
            products.append(
                Product(
                    asin=f"BLDEMO{index + 1:04d}",
                    title=f"{brand} {noun}",
                    brand=brand,
                    category=category,
                    price=base - 0.01,
                    options=_options(category, option_names, index),
                    description=f"A demo {noun.lower()} by {brand} (invented; not for sale).",
                    reviews=reviews,
                )
            )
            index += 1
    return tuple(products)


CATALOGUE: tuple[Product, ...] = _build()
BY_ASIN: dict[str, Product] = {p.asin: p for p in CATALOGUE}
CATEGORIES: tuple[str, ...] = tuple(_CATEGORIES)


@dataclass(frozen=True)
class SearchQuery:
    """A result list's query: words, filters and sort order (all optional)."""

    q: str = ""
    category: str | None = None
    price: str | None = None
    """A key of PRICE_RANGES."""
    min_rating: int | None = None
    sort: str = "featured"


def search(query: SearchQuery) -> list[Product]:
    """The products matching every word and filter, in the asked order (stable)."""
    found = [p for p in CATALOGUE if p.matches(query.q)]
    if query.category:
        found = [p for p in found if p.category == query.category]
    if query.price in PRICE_RANGES:
        low, high, _ = PRICE_RANGES[query.price]
        found = [
            p for p in found if (low is None or p.price >= low) and (high is None or p.price < high)
        ]
    if query.min_rating is not None:
        found = [p for p in found if p.rating >= query.min_rating]
    if query.sort == "price_low_to_high":
        found.sort(key=lambda p: p.price)
    elif query.sort == "price_high_to_low":
        found.sort(key=lambda p: -p.price)
    elif query.sort == "avg_customer_review":
        found.sort(key=lambda p: -p.rating)
    return found


def related(product: Product, n: int = 4) -> list[Product]:
    """Up to ``n`` other products of the same category, in catalogue order."""
    same = [p for p in CATALOGUE if p.category == product.category and p.asin != product.asin]
    return same[:n]
