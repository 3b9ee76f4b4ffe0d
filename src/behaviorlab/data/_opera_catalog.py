"""The synthetic shop's catalog: 60 invented products (six categories, three made-up brands
each) with prices, ratings, options and review snippets. Deterministic given the seed.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

_CATEGORIES: dict[
    str, tuple[tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]], tuple[int, int]]
] = {
    "running shoes": (
        ("Stridewell", "Pacerra", "Trailhawk"),
        ("Road Running Shoe", "Trail Running Shoe", "Lightweight Trainer"),
        {"size": ("7", "8", "9", "10", "11"), "color": ("Black", "Blue", "Grey")},
        (39, 149),
    ),
    "coffee maker": (
        ("BrewMaster", "Kaffeo", "Morningside"),
        ("12-Cup Drip Coffee Maker", "Single Serve Brewer", "Pour Over Coffee Maker"),
        {"color": ("Black", "Stainless Steel", "White")},
        (22, 219),
    ),
    "wireless earbuds": (
        ("Sonique", "Auralux", "Tunely"),
        ("Wireless Earbuds", "Noise Cancelling Earbuds", "Sport Earbuds"),
        {"color": ("Black", "White", "Navy")},
        (19, 249),
    ),
    "backpack": (
        ("Trekkara", "UrbanPack", "Nomadi"),
        ("Laptop Backpack", "Hiking Daypack", "Travel Backpack"),
        {"color": ("Black", "Olive", "Charcoal"), "size": ("20L", "30L")},
        (24, 159),
    ),
    "water bottle": (
        ("HydroPeak", "Aqualine", "Flaskwell"),
        ("Insulated Water Bottle", "Sports Bottle", "Stainless Steel Tumbler"),
        {"size": ("18 oz", "32 oz", "40 oz"), "color": ("Black", "Sage", "Coral")},
        (9, 49),
    ),
    "desk lamp": (
        ("Lumina", "BrightNest", "Glowden"),
        ("LED Desk Lamp", "Architect Lamp", "Clip-On Reading Light"),
        {"color": ("White", "Black", "Silver")},
        (15, 119),
    ),
}
CATEGORIES = tuple(_CATEGORIES)
_MODELS = ("Pro", "Lite", "Max", "Air", "Classic", "Flex", "Ultra", "Go", "Prime", "Edge")
_REVIEW_LINES = {
    5: ("Exactly what I wanted.", "Great quality for the price.", "Would buy again."),
    4: ("Good, with small flaws.", "Solid, but shipping was slow.", "Does the job well."),
    3: ("It is okay.", "Average build quality.", "Fine for occasional use."),
    2: ("Broke after a month.", "Not as described.", "Smaller than expected."),
}


def json_text(value: Any) -> str:
    """Compact JSON text of a non-empty value, ``""`` for an empty one (OPeRA's nested
    ``element_meta.data`` is such a string)."""
    return json.dumps(value, separators=(",", ":")) if value else ""


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True)
class Product:
    asin: str
    title: str
    brand: str
    category: str
    price: float
    rating: float
    ratings: int
    options: dict[str, tuple[str, ...]]
    bullets: tuple[str, ...]

    @property
    def slug(self) -> str:
        return slug(self.title)[:60]

    @property
    def price_text(self) -> str:
        return f"${self.price:,.2f}"

    def summary(self, quantity: int = 1, chosen: dict[str, str] | None = None) -> dict[str, Any]:
        """The product as OPeRA's ``products`` entries: asin, title, price, quantity, options."""
        options = [f"{k.title()}: {v}" for k, v in (chosen or {}).items()]
        return {
            "asin": self.asin,
            "title": self.title,
            "price": self.price_text,
            "quantity": quantity,
            "options": options,
        }


def make_catalog(seed: int, per_category: int = 10) -> list[Product]:
    """``per_category`` invented products in each of the six categories (60 by default)."""
    rng = random.Random(f"behaviorlab-opera-catalog-{seed}")
    products: list[Product] = []
    for category, (brands, nouns, options, (low, high)) in _CATEGORIES.items():
        for i in range(per_category):
            brand = brands[i % len(brands)]
            model = f"{rng.choice(_MODELS)} {rng.randint(2, 9)}"
            noun = rng.choice(nouns)
            title = f"{brand} {model} {noun}"
            if any(p.title == title for p in products):
                title = f"{title} ({rng.choice(('2024 Edition', 'Value Pack', 'Gen 2'))})"
            price = round(rng.uniform(low, high), 0) - 0.01
            products.append(
                Product(
                    asin=f"SYN{len(products) + 1:07d}",
                    title=title,
                    brand=brand,
                    category=category,
                    price=price,
                    rating=round(rng.uniform(3.1, 4.9), 1),
                    ratings=rng.randint(12, 9800),
                    options={k: v for k, v in options.items() if rng.random() < 0.85},
                    bullets=(
                        f"{noun} by {brand}, model {model}",
                        rng.choice(("Lightweight", "Durable", "Compact", "Easy to clean"))
                        + " design",
                        f"{rng.randint(1, 3)}-year limited warranty",
                    ),
                )
            )
    return products


@dataclass
class CartItem:
    product: Product
    quantity: int
    chosen: dict[str, str]


def review_lines(p: Product, rng: random.Random, n: int = 3) -> list[tuple[int, str]]:
    out = []
    for _ in range(n):
        stars = max(2, min(5, round(rng.gauss(p.rating, 0.8))))
        out.append((stars, rng.choice(_REVIEW_LINES[stars])))
    return out
