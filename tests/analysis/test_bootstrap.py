"""The person-clustered bootstrap: sums, weights, speed, and coverage."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from behaviorlab.analysis import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.analysis._bootstrap import bootstrap_replicates, weight_chunks
from behaviorlab.analysis._metrics import Accuracy


def _mean(agg: np.ndarray) -> np.ndarray:
    return np.asarray(agg[..., 0] / agg[..., 1])


def test_from_rows_sums_within_clusters_in_sorted_order() -> None:
    stats = ClusterStats.from_rows(["b", "a", "b", "c"], np.array([[1, 1], [0, 1], [1, 1], [0, 1]]))
    assert list(stats.clusters) == ["a", "b", "c"]
    np.testing.assert_array_equal(stats.values, [[0, 1], [2, 2], [0, 1]])
    assert stats.n == 4 and stats.n_clusters == 3


def test_from_entries_matches_dense_sums() -> None:
    clusters = ["x", "y", "x", "y", "x"]
    index = np.array([0, 3, 3, 1, 0])
    weights = np.array([1.0, 2.0, 0.5, 1.0, 1.0])
    stats = ClusterStats.from_entries(clusters, index, weights, (2, 2), n=3)
    np.testing.assert_allclose(stats.values, [[[2.0, 0.0], [0.0, 0.5]], [[0.0, 1.0], [0.0, 2.0]]])
    assert stats.n == 3


def test_values_must_have_one_row_per_cluster() -> None:
    with pytest.raises(ValueError, match="shape"):
        ClusterStats(np.array(["a", "b"]), np.zeros((3, 2)), 3)


def test_point_estimate_is_the_pooled_ratio() -> None:
    stats = ClusterStats.from_rows(["a", "a", "b"], np.array([[1, 1], [1, 1], [0, 1]]))
    est = cluster_bootstrap(stats, _mean, n_resamples=200)
    assert est.value == pytest.approx(2 / 3)
    assert (est.n_clusters, est.n, est.method, est.level) == (2, 3, "cluster-bootstrap", 0.95)
    assert 0.0 <= est.low <= est.value <= est.high <= 1.0


def test_no_clusters_gives_nan_and_one_cluster_a_point_interval() -> None:
    empty = ClusterStats.from_rows([], np.zeros((0, 2)))
    assert not cluster_bootstrap(empty, _mean).ok
    one = ClusterStats.from_rows(["a", "a"], np.array([[1, 1], [0, 1]]))
    est = cluster_bootstrap(one, _mean, n_resamples=50)
    assert (est.value, est.low, est.high) == (0.5, 0.5, 0.5)


def test_same_seed_same_result_and_chunking_does_not_matter() -> None:
    rng = np.random.default_rng(0)
    values = np.column_stack([rng.integers(0, 5, 300), rng.integers(5, 10, 300)]).astype(float)
    whole = bootstrap_replicates(values, _mean, n_resamples=500, seed=7)
    chunked = bootstrap_replicates(values, _mean, n_resamples=500, seed=7, max_elements=1000)
    np.testing.assert_array_equal(whole, chunked)
    other = bootstrap_replicates(values, _mean, n_resamples=500, seed=8)
    assert not np.array_equal(whole, other)


def test_resample_weights_draw_g_clusters() -> None:
    # With per-cluster statistic (1, 1), every replicate sums to G exactly.
    values = np.ones((37, 2))
    reps = bootstrap_replicates(values, lambda agg: agg[..., 0], n_resamples=100, seed=1)
    np.testing.assert_array_equal(reps, np.full(100, 37.0))


def test_2000_resamples_over_1000_clusters_is_fast() -> None:
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 30, 1000)
    values = np.column_stack([rng.binomial(sizes, 0.6), sizes]).astype(float)
    stats = ClusterStats(np.arange(1000), values, int(sizes.sum()))
    start = time.perf_counter()
    est = cluster_bootstrap(stats, Accuracy().value, n_resamples=2000, seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"bootstrap took {elapsed:.2f}s"
    assert est.low < 0.6 < est.high


def test_estimate_is_json_friendly_and_prints() -> None:
    est = Estimate(0.5, 0.4, 0.6, 10, 100, "cluster-bootstrap")
    assert est.to_dict()["se"] is None and str(est) == "0.500 [0.400, 0.600]"
    assert str(Estimate(math.nan, math.nan, math.nan, 0, 0, "cluster-bootstrap")) == "-"


def _true_pooled_accuracy(a: float, sigma: float, beta: float, sizes: np.ndarray) -> float:
    """Population value of the ratio estimator sum(y) / sum(n): E[n p] / E[n], with the
    cluster effect integrated out by Gauss-Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()
    total = 0.0
    for n in sizes:
        logit = a + sigma * nodes + beta * (n - sizes.mean()) / sizes.std()
        total += n * float(np.sum(weights / (1.0 + np.exp(-logit))))
    return total / float(sizes.sum())


def test_percentile_interval_covers_the_pooled_accuracy_on_clustered_data() -> None:
    """300 datasets of 50 people, 1-20 trials each, a person-level random effect, and larger
    clusters being more accurate (so the pooled and per-person means differ)."""
    a, sigma, beta, n_clusters = 0.3, 0.8, 0.5, 50
    support = np.arange(1, 21)
    truth = _true_pooled_accuracy(a, sigma, beta, support)
    rng = np.random.default_rng(2024)
    value = Accuracy().value
    covered, widths = 0, []
    for rep in range(300):
        sizes = rng.integers(1, 21, n_clusters)
        logit = a + sigma * rng.normal(size=n_clusters) + beta * (sizes - 10.5) / support.std()
        hits = rng.binomial(sizes, 1.0 / (1.0 + np.exp(-logit)))
        stats = ClusterStats(np.arange(n_clusters), np.column_stack([hits, sizes]).astype(float), 0)
        est = cluster_bootstrap(stats, value, n_resamples=1000, seed=rep)
        covered += est.low <= truth <= est.high
        widths.append(est.high - est.low)
    coverage = covered / 300
    assert 0.91 <= coverage <= 0.985, coverage
    # a trial-level (unclustered) interval would be about 2 * 1.96 * sqrt(p q / N) wide
    naive = 2 * 1.96 * math.sqrt(truth * (1 - truth) / (n_clusters * 10.5))
    assert np.mean(widths) > 1.3 * naive


def test_10000_resamples_over_2000_clusters_take_seconds() -> None:
    """The issue's scale: 10,000 resamples of 2,000 people (a million trials summarised)."""
    rng = np.random.default_rng(1)
    sizes = rng.integers(1, 1000, 2000)
    values = np.column_stack([rng.binomial(sizes, 0.6), sizes]).astype(float)
    stats = ClusterStats(np.arange(2000), values, int(sizes.sum()))
    start = time.perf_counter()
    est = cluster_bootstrap(stats, Accuracy().value, n_resamples=10_000, seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"bootstrap took {elapsed:.2f}s"
    assert est.low < est.value < est.high


def test_weight_chunks_do_not_depend_on_the_chunk_size() -> None:
    whole = np.vstack(list(weight_chunks(13, 50, seed=4)))
    small = np.vstack(list(weight_chunks(13, 50, seed=4, max_elements=40)))
    np.testing.assert_array_equal(whole, small)
    assert whole.shape == (50, 13) and (whole.sum(axis=1) == 13).all()
    with pytest.raises(ValueError, match="zero clusters"):
        next(weight_chunks(0, 5, seed=0))
