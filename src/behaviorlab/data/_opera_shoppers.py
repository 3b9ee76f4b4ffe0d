"""The synthetic shoppers: five shopping styles, each with a survey persona in OPeRA's shape
(demographics, self description, shopping preferences, Big Five scores) marked
``"synthetic": true``, a raw survey, and for every other shopper an interview, plus the short
rationales the scripts attach to about one action in ten.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from behaviorlab.data import _opera_catalog as goods
from behaviorlab.data._records import Person

STYLES = ("bargain", "brand_loyal", "review_reader", "browser", "quality")


_PROFILE = {  # style → (most important factor, reads reviews, self description)
    "bargain": (
        "Low price",
        "Sometimes",
        "I am careful with money and always look for the "
        "lowest price. Brand names rarely matter to me.",
    ),
    "brand_loyal": (
        "Brand",
        "Rarely",
        "I know what I like and stick to brands I trust. Once I find it I buy quickly.",
    ),
    "review_reader": (
        "Customer reviews",
        "Always",
        "I research before I buy and read reviews carefully. I do not mind taking time to compare.",
    ),
    "browser": (
        "Discovering new products",
        "Sometimes",
        "I enjoy browsing online shops to see what is new. I often look around without buying.",
    ),
    "quality": (
        "Quality",
        "Often",
        "I prefer well-made things and will pay more for them. "
        "Ratings matter more to me than price.",
    ),
}
RATIONALES: dict[str, str | dict[str, str]] = {
    "input": "Looking for {query}.",
    "filter": {
        "bargain": "Cheapest first.",
        "quality": "Best rated first.",
        "review_reader": "Only well reviewed ones.",
        "*": "Narrowing it down.",
    },
    "product_link": {
        "bargain": "This is the cheapest one.",
        "brand_loyal": "It is {brand}.",
        "review_reader": "Good rating, want to read more.",
        "quality": "Highest rated here.",
        "*": "Looks interesting.",
    },
    "review": "Want to see what other buyers say.",
    "product_option": "I want it in {value}.",
    "purchase": {
        "bargain": "Good price, buying it.",
        "brand_loyal": "My usual brand.",
        "review_reader": "The reviews convinced me.",
        "*": "Worth it.",
    },
    "terminate": {"bought": "Done, I got what I needed.", "*": "Nothing I liked enough today."},
    "search": "Searching for {query}.",
    "suggested_term": "That suggestion is closer to what I want.",
    "page_related": "Want to see more options.",
    "quantity": "Changing how many I get.",
    "cart_side_bar": "Let me check my cart.",
    "cart_page_select": "Making sure the right items are selected.",
    "nav_bar": "Let me look at my cart.",
    "other": "Want more details first.",
    "*": "Just checking.",
}
"""A short self-reported rationale per action kind (click type), by style where it differs."""
_AGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_INCOMES = (
    "Under $25,000",
    "$25,000-$49,999",
    "$50,000-$74,999",
    "$75,000-$99,999",
    "$100,000-$149,999",
    "$150,000 or more",
)
_EDUCATION = ("High school", "Some college", "Bachelor's degree", "Master's degree", "Doctorate")
_JOBS = ("Employed full-time", "Employed part-time", "Student", "Self-employed", "Retired")
_REGIONS = ("Northeast (US)", "Midwest (US)", "South (US)", "West (US)")
_WINDOWS = ((1920, 934), (1440, 789), (1536, 730), (1280, 632))


@dataclass(frozen=True)
class Shopper:
    user_id: str
    style: str
    interests: tuple[str, ...]
    brands: dict[str, str]  # category → favourite brand
    budget: float
    window: tuple[int, int]
    person: Person


def make_shopper(index: int, catalog: list[goods.Product], rng: random.Random) -> Shopper:
    style = STYLES[index % len(STYLES)]
    uid = f"synth-{rng.getrandbits(32):08x}"
    interests = tuple(rng.sample(goods.CATEGORIES, 2))
    brands = {
        c: rng.choice(sorted({p.brand for p in catalog if p.category == c}))
        for c in goods.CATEGORIES
    }
    budget = {"bargain": 40.0, "quality": 250.0}.get(style, rng.choice((60.0, 90.0, 150.0)))
    factor, reviews, description = _PROFILE[style]
    tilt = {
        "review_reader": "Conscientiousness",
        "browser": "Openness",
        "brand_loyal": "Agreeableness",
        "quality": "Conscientiousness",
    }.get(style, "")
    big_five = {
        t: round(min(5.0, rng.uniform(1.5, 4.5) + (0.8 if t == tilt else 0.0)), 1)
        for t in ("Openness", "Conscientiousness", "Extraversion", "Agreeableness", "Neuroticism")
    }
    demographics = {
        "Age": rng.choice(_AGES),
        "Gender": rng.choice(("Female", "Male", "Non-binary")),
        "Education": rng.choice(_EDUCATION),
        "Employment status": rng.choice(_JOBS),
        "Yearly household income": rng.choice(_INCOMES[:3] if style == "bargain" else _INCOMES),
        "Household size": rng.randint(1, 5),
        "Region": rng.choice(_REGIONS),
    }
    preference = {
        "Monthly online shopping spend": rng.choice(("$0-$50", "$50-$100", "$100-$250", "$250+")),
        "Most important factor when buying": factor,
        "Reads reviews before buying": reviews,
        "Favourite brands": ", ".join(brands[c] for c in interests),
        "Categories of interest": list(interests),
        "Typical budget per item": f"${budget:.0f}",
    }
    survey = {
        "synthetic": True,
        "Demographic Information": demographics,
        "Self Description": {"Two sentence description": description},
        "Shopping Preference": preference,
        "Personality": {"Big Five Scores": big_five},
    }
    raw = {
        f"Q{i + 1}. {k}": v
        for i, (k, v) in enumerate(
            [*demographics.items(), *preference.items(), ("Describe yourself", description)]
        )
    }
    meta: dict[str, Any] = {"survey": survey, "raw_survey": raw}
    processed = None
    if index % 2 == 0:
        meta["interview_transcript"] = (
            f"Interviewer: How do you usually shop online?\nParticipant: {description}\n"
            f"Interviewer: What matters most?\nParticipant: {factor}, mostly."
        )
        processed = f"A synthetic shopper who values {factor.lower()}. {description}"
    person = Person(person_id=uid, text=processed, meta=meta)
    return Shopper(uid, style, interests, brands, budget, rng.choice(_WINDOWS), person)
