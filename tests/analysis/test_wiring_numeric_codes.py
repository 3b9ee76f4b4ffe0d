"""Numeric answers are not option codes: gap()'s macro-F1, distribution distances, item-level
shares and noise floor leave numeric trials out (accuracy keeps them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import gap

NUMERIC = {"answer_type": "numeric", "range": [0, 100]}


def _row(person: str, item: str, h: str, s: str, correct: float, **extra: Any) -> dict[str, Any]:
    return {
        "task": "survey",
        "simulator": "llm",
        "condition": "full",
        "person_id": person,
        "item_id": item,
        "human_answer": h,
        "answer": s,
        "correct": correct,
        "error": None,
        "meta": {},
    } | extra


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Option trials of two items, and the same with a numeric item added."""
    rng = np.random.default_rng(1)
    options, numeric = [], []
    for p in range(30):
        for item in ("q1", "q2"):
            h, s = str(rng.integers(1, 4)), str(rng.integers(1, 4))
            drawn = [str(x) for x in rng.integers(1, 4, 5)]
            options.append(_row(f"p{p}", item, h, s, float(h == s), samples=drawn))
        h2, s2 = rng.uniform(0, 100, 2).round(2)
        drawn = [f"{x:g}" for x in rng.uniform(0, 100, 5).round(2)]
        numeric.append(
            _row(
                f"p{p}",
                "wtp",
                f"{h2:g}",
                f"{s2:g}",
                1 - abs(h2 - s2) / 100,
                meta=NUMERIC,
                samples=drawn,
            )
        )
    return pd.DataFrame(options), pd.DataFrame(options + numeric)


def test_option_code_analyses_leave_numeric_trials_out() -> None:
    options, mixed = _frames()
    a, b = gap(options, n_resamples=200), gap(mixed, n_resamples=200)
    for metric in ("macro_f1", "js_distance", "total_variation"):
        ea, eb = a.row("llm").estimates[metric], b.row("llm").estimates[metric]
        assert ea is not None and eb is not None
        assert eb.value == pytest.approx(ea.value), metric
    # accuracy counts the numeric trials (1 - |h - s| / range)
    acc_a, acc_b = a.row("llm").estimates["accuracy"], b.row("llm").estimates["accuracy"]
    assert acc_a is not None and acc_b is not None
    assert acc_b.value == pytest.approx(mixed["correct"].mean())
    assert acc_b.value != pytest.approx(acc_a.value)
    assert "wtp" not in set(b.items["item_id"].astype(str))
    assert set(b.items["item_id"].astype(str)) == {"q1", "q2"}
    for d, floor in b.noise_floors["survey"].items():
        assert floor.value == pytest.approx(a.noise_floors["survey"][d].value), d


def test_a_numeric_only_arm_says_its_answers_are_not_option_codes() -> None:
    _, mixed = _frames()
    report = gap(mixed.loc[mixed["item_id"] == "wtp"], n_resamples=100)
    row = report.row("llm")
    assert row.estimates["macro_f1"] is None and row.estimates["js_distance"] is None
    assert row.missing["macro_f1"] == "numeric answers are not option codes"
    assert row.estimates["accuracy"] is not None
    assert report.items.empty
