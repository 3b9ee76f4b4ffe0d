"""Shares tables with known answers: planted population distributions and a planted simulator.

:func:`planted_table` writes a table the way a published one looks (item, option, count, n,
question, option_label; optionally a group column): each item (and group) has a population
distribution ``P`` (a Dirichlet draw seeded by the item, kept at least
``MIN_PLANTED_TV_UNIFORM`` from uniform) and its counts are one multinomial draw of ``n``
people from it. ``near_uniform`` items have ``P`` exactly uniform and many people asked, so
their observed distribution is near uniform and the score leaves them out.

The ``planted_shares`` simulator answers every item with ``Q = (1 - mix) P + mix D``, ``D`` the
item's options in reverse order of ``P`` (the population's shares given to the options
backwards), so ``TV(P, Q) = mix * TV(P, D)`` and JS, TV and the score of the simulator
against the *population* are known in closed form (:func:`planted_truth`). It knows ``P``
(it is seeded like the data): a yardstick for tests and the docs, not a model of people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._distributions import js_distance, total_variation
from behaviorlab.data._records import Dataset, stable_hash
from behaviorlab.data._sources import dataset
from behaviorlab.families.shares._data import GROUP_SEPARATOR, shares_from_frame
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import TrialInput

MIN_PLANTED_TV_UNIFORM = 0.15
"""A planted (not near-uniform) item's population is at least this far from uniform (TV)."""
NEAR_UNIFORM_N = 100_000
"""People asked on a near-uniform item (observed TV to uniform about 0.002)."""
LABELS = ("Never", "Rarely", "Sometimes", "Often", "Always", "Don't know")
TOPICS = (
    "read a printed newspaper",
    "cook a meal from scratch",
    "talk with a neighbour",
    "take public transport",
    "donate to a charity",
    "exercise for half an hour",
    "vote in a local election",
    "buy something second-hand",
    "volunteer in your community",
    "check the news on your phone",
    "visit a library",
    "repair something yourself",
)


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(int(stable_hash(*parts), 16))


def population(item: str, group: str, n_options: int, seed: int, uniform: bool) -> np.ndarray:
    """The planted population distribution of an item (and group)."""
    if uniform:
        return np.full(n_options, 1.0 / n_options)
    rng = _rng("shares-population", seed, item, group)
    while True:
        p = rng.dirichlet(np.full(n_options, 0.8))
        if total_variation(p, np.full(n_options, 1.0 / n_options)) >= MIN_PLANTED_TV_UNIFORM:
            return np.asarray(p)


def planted_q(p: np.ndarray, mix: float) -> np.ndarray:
    """The planted simulator's distribution: ``(1 - mix) P + mix D``, D = P's shares given to
    the options in reverse order of P."""
    order = np.argsort(p, kind="stable")
    d = np.empty_like(p)
    d[order] = p[order[::-1]]
    return np.asarray((1.0 - mix) * p + mix * d)


@dataclass(frozen=True)
class PlantedUnit:
    item: str
    group: str
    p: np.ndarray
    n: int
    near_uniform: bool


def planted_units(
    items: int = 40,
    groups: Sequence[str] = (),
    options: int = 4,
    near_uniform: int = 4,
    seed: int = 0,
) -> list[PlantedUnit]:
    """The planted items (and groups): the last ``near_uniform`` items are uniform."""
    sizes = (100, 200, 400)
    out = []
    for i in range(items):
        item = f"q{i + 1:02d}"
        uniform = i >= items - near_uniform
        for g in groups or ("",):
            n = NEAR_UNIFORM_N if uniform else sizes[i % len(sizes)]
            out.append(
                PlantedUnit(item, g, population(item, g, options, seed, uniform), n, uniform)
            )
    return out


