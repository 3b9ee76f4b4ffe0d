"""Distribution distances (JS, TV) against scipy and by hand, and the human noise floor."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from behaviorlab.analysis import (
    ClusterStats,
    cluster_bootstrap,
    estimate,
    js_distance,
    noise_floor,
    total_variation,
)
from behaviorlab.analysis._distributions import JSDistance

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]

ITEM_1 = [  # (person, human answer, probabilities)
    ("p1", "a", {"a": 0.6, "b": 0.4}),
    ("p2", "a", {"a": 0.2, "b": 0.3, "c": 0.5}),
    ("p3", "b", {"b": 1.0}),
]
ITEM_2 = [  # (person, human answer, samples)
    ("p1", "c", ["a", "c", "c", "c"]),
    ("p2", "b", ["b", "b"]),
    ("p3", "b", ["c", "c", "c", "c", "c", "c"]),
]


def _frame(frame_of: FrameBuilder) -> pd.DataFrame:
    rows = [
        {
            "person_id": p,
            "item_id": "q1",
            "human_answer": h,
            "answer": max(pr, key=pr.__getitem__),
            "probabilities": pr,
        }
        for p, h, pr in ITEM_1
    ] + [
        {"person_id": p, "item_id": "q2", "human_answer": h, "answer": s[0], "samples": s}
        for p, h, s in ITEM_2
    ]
    return frame_of(rows)


def _by_hand() -> tuple[list[np.ndarray], list[np.ndarray]]:
    codes = ["a", "b", "c"]
    h1 = np.array([2, 1, 0]) / 3
    s1 = np.array([sum(pr.get(c, 0.0) for _, _, pr in ITEM_1) for c in codes]) / 3
    h2 = np.array([0, 2, 1]) / 3
    s2 = np.array([sum(s.count(c) / len(s) for _, _, s in ITEM_2) for c in codes]) / 3
    return [h1, h2], [s1, s2]


def test_js_distance_matches_scipy_per_item_mean(frame_of: FrameBuilder) -> None:
    est = estimate(_frame(frame_of), "js_distance", n_resamples=100)
    humans, sims = _by_hand()
    expected = np.mean([jensenshannon(h, s, base=2) for h, s in zip(humans, sims, strict=True)])
    assert est is not None and est.value == pytest.approx(expected, abs=1e-12)
    assert est.method == "cluster-bootstrap-basic" and est.low >= 0.0 and est.high <= 1.0


def test_total_variation_by_hand(frame_of: FrameBuilder) -> None:
    est = estimate(_frame(frame_of), "total_variation", n_resamples=100)
    humans, sims = _by_hand()
    expected = np.mean([0.5 * np.abs(h - s).sum() for h, s in zip(humans, sims, strict=True)])
    assert est is not None and est.value == pytest.approx(expected, abs=1e-12)


def test_argmax_answers_alone_give_no_distribution(frame_of: FrameBuilder) -> None:
    frame = frame_of(
        [
            {"person_id": f"p{i}", "item_id": "q", "human_answer": "a", "answer": "a"}
            for i in range(5)
        ]
    )
    assert estimate(frame, "js_distance") is None
    assert estimate(frame, "total_variation") is None


def test_failed_trials_are_left_out_of_both_distributions(frame_of: FrameBuilder) -> None:
    good = {"item_id": "q", "human_answer": "a", "answer": "a", "probabilities": {"a": 1.0}}
    bad = {"item_id": "q", "human_answer": "b", "error": "x", "probabilities": {"b": 1.0}}
    frame = frame_of([good | {"person_id": "p1"}, bad | {"person_id": "p2"}])
    est = estimate(frame, "js_distance", n_resamples=20)
    assert est is not None and est.value == 0.0 and est.n == 1


# no subnormal weights: scipy's reference overflows on them (p = [5e-324, 1] gave inf)
weights = st.floats(min_value=0.0, max_value=10.0, allow_nan=False, allow_subnormal=False)
distributions = st.lists(weights, min_size=2, max_size=8).filter(lambda xs: sum(xs) > 1e-3)


@settings(max_examples=100, deadline=None)
@given(distributions, st.data())
def test_js_distance_is_bounded_symmetric_and_equals_scipy(p: list[float], data: Any) -> None:
    q = data.draw(
        st.lists(weights, min_size=len(p), max_size=len(p)).filter(lambda xs: sum(xs) > 1e-3)
    )
    pa, qa = np.array(p) / sum(p), np.array(q) / sum(q)
    d = float(js_distance(pa, qa))
    assert 0.0 <= d <= 1.0 + 1e-12
    assert d == pytest.approx(float(js_distance(qa, pa)), abs=1e-12)
    with np.errstate(invalid="ignore"):  # scipy takes sqrt of a rounding-error negative
        reference = float(np.nan_to_num(jensenshannon(pa, qa, base=2)))
    assert d == pytest.approx(reference, abs=1e-7)
    assert float(js_distance(pa, pa)) == pytest.approx(0.0, abs=1e-7)
    tv = float(total_variation(pa, qa))
    assert 0.0 <= tv <= 1.0 + 1e-12 and tv == pytest.approx(float(total_variation(qa, pa)))


def test_disjoint_distributions_are_at_distance_one() -> None:
    p, q = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert float(js_distance(p, q)) == pytest.approx(1.0)
    assert float(total_variation(p, q)) == pytest.approx(1.0)


def _people(
    frame_of: FrameBuilder, n: int, rng: np.random.Generator, items: int = 5
) -> pd.DataFrame:
    answers = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=(n, items))
    rows = [
        {"person_id": f"p{p}", "item_id": f"q{i}", "human_answer": str(answers[p, i])}
        for p in range(n)
        for i in range(items)
    ]
    return frame_of(rows)


def test_noise_floor_is_zero_when_everyone_answers_alike(frame_of: FrameBuilder) -> None:
    rows = [
        {"person_id": f"p{p}", "item_id": f"q{i}", "human_answer": "ab"[i % 2]}
        for p in range(10)
        for i in range(4)
    ]
    for distance in ("js_distance", "total_variation"):
        floor = noise_floor(frame_of(rows), distance, n_splits=50)
        assert (floor.value, floor.low, floor.high) == (0.0, 0.0, 0.0)
        assert floor.method == "split-half" and floor.n_clusters == 10 and floor.n == 40


def test_noise_floor_shrinks_with_more_people(frame_of: FrameBuilder, rng: Any) -> None:
    few = noise_floor(_people(frame_of, 20, rng), n_splits=100)
    many = noise_floor(_people(frame_of, 400, rng), n_splits=100)
    assert 0.0 < many.value < few.value / 2
    assert few.low <= few.value <= few.high


def test_noise_floor_counts_each_persons_answer_once(frame_of: FrameBuilder, rng: Any) -> None:
    once = _people(frame_of, 30, rng)
    arms = [("llm:x", "full"), ("llm:x", "no_persona"), ("majority", "full")]
    repeated = pd.concat([once.assign(simulator=s, condition=c) for s, c in arms])
    a, b = noise_floor(once, n_splits=80, seed=3), noise_floor(repeated, n_splits=80, seed=3)
    assert a == b


def test_noise_floor_needs_two_people_and_a_distance(frame_of: FrameBuilder) -> None:
    one = frame_of([{"person_id": "p", "item_id": "q", "human_answer": "a"}])
    assert not noise_floor(one).ok
    with pytest.raises(ValueError, match="distribution distance"):
        noise_floor(one, "accuracy")


def test_basic_interval_covers_a_distance_that_percentile_misses() -> None:
    """Sampling noise in 60 people's answers inflates the distance; the basic interval
    corrects for it, the percentile interval mostly misses the true distance."""
    rng = np.random.default_rng(5)
    n_people, n_items, codes = 60, 8, 3
    truth_p = rng.dirichlet([3.0] * codes, size=n_items)
    sim_q = 0.7 * truth_p + 0.3 * rng.dirichlet([1.0] * codes, size=n_items)
    truth = float(js_distance(truth_p, sim_q).mean())
    metric = JSDistance()
    hits = {"basic": 0, "percentile": 0}
    reps = 100
    for r in range(reps):
        human = np.zeros((n_people, n_items, codes))
        for i in range(n_items):
            human[np.arange(n_people), i, rng.choice(codes, size=n_people, p=truth_p[i])] = 1
        values = np.stack([human, np.broadcast_to(sim_q, human.shape)], axis=-1)
        stats = ClusterStats(np.arange(n_people), values, n_people * n_items)
        for kind in hits:
            est = cluster_bootstrap(stats, metric.value, n_resamples=300, seed=r, interval=kind)  # type: ignore[arg-type]
            hits[kind] += est.low <= truth <= est.high
    assert hits["basic"] / reps >= 0.85
    assert hits["percentile"] / reps < hits["basic"] / reps - 0.2
    assert not math.isnan(truth)
