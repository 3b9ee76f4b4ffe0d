"""A basic bootstrap interval can exclude its own point estimate (a distance, biased upward
with few people: ``0.15 [0.10, 0.14]``); the estimate then carries the bias-corrected value
the interval is built around, and the table shows both, named (issue 15 §3)."""

from __future__ import annotations

import math

import numpy as np

from behaviorlab.analysis import ClusterStats, Estimate
from behaviorlab.analysis._bootstrap import cluster_bootstrap
from behaviorlab.report._terminal import format_estimate


def _abs_mean(stats: np.ndarray) -> np.ndarray:
    """|sum x / n|: biased upward around a mean of zero, like a distance."""
    out: np.ndarray = np.abs(stats[..., 0] / stats[..., 1])
    return out


def _stats() -> ClusterStats:
    x = np.random.default_rng(0).normal(size=8)
    x = x - x.mean() + 0.001  # mean 0.001: the resampled |means| are nearly all larger
    return ClusterStats(np.arange(len(x)), np.column_stack([x, np.ones_like(x)]), len(x))


def test_the_corrected_value_is_inside_the_basic_interval_when_the_value_is_not() -> None:
    est = cluster_bootstrap(_stats(), _abs_mean, n_resamples=500, seed=1, interval="basic")
    assert not est.low <= est.value <= est.high  # the bug: the value outside its interval
    assert est.low <= est.corrected <= est.high
    text = format_estimate(est)
    assert f"(bc {est.corrected:.2f}".replace("-", "−") in text
    assert text.startswith(f"{est.value:.2f} (bc ")


def test_percentile_intervals_and_values_inside_are_shown_as_before() -> None:
    est = cluster_bootstrap(_stats(), _abs_mean, n_resamples=500, seed=1)
    assert math.isnan(est.corrected) and "(bc" not in format_estimate(est)
    inside = Estimate(0.12, 0.10, 0.14, 5, 50, "cluster-bootstrap-basic", corrected=0.11)
    assert format_estimate(inside) == "0.12 [0.10, 0.14]"


def test_bounds_clip_the_corrected_value_too() -> None:
    est = cluster_bootstrap(
        _stats(), _abs_mean, n_resamples=500, seed=1, interval="basic", bounds=(0.0, 1.0)
    )
    assert est.corrected >= 0.0 and est.low <= est.corrected <= est.high
