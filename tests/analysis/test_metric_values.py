"""Per-trial metrics and macro-F1 against values computed by hand on tiny frames."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import estimate, metrics, valid_rows

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]


def test_accuracy_is_the_mean_of_correct_over_valid_trials(frame_of: FrameBuilder) -> None:
    frame = frame_of(
        [
            {"person_id": "p1", "item_id": "q1", "human_answer": "a", "answer": "a"},
            {"person_id": "p1", "item_id": "q2", "human_answer": "a", "answer": "b"},
            {"person_id": "p1", "item_id": "q3", "human_answer": "b", "answer": "b"},
            {"person_id": "p2", "item_id": "q1", "human_answer": "b", "answer": "a"},
            # failed and unscored trials count nowhere
            {"person_id": "p2", "item_id": "q2", "human_answer": "a", "error": "503"},
            {
                "person_id": "p3",
                "item_id": "q1",
                "human_answer": "a",
                "answer": "a",
                "correct": None,
            },
        ]
    )
    est = estimate(frame, "accuracy", n_resamples=200)
    assert est is not None
    assert est.value == pytest.approx(0.5)
    assert (est.n, est.n_clusters) == (4, 2)
    assert len(valid_rows(frame)) == 4


def _prob_frame(frame_of: FrameBuilder) -> pd.DataFrame:
    return frame_of(
        [
            {
                "person_id": "p1",
                "item_id": "q1",
                "human_answer": "a",
                "answer": "a",
                "probabilities": {"a": 0.5, "b": 0.5},
            },
            {
                "person_id": "p1",
                "item_id": "q2",
                "human_answer": "a",
                "answer": "b",
                "probabilities": {"a": 0.2, "b": 0.8},
            },
            # all mass on the wrong answer: log(0) is clipped, no warning
            {
                "person_id": "p2",
                "item_id": "q1",
                "human_answer": "b",
                "answer": "a",
                "probabilities": {"a": 1.0, "b": 0.0},
            },
            {
                "person_id": "p2",
                "item_id": "q2",
                "human_answer": "b",
                "error": "timeout",
                "error_kind": "timeout",
                "probabilities": {"b": 1.0},
            },
        ]
    )


def test_log_loss_by_hand(frame_of: FrameBuilder) -> None:
    est = estimate(_prob_frame(frame_of), "log_loss", n_resamples=200)
    expected = (-math.log(0.5) - math.log(0.2) - math.log(1e-15)) / 3
    assert est is not None and est.value == pytest.approx(expected)
    assert est.n == 3


def test_brier_by_hand(frame_of: FrameBuilder) -> None:
    est = estimate(_prob_frame(frame_of), "brier", n_resamples=200)
    # (0.5-1)^2 + 0.5^2 = 0.5; (0.2-1)^2 + 0.8^2 = 1.28; (1-0)^2 + (0-1)^2 = 2
    assert est is not None and est.value == pytest.approx((0.5 + 1.28 + 2.0) / 3)


def test_probabilities_are_renormalised(frame_of: FrameBuilder) -> None:
    frame = frame_of(
        [
            {
                "person_id": "p",
                "item_id": "q",
                "human_answer": "a",
                "answer": "a",
                "probabilities": {"a": 2.0, "b": 6.0},
            }
        ]
    )
    est = estimate(frame, "log_loss", n_resamples=10)
    assert est is not None and est.value == pytest.approx(-math.log(0.25))


def test_probability_metrics_do_not_apply_without_probabilities(frame_of: FrameBuilder) -> None:
    frame = frame_of([{"person_id": "p", "item_id": "q", "human_answer": "a", "answer": "a"}])
    assert estimate(frame, "log_loss") is None
    assert estimate(frame, "brier") is None
    assert estimate(frame, "accuracy", n_resamples=10) is not None


def test_macro_f1_by_hand(frame_of: FrameBuilder) -> None:
    pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("c", "a")]
    frame = frame_of(
        [
            {"person_id": f"p{i % 2}", "item_id": f"q{i}", "human_answer": t, "answer": p}
            for i, (t, p) in enumerate(pairs)
        ]
    )
    # a: TP 1, FP 1, FN 1 -> 0.5; b: TP 1, FP 1, FN 0 -> 2/3; c: TP 0, FN 1 -> 0
    est = estimate(frame, "macro_f1", n_resamples=200)
    assert est is not None and est.value == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)


def test_macro_f1_ignores_codes_absent_from_truth_and_prediction() -> None:
    m = metrics.get("macro_f1")()
    # codes a, b, d: [TP, true count, predicted count]; d is absent in this resample
    agg = np.array([[1.0, 2.0, 2.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    assert m.value(agg) == pytest.approx((0.5 + 0.0) / 2)
    # vectorised over resamples
    batch = np.stack([agg, np.zeros_like(agg)])
    out = m.value(batch)
    assert out[0] == pytest.approx(0.25) and math.isnan(out[1])


def test_macro_f1_drops_failed_trials(frame_of: FrameBuilder) -> None:
    frame = frame_of(
        [
            {"person_id": "p1", "item_id": "q1", "human_answer": "a", "answer": "a"},
            {"person_id": "p2", "item_id": "q1", "human_answer": "b", "answer": "b"},
            {
                "person_id": "p2",
                "item_id": "q2",
                "human_answer": "b",
                "answer": "a",
                "error": "unparseable",
                "error_kind": "invalid",
            },
        ]
    )
    est = estimate(frame, "macro_f1", n_resamples=50)
    assert est is not None and est.value == pytest.approx(1.0)


def test_metric_values_are_vectorised_over_resamples() -> None:
    acc = metrics.get("accuracy")()
    out = acc.value(np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 2.0]]))
    assert out[0] == 0.75 and math.isnan(out[1]) and out[2] == 0.5


def test_json_text_and_parquet_shapes_are_decoded(frame_of: FrameBuilder) -> None:
    """Cells may arrive as JSON text (raw SQLite), key/value pairs and arrays (Parquet)."""
    base = {"item_id": "q", "human_answer": "a", "answer": "a"}
    frame = frame_of(
        [
            base | {"person_id": "p1", "probabilities": '{"a": 0.5, "b": 0.5}'},
            base | {"person_id": "p2", "probabilities": [("a", 0.5), ("b", 0.5)]},
            base | {"person_id": "p3", "probabilities": {"a": 0.5, "b": 0.5, "c": float("nan")}},
            base | {"person_id": "p4", "probabilities": "not json"},
        ]
    )
    est = estimate(frame, "log_loss", n_resamples=20)
    assert est is not None and est.value == pytest.approx(math.log(2)) and est.n == 3
    samples = frame_of([base | {"person_id": "p1", "samples": np.array(["a", "b"])}])
    js = estimate(samples, "js_distance", n_resamples=20)
    assert js is not None and 0.0 < js.value < 1.0


def test_level_sets_the_interval_width(results: pd.DataFrame) -> None:
    arm = results[(results["simulator"] == "majority")]
    wide = estimate(arm, "accuracy", n_resamples=400, level=0.95)
    narrow = estimate(arm, "accuracy", n_resamples=400, level=0.5)
    assert wide is not None and narrow is not None and narrow.level == 0.5
    assert wide.low < narrow.low < narrow.value < narrow.high < wide.high
