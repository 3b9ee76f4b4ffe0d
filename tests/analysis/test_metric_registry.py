"""Users add metrics with ``@metric`` and they work everywhere a built-in does."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from behaviorlab._registry import UnknownComponentError
from behaviorlab.analysis import (
    ClusterStats,
    MeanMetric,
    Metric,
    estimate,
    gap,
    metric,
    metrics,
    paired_effect,
)


@pytest.fixture(autouse=True)
def _restore_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Metrics registered here vanish after each test."""
    monkeypatch.setattr(metrics, "_entries", dict(metrics._entries))
    yield


def test_builtins_are_registered() -> None:
    assert {"accuracy", "macro_f1", "log_loss", "brier", "js_distance", "total_variation"} <= set(
        metrics.names()
    )
    for name in metrics:
        assert isinstance(metrics.get(name)(), Metric)


def test_a_user_mean_metric_works_in_estimate_gap_and_paired_effect(results: pd.DataFrame) -> None:
    @metric("confidence")
    class Confidence(MeanMetric):
        """Probability the simulator gave its own answer."""

        requires = "probabilities"

        def score(self, frame: pd.DataFrame) -> pd.Series:
            values = [
                (p or {}).get(a, np.nan) if isinstance(p, dict) else np.nan
                for p, a in zip(frame["probabilities"], frame["answer"], strict=True)
            ]
            return pd.Series(values, index=frame.index, dtype=float)

    assert metrics.entries()[[e.name for e in metrics.entries()].index("confidence")].description
    arm = results[(results["simulator"] == "llm:probs") & (results["condition"] == "full")]
    est = estimate(arm, "confidence", n_resamples=50)
    assert est is not None and 1 / 3 <= est.value <= 1.0

    rep = gap(results, n_resamples=20, metrics=["accuracy", "confidence"])
    assert "confidence_high" in rep.to_pandas().columns
    assert rep.row("llm:argmax").missing["confidence"] == "needs probabilities"

    effect = paired_effect(results, "llm:probs", "full", "no_persona", "confidence", n_resamples=50)
    assert effect.ok


def test_a_user_metric_from_scratch() -> None:
    @metric("share_answering_a")
    class ShareA:
        """Share of answers that are 'a' (a protocol implementation without a base class)."""

        higher_is_better = True
        requires = "answers"

        def applicable(self, frame: pd.DataFrame) -> bool:
            return bool(frame["answer"].notna().any())

        def stats(self, frame: pd.DataFrame) -> ClusterStats:
            rows = np.column_stack([frame["answer"].eq("a").to_numpy(float), np.ones(len(frame))])
            return ClusterStats.from_rows(frame["person_id"].to_numpy(), rows)

        def value(self, agg: np.ndarray) -> np.ndarray:
            return np.asarray(agg[..., 0] / agg[..., 1])

    frame = pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p2"],
            "answer": ["a", "b", "a"],
            "error": None,
            "correct": [1.0, 0.0, 1.0],
        }
    )
    est = estimate(frame, "share_answering_a", n_resamples=50)
    assert est is not None and est.value == pytest.approx(2 / 3)


def test_names_are_unique_unless_replaced() -> None:
    with pytest.raises(ValueError, match="already registered"):
        metric("accuracy")(type("Again", (MeanMetric,), {}))


def test_unknown_metric_names_the_known_ones() -> None:
    with pytest.raises(UnknownComponentError, match="Did you mean 'accuracy'"):
        estimate(pd.DataFrame(), "acuracy")
