"""Item-level comparison: shares per item, correlations across items, error-pattern kappa."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr
from statsmodels.stats.inter_rater import cohens_kappa

from behaviorlab.analysis import error_agreement, item_level
from behaviorlab.analysis._items import (
    FEW_ITEMS,
    NO_KEY,
    _midranks,
    _weighted_pearson,
    correlations,
    kappa_value,
    pearson_value,
)

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]

ITEM_COLUMNS = [
    "task",
    "simulator",
    "condition",
    "item_id",
    "option",
    "human_share",
    "sim_share",
    "n",
]
AGREEMENT_COLUMNS = [
    "task",
    "simulator",
    "condition",
    "pearson",
    "pearson_low",
    "pearson_high",
    "spearman",
    "spearman_low",
    "spearman_high",
    "n_items",
    "kappa",
    "kappa_low",
    "kappa_high",
    "note",
]


def test_shares_by_hand(frame_of: FrameBuilder) -> None:
    rows = [
        {
            "person_id": "p1",
            "item_id": "q1",
            "human_answer": "a",
            "probabilities": {"a": 0.8, "b": 0.2},
        },
        {
            "person_id": "p2",
            "item_id": "q1",
            "human_answer": "b",
            "probabilities": {"a": 0.4, "b": 0.6},
        },
        {"person_id": "p1", "item_id": "q2", "human_answer": "x", "samples": ["x", "y", "y", "y"]},
        {
            "person_id": "p2",
            "item_id": "q2",
            "human_answer": "x",
            "samples": ["x", "x"],
            "options": ["x", "y", "z"],
        },
        # an argmax-only simulator has no distribution: it is left out
        {
            "person_id": "p1",
            "item_id": "q1",
            "human_answer": "a",
            "answer": "a",
            "simulator": "llm:argmax",
        },
    ]
    for row in rows:
        row.setdefault("answer", "a")
    items, agreement = item_level(frame_of(rows))
    assert list(items.columns) == ITEM_COLUMNS and list(agreement.columns) == AGREEMENT_COLUMNS
    assert set(items["simulator"]) == {"llm:mock"}
    got = {(r.item_id, r.option): (r.human_share, r.sim_share, r.n) for r in items.itertuples()}
    assert got == {
        ("q1", "a"): (0.5, pytest.approx(0.6), 2),
        ("q1", "b"): (0.5, pytest.approx(0.4), 2),
        ("q2", "x"): (1.0, pytest.approx(0.625), 2),
        ("q2", "y"): (0.0, pytest.approx(0.375), 2),
        ("q2", "z"): (0.0, 0.0, 2),
    }
    row = agreement.iloc[0]
    assert row["n_items"] == 2 and math.isnan(row["pearson"]) and math.isnan(row["kappa"])
    assert row["note"] == f"{FEW_ITEMS}; {NO_KEY}"


def test_correlations_match_scipy_and_duplicated_items(rng: np.random.Generator) -> None:
    item = np.repeat(np.arange(6), 3)
    x = rng.dirichlet(np.ones(3), size=6).ravel().round(1)  # rounding makes ties
    y = (x + rng.normal(0, 0.1, len(x))).round(2)
    pearson, spearman = correlations(x, y, item, n_resamples=500, seed=0, level=0.95)
    assert pearson.value == pytest.approx(pearsonr(x, y)[0], abs=1e-12)
    assert spearman.value == pytest.approx(spearmanr(x, y)[0], abs=1e-12)
    assert pearson.method == "item-bootstrap" and pearson.n_clusters == 6 and pearson.n == 18
    assert pearson.low <= pearson.value <= pearson.high
    # a resample is the data with items repeated: weighted ranks = ranks of the copies
    weights = np.array([2.0, 0.0, 1.0, 3.0, 0.0, 0.0])[item]
    copies = np.repeat(np.arange(len(x)), weights.astype(int))
    rx = _midranks(x, weights[None, :])
    ry = _midranks(y, weights[None, :])
    assert _weighted_pearson(rx, ry, weights[None, :])[0] == pytest.approx(
        spearmanr(x[copies], y[copies])[0]
    )
    moments = np.array([x * weights, y * weights, x * x * weights, y * y * weights])
    agg = [*moments.sum(axis=1), (x * y * weights).sum(), weights.sum()]
    assert pearson_value(np.array(agg)) == pytest.approx(pearsonr(x[copies], y[copies])[0])


def test_kappa_matches_statsmodels(rng: np.random.Generator) -> None:
    a = rng.random(40) < 0.4
    b = np.where(rng.random(40) < 0.7, a, ~a)
    table = np.array([[np.sum(~a & ~b), np.sum(~a & b)], [np.sum(a & ~b), np.sum(a & b)]])
    est = error_agreement(a, b, n_resamples=300)
    assert est.value == pytest.approx(cohens_kappa(table).kappa, abs=1e-12)
    assert est.method == "item-bootstrap" and est.n_clusters == 40
    assert est.low < est.value < est.high
    assert math.isnan(float(kappa_value(np.array([0.0, 0.0, 0.0, 5.0]))))
    with pytest.raises(ValueError, match="equal length"):
        error_agreement([True], [True, False])


def test_kappa_with_an_answer_key(frame_of: FrameBuilder, rng: np.random.Generator) -> None:
    """Items with a correct answer: the model errs where most people err on 'hard' items."""
    rows = []
    for i in range(12):
        hard = i % 2 == 0
        key, lure = "a", "b"
        for p in range(8):
            right = rng.random() < (0.3 if hard else 0.9)
            human = key if right else lure
            model = lure if (hard and i != 0) else key  # agrees except on item 0
            rows.append(
                {
                    "person_id": f"p{p}",
                    "item_id": f"q{i:02d}",
                    "human_answer": human,
                    "answer": model,
                    "probabilities": {model: 0.7, "b" if model == "a" else "a": 0.3},
                    "options": ["a", "b"],
                    "human_correct": float(right),
                }
            )
    frame = frame_of(rows).assign(human_correct=[r["human_correct"] for r in rows])
    items, agreement = item_level(frame, n_resamples=300)
    row = agreement.iloc[0]
    assert row["n_items"] == 12 and row["note"] == ""
    human_wrong = [
        np.mean([r["human_correct"] for r in rows if r["item_id"] == f"q{i:02d}"]) < 0.5
        for i in range(12)
    ]
    model_wrong = [i % 2 == 0 and i != 0 for i in range(12)]
    expected = error_agreement(model_wrong, human_wrong, n_resamples=300)
    assert row["kappa"] == pytest.approx(expected.value)
    assert row["kappa_low"] <= row["kappa"] <= row["kappa_high"]
    assert not math.isnan(row["pearson"]) and not items.empty


def test_a_scored_key_overrides_the_inferred_one(frame_of: FrameBuilder) -> None:
    rows = []
    for i in range(4):
        for p in range(3):
            rows.append(
                {
                    "person_id": f"p{p}",
                    "item_id": f"q{i}",
                    "human_answer": "a",
                    "answer": "a",
                    "probabilities": {"a": 0.6, "b": 0.4},
                    "options": ["a", "b", "c"],
                    "human_correct": float(i < 2),
                    "scores": {"key_correct": float(i % 2)},
                }
            )
    frame = frame_of(rows).assign(human_correct=[r["human_correct"] for r in rows])
    _, agreement = item_level(frame, n_resamples=100)
    # model wrong on q0, q2; people wrong on q2, q3: kappa of [1,0,1,0] vs [0,0,1,1]
    assert agreement.iloc[0]["kappa"] == pytest.approx(0.0)
