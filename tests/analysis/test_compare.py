"""Paired comparisons: sign-flip permutation test, Holm correction, default pairs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from behaviorlab.analysis import compare, paired_effect
from behaviorlab.analysis._compare import COMPARE_COLUMNS, holm, sign_flip_pvalue

COLUMNS = [
    "task",
    "kind",
    "simulator_a",
    "condition_a",
    "simulator_b",
    "condition_b",
    "metric",
    "diff",
    "low",
    "high",
    "p_perm",
    "p_holm",
    "n_people",
    "method",
]


def _brute_force(d: np.ndarray) -> float:
    observed = abs(d.sum())
    flips = [abs(np.dot(s, d)) for s in itertools.product([1.0, -1.0], repeat=len(d))]
    return float(np.mean([f >= observed - 1e-9 for f in flips]))


def test_exact_sign_flip_matches_brute_force(rng: np.random.Generator) -> None:
    for g in (1, 4, 9):
        d = rng.normal(0.3, 1.0, g).round(2)
        assert sign_flip_pvalue(d) == pytest.approx(_brute_force(d))
    assert sign_flip_pvalue(np.array([1.0, 1.0, 1.0])) == pytest.approx(2 / 8)
    assert sign_flip_pvalue(np.zeros(5)) == 1.0
    assert math.isnan(sign_flip_pvalue(np.array([])))


def test_monte_carlo_sign_flip_is_close_to_exact(rng: np.random.Generator) -> None:
    d = rng.normal(0.25, 1.0, 18)
    exact = sign_flip_pvalue(d, exact_max=18)
    approx = sign_flip_pvalue(d, exact_max=16, n_flips=20_000, seed=1)
    assert abs(exact - approx) < 0.015
    assert approx >= 1 / 20_001
    # Monte Carlo p-values never reach zero
    assert sign_flip_pvalue(np.full(40, 1.0), n_flips=10_000) == pytest.approx(1 / 10_001)


def test_holm_matches_statsmodels_and_keeps_nan() -> None:
    p = [0.01, 0.04, math.nan, 0.03, 0.2]
    expected = multipletests([0.01, 0.04, 0.03, 0.2], method="holm")[1]
    out = holm(p)
    assert math.isnan(out[2])
    np.testing.assert_allclose([out[0], out[1], out[3], out[4]], expected)


def test_default_pairs_and_columns(results: pd.DataFrame) -> None:
    table = compare(results, n_resamples=200, n_flips=2000)
    assert list(table.columns) == COLUMNS == list(COMPARE_COLUMNS)
    pairs = list(
        zip(
            table["simulator_a"],
            table["condition_a"],
            table["simulator_b"],
            table["condition_b"],
            strict=True,
        )
    )
    assert pairs == [
        ("llm:probs", "full", "llm:probs", "no_persona"),
        ("llm:probs", "full", "llm:probs", "shuffled_persona"),
        ("llm:argmax", "full", "majority", "full"),
        ("llm:probs", "full", "majority", "full"),
    ]
    assert list(table["kind"]) == ["condition", "condition", "simulator", "simulator"]
    assert (table["p_holm"] >= table["p_perm"]).all() and (table["p_holm"] <= 1).all()
    assert (table["n_people"] == 30).all() and (table["method"] == "cluster-t-cr2").all()
    assert table["n_people"].dtype == np.int64
    row = table.iloc[1]
    est = paired_effect(results, "llm:probs", "full", "shuffled_persona")
    assert (row["diff"], row["low"], row["high"]) == pytest.approx((est.value, est.low, est.high))


def test_several_metrics_share_one_holm_family(results: pd.DataFrame) -> None:
    table = compare(results, metric=["accuracy", "log_loss"], n_resamples=100, n_flips=1000)
    # log-loss does not apply to the argmax-only simulator: that comparison is left out
    assert len(table) == 7 and set(table["metric"]) == {"accuracy", "log_loss"}
    np.testing.assert_allclose(table["p_holm"], holm(table["p_perm"].tolist()))


def test_explicit_pairs_and_a_clear_effect(results: pd.DataFrame) -> None:
    pair = (("llm:probs", "full"), ("llm:probs", "no_persona"))
    missing = (("llm:probs", "full"), ("nobody", "full"))
    table = compare(results, pairs=[pair, missing], n_flips=5000, n_resamples=200)
    assert len(table) == 1 and table.iloc[0]["kind"] == "condition"
    # sharper probabilities under 'full' make its argmax agree with people far more often
    assert table.iloc[0]["diff"] > 0 and table.iloc[0]["p_perm"] < 0.01


def test_identical_arms(results: pd.DataFrame) -> None:
    full = results[(results["simulator"] == "majority")]
    frame = pd.concat([full, full.assign(condition="copy")], ignore_index=True)
    table = compare(frame, n_resamples=100)
    row = table.iloc[0]
    assert (row["diff"], row["low"], row["high"], row["p_perm"]) == (0.0, 0.0, 0.0, 1.0)


def test_nothing_to_compare_gives_an_empty_table_with_the_columns(results: pd.DataFrame) -> None:
    table = compare(results[results["simulator"] == "majority"])
    assert table.empty and list(table.columns) == COLUMNS
