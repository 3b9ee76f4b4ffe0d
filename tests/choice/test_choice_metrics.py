"""Choice shares against people's and McFadden's rho², on tiny hand-computed frames."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from behaviorlab.analysis import estimate, gap
from behaviorlab.families.choice._metrics import SHARE_COLUMNS, choice_shares


def row(
    person: str, human: str, answer: str | None, probs: dict[str, float] | None, **over: Any
) -> dict[str, Any]:
    base = {
        "task": "choice",
        "simulator": "s",
        "condition": "full",
        "person_id": person,
        "item_id": "mode",
        "human_answer": human,
        "answer": answer,
        "probabilities": probs,
        "options": ["a", "b"],
        "answer_position": 0,
        "error": None,
        "error_kind": None,
        "correct": None if answer is None else float(answer == human),
    }
    return base | over


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            row("p1", "a", "a", {"a": 0.6, "b": 0.4}),
            row("p1", "b", "b", {"a": 0.5, "b": 0.5}),
            row("p2", "a", "a", {"a": 0.8, "b": 0.2}),
            row("p3", "b", None, None, error="off-format", error_kind="invalid"),
            row("p3", "b", None, None, error="timeout", error_kind="timeout"),
        ]
    )


def test_shares_from_probabilities_by_hand() -> None:
    table = choice_shares(frame(), n_resamples=500)
    assert list(table.columns) == list(SHARE_COLUMNS)
    a = table.set_index("option").loc["a"]
    assert a["source"] == "probabilities"
    assert (a["n"], a["n_people"], a["n_invalid"], a["n_failed"]) == (3, 2, 1, 1)
    assert a["human"] == pytest.approx(2 / 3)  # a, b, a
    assert a["simulated"] == pytest.approx((0.6 + 0.5 + 0.8) / 3)
    assert a["difference"] == pytest.approx(1.9 / 3 - 2 / 3)
    b = table.set_index("option").loc["b"]
    assert b["simulated"] == pytest.approx(1.1 / 3)
    for name in ("human", "simulated", "difference"):
        assert a[f"{name}_low"] <= a[name] <= a[f"{name}_high"]
    # a bootstrap over people: p1 drawn twice gives human share 1/2, p2 twice gives 1
    assert a["human_low"] >= 0.5 - 1e-9 and a["human_high"] <= 1.0 + 1e-9


def test_shares_from_answers() -> None:
    table = choice_shares(frame(), use="answers", n_resamples=200).set_index("option")
    assert table.loc["a", "source"] == "answers"
    assert table.loc["a", "simulated"] == pytest.approx(2 / 3)  # answers a, b, a
    assert table.loc["a", "difference"] == pytest.approx(0.0)
    # auto falls back to answers when some valid trial has no probabilities
    mixed = frame()
    mixed.at[1, "probabilities"] = None
    auto = choice_shares(mixed, n_resamples=200)
    assert set(auto["source"]) == {"answers"}


def test_only_choice_rows_and_empty_table() -> None:
    survey = frame().assign(task="survey")
    assert choice_shares(survey).empty
    both = pd.concat([frame(), survey.assign(simulator="t")], ignore_index=True)
    assert set(choice_shares(both, n_resamples=100)["simulator"]) == {"s"}


def test_rho_squared_by_hand() -> None:
    est = estimate(frame(), "rho_squared", n_resamples=300)
    assert est is not None
    log_lik = math.log(0.6) + math.log(0.5) + math.log(0.8)
    assert est.value == pytest.approx(1 - log_lik / (3 * math.log(0.5)))
    assert est.n_clusters == 2
    # a uniform guess scores 0
    uniform = frame().assign(probabilities=[{"a": 0.5, "b": 0.5}] * 5)
    flat = estimate(uniform, "rho_squared", n_resamples=100)
    assert flat is not None and flat.value == pytest.approx(0.0)


def test_rho_squared_only_in_choice_tables() -> None:
    choice = gap(frame(), n_resamples=100, noise_floor_splits=10, n_flips=100)
    assert "rho_squared" in choice.metrics
    assert "accuracy" in choice.metrics and "log_loss" in choice.metrics
    survey = gap(frame().assign(task="survey"), n_resamples=100, noise_floor_splits=10, n_flips=100)
    assert "rho_squared" not in survey.metrics