def planted_table(
    items: int = 40,
    groups: Sequence[str] = (),
    options: int = 4,
    near_uniform: int = 4,
    seed: int = 0,
) -> pd.DataFrame:
    """A shares table drawn from the planted populations (one multinomial draw per unit)."""
    if options > len(LABELS):
        raise ValueError(f"planted_table: at most {len(LABELS)} options, not {options}")
    rows: list[dict[str, Any]] = []
    for u in planted_units(items, groups, options, near_uniform, seed):
        counts = _rng("shares-counts", seed, u.item, u.group).multinomial(u.n, u.p)
        topic = TOPICS[int(u.item[1:]) % len(TOPICS)]
        for k in range(options):
            row: dict[str, Any] = {
                "item": u.item,
                "option": str(k + 1),
                "count": int(counts[k]),
                "n": u.n,
                "question": f"In the past year, how often did you {topic}? (item {u.item})",
                "option_label": LABELS[k],
            }
            if groups:
                row["group"] = u.group
            rows.append(row)
    return pd.DataFrame(rows)


def planted_truth(
    test_items: Sequence[str],
    mix: float,
    *,
    items: int = 40,
    groups: Sequence[str] = (),
    options: int = 4,
    near_uniform: int = 4,
    seed: int = 0,
) -> dict[str, float]:
    """JS, TV and score of the planted simulator against the populations, averaged over the
    units of ``test_items`` (the score over the units that are not near uniform)."""
    keep = set(test_items)
    units = [u for u in planted_units(items, groups, options, near_uniform, seed) if u.item in keep]
    p = np.array([u.p for u in units])
    q = np.array([planted_q(u.p, mix) for u in units])
    tv = total_variation(p, q)
    tvu = total_variation(p, np.full_like(p, 1.0 / options))
    scored = np.array([not u.near_uniform for u in units])
    return {
        "js": float(js_distance(p, q).mean()),
        "tv": float(tv.mean()),
        "score": float((100.0 * (1.0 - tv[scored] / tvu[scored])).mean()),
    }


@dataset("shares_synthetic")
def shares_synthetic(
    items: int = 40,
    groups: list[str] | None = None,
    options: int = 4,
    near_uniform: int = 4,
    seed: int = 0,
    people: int | None = None,
) -> Dataset:
    """Planted shares (see :func:`planted_table`): ``items`` items, ``near_uniform`` of them
    uniform, optional ``groups``; ``people`` samples that many items."""
    frame = planted_table(items, groups or (), options, near_uniform, seed)
    mapping = {"group": ["group"]} if groups else None
    return shares_from_frame(
        frame, mapping, origin="shares_synthetic", items=people, seed=seed, name="shares_synthetic"
    )


@simulator("planted_shares")
class PlantedSimulator:
    """Answers each planted item with ``(1 - mix) P + mix D`` (see the module docstring);
    ``data_seed``, ``items`` and ``near_uniform`` must be the data's."""

    def __init__(
        self,
        mix: float = 0.3,
        data_seed: int = 0,
        items: int = 40,
        near_uniform: int = 4,
        label: str | None = None,
    ) -> None:
        self.mix = float(mix)
        self.data_seed = int(data_seed)
        self.items = int(items)
        self.near_uniform = int(near_uniform)
        self.label = label or f"planted:{self.mix:g}"

    def fit(self, train: Sequence[Any]) -> None:
        return None

    def identity(self) -> dict[str, Any]:
        return {
            "simulator": "planted_shares",
            "mix": self.mix,
            "data_seed": self.data_seed,
            "items": self.items,
            "near_uniform": self.near_uniform,
        }

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        item, _, group = trial.item_id.partition(GROUP_SEPARATOR)
        try:
            ordered = sorted(codes, key=int)  # the planted tables' codes are 1..K
            index = int(item.removeprefix("q"))
        except ValueError:
            return Answer(
                error=f"planted_shares: item {item!r} is not from shares_synthetic",
                error_kind="invalid",
            )
        uniform = index > self.items - self.near_uniform
        p = population(item, group, len(ordered), self.data_seed, uniform)
        q = planted_q(p, self.mix)
        probs = {c: float(q[k]) for k, c in enumerate(ordered)}
        choice = max(ordered, key=lambda c: probs[c])
        return Answer(choice=choice, value={"answer": choice}, probabilities=probs, raw="planted")
