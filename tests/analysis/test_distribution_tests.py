"""Wasserstein for ordinal answers (against scipy) and the equivalence tests."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from behaviorlab.analysis import Wasserstein, distribution_tests, estimate, noise_floor
from behaviorlab.analysis._equivalence import tost_pvalue
from behaviorlab.analysis._ordinal import scale_positions, wasserstein

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]

ITEMS = {
    "q1": ["1", "2", "3", "4", "5"],
    "q2": ["-1", "0", "1"],
    "q3": ["a", "b"],
    "q4": ["0", "1"],
}
COLUMNS = [
    "task",
    "simulator",
    "condition",
    "distance",
    "value",
    "low",
    "high",
    "epsilon",
    "p_tost",
    "equivalent",
    "noise_floor",
]


def _survey(
    frame_of: FrameBuilder, rng: np.random.Generator, n_people: int = 40, sharp: float = 1.0
) -> pd.DataFrame:
    rows = []
    truth = {i: rng.dirichlet(np.full(len(o), 2.0)) for i, o in ITEMS.items()}
    for p in range(n_people):
        for item, options in ITEMS.items():
            human = str(rng.choice(options, p=truth[item]))
            probs = dict(
                zip(options, rng.dirichlet(truth[item] * 50 * sharp).tolist(), strict=True)
            )
            rows.append(
                {
                    "person_id": f"p{p:03d}",
                    "item_id": item,
                    "human_answer": human,
                    "answer": max(probs, key=probs.__getitem__),
                    "probabilities": probs,
                    "options": options,
                }
            )
    return frame_of(rows)


def _by_scipy(frame: pd.DataFrame) -> float:
    values = []
    for item, options in ITEMS.items():
        if item == "q3":
            continue  # letters: not ordinal
        rows = frame[frame["item_id"] == item]
        x = np.array([float(o) for o in options])
        human = np.array([(rows["human_answer"] == o).mean() for o in options])
        sim = np.array([np.mean([p[o] for p in rows["probabilities"]]) for o in options])
        values.append(wasserstein_distance(x, x, human, sim) / (x.max() - x.min()))
    return float(np.mean(values))


def test_wasserstein_matches_scipy_on_numeric_codes(
    frame_of: FrameBuilder, rng: np.random.Generator
) -> None:
    frame = _survey(frame_of, rng)
    est = estimate(frame, Wasserstein(), n_resamples=200)
    assert est is not None and est.value == pytest.approx(_by_scipy(frame), abs=1e-12)
    assert est.method == "cluster-bootstrap-basic" and 0.0 <= est.low <= est.high <= 1.0
    assert est.n == 40 * 3  # the letter item is left out


def test_two_option_items_equal_total_variation(
    frame_of: FrameBuilder, rng: np.random.Generator
) -> None:
    frame = _survey(frame_of, rng)
    binary = frame[frame["item_id"] == "q4"]
    w, tv = estimate(binary, Wasserstein()), estimate(binary, "total_variation")
    assert w is not None and tv is not None and w.value == pytest.approx(tv.value)


def test_scale_range_comes_from_the_options_shown() -> None:
    items = np.array(["i", "i", "j"], dtype=object)
    codes = np.array(["2", "3", "x"], dtype=object)
    u = scale_positions(items, codes, {"i": {"1", "2", "3", "5"}})
    np.testing.assert_allclose(u[:2], [0.25, 0.5])
    assert math.isnan(u[2])
    # opposite ends of the scale are at distance 1
    assert wasserstein(np.array([1.0, 0, 0]), np.array([0, 0, 1.0]), np.array([0, 0.5, 1])) == 1.0


def test_not_applicable_without_ordinal_items(frame_of: FrameBuilder) -> None:
    rows = [{"person_id": "p", "item_id": "q", "human_answer": "a", "probabilities": {"a": 1.0}}]
    frame = frame_of(rows)
    assert estimate(frame, Wasserstein()) is None
    assert not noise_floor(frame, "wasserstein").ok


def test_wasserstein_noise_floor(frame_of: FrameBuilder, rng: np.random.Generator) -> None:
    frame = _survey(frame_of, rng, n_people=60)
    floor = noise_floor(frame, "wasserstein", n_splits=100)
    js = noise_floor(frame, "js_distance", n_splits=100)
    assert floor.ok and 0 < floor.value < js.value and floor.n_clusters == 60


def test_tost_pvalue_counts_replicates_at_or_above_epsilon() -> None:
    reps = np.array([0.01, 0.02, 0.03, 0.04, np.nan, 0.06])
    assert tost_pvalue(reps, 0.035) == pytest.approx(3 / 6)
    assert tost_pvalue(reps, 0.1) == pytest.approx(1 / 6)
    assert math.isnan(tost_pvalue(np.array([np.nan]), 0.1))


def test_distribution_tests_table(frame_of: FrameBuilder, rng: np.random.Generator) -> None:
    frame = _survey(frame_of, rng, n_people=60)
    table = distribution_tests(frame, epsilon=0.3, n_resamples=300)
    assert list(table.columns) == COLUMNS
    assert list(table["distance"]) == ["js_distance", "total_variation", "wasserstein"]
    js = estimate(frame, "js_distance", n_resamples=300)
    row = table.iloc[0]
    assert js is not None and (row["value"], row["low"], row["high"]) == (js.value, js.low, js.high)
    floor = noise_floor(frame, "js_distance")
    assert row["noise_floor"] == floor.value
    # a simulator that knows the answer distributions is within a generous margin ...
    assert table["equivalent"].all() and (table["p_tost"] < 0.05).all()
    # ... but cannot be shown to be within a margin below the sampling noise
    strict = distribution_tests(frame, epsilon=0.01, n_resamples=300)
    assert not strict["equivalent"].any() and (strict["epsilon"] == 0.01).all()
    assert strict["equivalent"].dtype == bool


def test_no_distributions_gives_an_empty_table(frame_of: FrameBuilder) -> None:
    rows = [{"person_id": "p", "item_id": "q", "human_answer": "a", "answer": "a"}]
    table = distribution_tests(frame_of(rows))
    assert table.empty and list(table.columns) == COLUMNS
