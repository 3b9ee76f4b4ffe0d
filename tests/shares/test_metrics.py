"""Share metrics: exact values on hand-made distributions, the uniform baseline, near-uniform
items left out and listed, and intervals that hold a planted truth."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

from behaviorlab.analysis import estimate
from behaviorlab.families.shares import TV_UNIFORM_MIN, share_items, share_scores
from behaviorlab.families.shares._metrics import Units, estimate_units
from behaviorlab.families.shares._synthetic import planted_q, planted_units


def _row(
    item: str, p: dict[str, float], q: dict[str, float], n: int, sim: str = "llm:x"
) -> dict[str, Any]:
    return {
        "task": "shares",
        "simulator": sim,
        "condition": "full",
        "person_id": item,
        "item_id": item,
        "error": None,
        "error_kind": None,
        "correct": 1.0,
        "human_answer": max(p, key=lambda c: p[c]),
        "answer": max(q, key=lambda c: q[c]),
        "probabilities": q,
        "samples": None,
        "meta": {"human_shares": p, "human_n": n, "group": {}},
    }


P1 = {"a": 0.7, "b": 0.2, "c": 0.1}
Q1 = {"a": 0.5, "b": 0.3, "c": 0.2}
P2 = {"a": 0.1, "b": 0.1, "c": 0.8}
Q2 = {"a": 0.3, "b": 0.3, "c": 0.4}
P3 = {"a": 0.34, "b": 0.33, "c": 0.33}  # within 0.05 of uniform


def _frame() -> pd.DataFrame:
    return pd.DataFrame([_row("q1", P1, Q1, 200), _row("q2", P2, Q2, 300), _row("q3", P3, Q1, 50)])


def _tv(p: dict[str, float], q: dict[str, float]) -> float:
    return 0.5 * sum(abs(p[c] - q[c]) for c in p)


def test_values_are_the_definitions() -> None:
    scores = share_scores(_frame(), n_resamples=300)
    llm = scores.set_index("simulator").loc["llm:x"]
    js = [
        jensenshannon(list(p.values()), list(q.values()), base=2)
        for p, q in ((P1, Q1), (P2, Q2), (P3, Q1))
    ]
    assert llm["share_js"] == pytest.approx(np.mean(js))
    assert llm["share_tv"] == pytest.approx(np.mean([_tv(P1, Q1), _tv(P2, Q2), _tv(P3, Q1)]))
    u = {c: 1 / 3 for c in "abc"}
    expected = np.mean([100 * (1 - _tv(p, q) / _tv(p, u)) for p, q in ((P1, Q1), (P2, Q2))])
    assert llm["simbench_score"] == pytest.approx(expected)  # q3 left out
    assert llm["n_excluded"] == 1 and llm["n_units"] == 3
    assert llm["share_tv_low"] <= llm["share_tv"] <= llm["share_tv_high"]
    uniform = scores.set_index("simulator").loc["uniform"]
    assert uniform["simbench_score"] == 0.0 and bool(uniform["baseline"])
    assert uniform["share_tv"] == pytest.approx(np.mean([_tv(p, u) for p in (P1, P2, P3)]))


def test_a_simulator_worse_than_uniform_scores_below_zero() -> None:
    worse = {"a": 0.0, "b": 0.1, "c": 0.9}
    scores = share_scores(pd.DataFrame([_row("q1", P1, worse, 100)]), n_resamples=200)
    assert scores.set_index("simulator").loc["llm:x", "simbench_score"] < 0


def test_near_uniform_items_are_listed() -> None:
    items = share_items(_frame())
    out = items.loc[items["excluded"].astype(bool)]
    assert list(out["unit"]) == ["q3"]
    assert float(out["tv_uniform"].iloc[0]) < TV_UNIFORM_MIN
    assert math.isnan(float(out["simbench_score"].iloc[0]))


@pytest.mark.parametrize("seeds", [1, 2, 3])
def test_gap_table_metrics_agree_with_the_point_estimates(seeds: int) -> None:
    """With several seeds a unit has several trials: the gap table's value is still the
    block's (per unit over the averaged distribution, each unit once), not a mean of
    per-trial distances."""
    rng = np.random.default_rng(seeds)
    rows = []
    for seed in range(seeds):
        for row in _frame().to_dict("records"):
            noisy = rng.dirichlet(np.full(3, 2.0))
            rows.append(row | {"seed": seed, "probabilities": dict(zip("abc", noisy, strict=True))})
    rows = rows[:-1]  # one unit with a trial fewer: units still count once
    frame = pd.DataFrame(rows)
    scores = share_scores(frame, n_resamples=200).set_index("simulator").loc["llm:x"]
    for name in ("share_js", "share_tv", "simbench_score"):
        est = estimate(frame, name, n_resamples=200)
        assert est is not None and est.value == pytest.approx(scores[name]), name


def test_samples_give_the_distribution_and_answers_alone_do_not() -> None:
    row = _row("q1", P1, Q1, 100) | {"probabilities": None, "samples": ["a", "a", "b", "c"]}
    bare = _row("q2", P2, Q2, 100) | {"probabilities": None}
    scores = share_scores(pd.DataFrame([row, bare]), n_resamples=100).set_index("simulator")
    llm = scores.loc["llm:x"]
    assert llm["n_units"] == 1 and llm["n_no_distribution"] == 1
    assert llm["share_tv"] == pytest.approx(_tv(P1, {"a": 0.5, "b": 0.25, "c": 0.25}))


def test_noise_floor_shrinks_with_n() -> None:
    small = share_scores(pd.DataFrame([_row("q1", P1, Q1, 20)]), n_resamples=400)
    large = share_scores(pd.DataFrame([_row("q1", P1, Q1, 2000)]), n_resamples=400)
    f_small = small.set_index("simulator").loc["llm:x", "share_tv_floor"]
    f_large = large.set_index("simulator").loc["llm:x", "share_tv_floor"]
    # E TV of a multinomial share from its mean ~ 1/sqrt(n): ten times the people, ~1/3.2
    assert f_large < f_small / 2.5 and f_large > 0


@pytest.mark.parametrize(("mix", "reps", "need"), [(0.0, 8, 7), (0.02, 8, 7), (0.05, 20, 16)])
def test_intervals_hold_the_planted_truth(mix: float, reps: int, need: int) -> None:
    """Replications of the people's counts with a simulator at or near the people (mix 0: the
    population itself, where a distance sits at its boundary 0 and the basic bootstrap never
    covered it): each interval holds the planted truth (measured over 30 replications, B 300:
    30/30 at mix 0, 29-30/30 at 0.02 and 0.05), and an interval that does not hold its own
    point estimate is always flagged as a bound at the noise floor."""
    units = planted_units(items=40, near_uniform=4, seed=0)
    p = np.array([u.p for u in units])
    q = np.array([planted_q(u.p, mix) for u in units])
    n = np.array([u.n for u in units], dtype=float)
    tv = 0.5 * np.abs(p - q).sum(-1)
    keep = np.array([not u.near_uniform for u in units])
    tvu = 0.5 * np.abs(p - 0.25).sum(-1)
    truth = {
        "share_js": float(
            np.mean([jensenshannon(a, b, base=2) for a, b in zip(p, q, strict=True)])
        ),
        "share_tv": float(tv.mean()),
        "simbench_score": float(np.mean(100 * (1 - tv[keep] / tvu[keep]))),
    }
    rng = np.random.default_rng(7)
    ids = [u.item for u in units]
    hits = dict.fromkeys(truth, 0)
    for r in range(reps):
        counts = np.array([rng.multinomial(u.n, u.p) for u in units])
        drawn = Units(ids, ids, np.arange(len(ids)), counts / n[:, None], q, np.ones_like(p), n)
        for name, e in estimate_units(drawn, n_resamples=200, seed=r).items():
            hits[name] += e.low <= truth[name] <= e.high
            assert e.at_floor or e.low <= e.value <= e.high, (name, e)
            if mix == 0.0:  # a perfect simulator: a bound from the metric's boundary
                assert e.at_floor and (e.low == 0.0 or e.high == 100.0), (name, e)
    assert min(hits.values()) >= need, hits


def test_persona_effect_is_paired() -> None:
    from behaviorlab.families.shares import share_effects

    u = {c: 1 / 3 for c in "abc"}
    rows = []
    for i, p in enumerate([P1, P2, P1, P2, P1, P2]):
        rows.append(_row(f"q{i}", p, p, 200))  # full: the people's own shares
        rows.append(_row(f"q{i}", p, u, 200) | {"condition": "no_persona"})
        rows.append(_row(f"q{i}", p, Q1, 200) | {"condition": "same", "simulator": "llm:y"})
        rows.append(_row(f"q{i}", p, Q1, 200) | {"simulator": "llm:y"})
    effects = share_effects(pd.DataFrame(rows), n_resamples=400).set_index("simulator")
    helped = effects.loc["llm:x"]
    assert helped["control"] == "no_persona" and helped["n_units"] == 6
    assert helped["share_tv_difference"] == pytest.approx(-np.mean([_tv(P1, u), _tv(P2, u)]))
    assert helped["share_tv_high"] < 0 and helped["simbench_score_low"] > 0
    same = effects.loc["llm:y"]
    assert same["share_tv_difference"] == 0.0
    assert same["share_tv_low"] == same["share_tv_high"] == 0.0  # identical arms, paired draws


def test_the_block_shows_a_bound_at_the_noise_floor() -> None:
    from behaviorlab.families.shares._report import scores_table

    exact = pd.DataFrame([_row(f"q{i}", p, p, 100) for i, p in enumerate([P1, P2] * 4)])
    scores = share_scores(exact, n_resamples=200)
    row = scores.set_index("simulator").loc["llm:x"]
    assert bool(row["share_tv_at_floor"]) and row["share_tv_low"] == 0.0
    assert bool(row["simbench_score_at_floor"]) and row["simbench_score_high"] == 100.0
    # shares exactly the simulator's (an estimate of 0, below any perfect simulator's): the
    # bound is still the distance the noise floor hides, not 0 and not 1
    assert row["share_tv_floor"] < row["share_tv_high"] < 0.2
    assert 50 < row["simbench_score_low"] < row["simbench_score_floor"]
    cells = scores_table(scores).rows[0]
    assert cells[4] == f"0.00 [≤ {row['share_tv_high']:.2f}]"
    assert cells[5].startswith("100 [≥ ")


def test_samples_noise_is_in_the_floor_and_the_interval() -> None:
    """A perfect simulator that gives 10 samples per unit: its TV is about 0.19 from its own
    sampling alone; the floor says so and its interval holds 0 (a bound at the floor)."""
    rng = np.random.default_rng(3)
    p = {"a": 0.5, "b": 0.3, "c": 0.2}
    exact, sampled = [], []
    for i in range(12):
        exact.append(_row(f"q{i}", p, p, 200))
        draws = list(rng.choice(list(p), size=10, p=list(p.values())))
        sampled.append(_row(f"q{i}", p, p, 200) | {"probabilities": None, "samples": draws})
    people = share_scores(pd.DataFrame(exact), n_resamples=200).set_index("simulator")
    own = share_scores(pd.DataFrame(sampled), n_resamples=200).set_index("simulator")
    floor_people = people.loc["llm:x", "share_tv_floor"]
    row = own.loc["llm:x"]
    assert row["n_samples"] == 10 and people.loc["llm:x", "n_samples"] == 0
    assert row["share_tv_floor"] > 3 * floor_people  # ~0.18 against ~0.04
    assert row["share_tv"] > 2 * floor_people  # the estimate is that far, by noise alone
    assert row["share_tv_low"] <= 0.0 + 1e-12 and bool(row["share_tv_at_floor"])


def test_the_uniform_row_covers_every_unit_of_the_condition() -> None:
    """The computed uniform baseline uses every trial's people in the condition, not the
    units of whichever arm comes first (here one that answered one item of three)."""
    rows = [_row(f"q{i}", p, Q1, 200) for i, p in enumerate([P1, P2, P1])]
    rows.append(_row("q0", P1, Q2, 200, sim="a_first"))
    rows.append(_row("q1", P2, Q2, 200, sim="a_first") | {"probabilities": None})
    scores = share_scores(pd.DataFrame(rows), n_resamples=100).set_index("simulator")
    uniform = scores.loc["uniform"]
    u = {c: 1 / 3 for c in "abc"}
    assert uniform["n_units"] == 3
    assert uniform["share_tv"] == pytest.approx(np.mean([_tv(p, u) for p in (P1, P2, P1)]))
