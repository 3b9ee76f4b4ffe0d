"""Coverage of the library's intervals on simulated data (the study in docs/statistics.md).

Run ``pytest -m slow tests/analysis/test_coverage.py -s`` to print the tables quoted there.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from behaviorlab.analysis import ClusterStats, Estimate
from behaviorlab.analysis._bootstrap import bootstrap_replicates
from behaviorlab.analysis._distributions import JSDistance, TotalVariation, js_distance
from behaviorlab.analysis._equivalence import tost_pvalue
from behaviorlab.analysis._metrics import Accuracy
from behaviorlab.analysis._small_sample import SMALL_SAMPLE_CLUSTERS, mean_estimate
from behaviorlab.analysis._subgroups import disparity_interval

DATASETS = 1000
RESAMPLES = 1000
A, SIGMA, BETA = 0.3, 0.8, 0.5  # logit intercept, person effect SD, size effect per SD


class Design:
    """People with unequal numbers of trials, answers correlated within a person (a normal
    person effect on the logit of accuracy), and larger clusters more accurate, so the pooled
    accuracy (what the ratio estimator targets) differs from the mean of person means."""

    def __init__(self, support: np.ndarray, pmf: np.ndarray) -> None:
        self.support, self.pmf = support, pmf / pmf.sum()
        self.mean = float(np.sum(support * self.pmf))
        self.sd = math.sqrt(float(np.sum((support - self.mean) ** 2 * self.pmf)))

    def truth(self) -> float:
        """E[n p] / E[n], the person effect integrated out by Gauss-Hermite quadrature."""
        nodes, weights = np.polynomial.hermite_e.hermegauss(80)
        weights = weights / weights.sum()
        num = 0.0
        for n, p in zip(self.support, self.pmf, strict=True):
            logit = A + SIGMA * nodes + BETA * (n - self.mean) / self.sd
            num += p * n * float(np.sum(weights / (1.0 + np.exp(-logit))))
        return num / self.mean

    def draw(self, rng: np.random.Generator, n_people: int) -> tuple[np.ndarray, np.ndarray]:
        """Per person (correct answers, trials)."""
        n = rng.choice(self.support, size=n_people, p=self.pmf)
        logit = A + SIGMA * rng.normal(size=n_people) + BETA * (n - self.mean) / self.sd
        hits = rng.binomial(n, 1.0 / (1.0 + np.exp(-logit)))
        return hits.astype(float), n.astype(float)


UNIFORM = Design(np.arange(1, 21), np.ones(20))
"""1 to 20 trials per person, uniformly (a 20-fold range)."""


def _lognormal_pmf(support: np.ndarray) -> np.ndarray:
    # lognormal(median 8, sigma 0.8) discretised on 1..60: many small, a few large clusters
    x = np.log(support / 8.0) / 0.8
    return np.exp(-0.5 * x**2) / support


HEAVY = Design(np.arange(1, 61), _lognormal_pmf(np.arange(1, 61)))
"""Heavy-tailed sizes (a stress test: a few people with 40-60 trials dominate)."""

Method = Callable[[np.ndarray, np.ndarray, int], Estimate]


def _auto(hits: np.ndarray, n: np.ndarray, seed: int) -> Estimate:
    stats = ClusterStats(np.arange(len(n)), np.column_stack([hits, n]), int(n.sum()))
    return mean_estimate(stats, Accuracy().value, hits, n, n_resamples=RESAMPLES, seed=seed)


def _percentile(hits: np.ndarray, n: np.ndarray, seed: int) -> Estimate:
    stats = ClusterStats(np.arange(len(n)), np.column_stack([hits, n]), int(n.sum()))
    return mean_estimate(
        stats, Accuracy().value, hits, n, interval="percentile", n_resamples=RESAMPLES, seed=seed
    )


def coverage(design: Design, n_people: int, method: Method) -> tuple[float, set[str]]:
    """Share of DATASETS simulated datasets whose interval covers the truth, and the
    methods used."""
    truth = design.truth()
    rng = np.random.default_rng(1000 + n_people)
    covered, methods = 0, set()
    for k in range(DATASETS):
        est = method(*design.draw(rng, n_people), k)
        covered += est.low <= truth <= est.high
        methods.add(est.method)
    return covered / DATASETS, methods


@pytest.mark.slow
@pytest.mark.parametrize("n_people", [20, 50])
def test_library_intervals_cover_95_percent_from_20_people(n_people: int) -> None:
    cov, methods = coverage(UNIFORM, n_people, _auto)
    print(f"\nuniform sizes, {n_people} people, library ({methods}): {cov:.3f}")
    assert methods == {"cluster-t-cr2"}  # below SMALL_SAMPLE_CLUSTERS
    assert 0.93 <= cov <= 0.97


def _cr2(hits: np.ndarray, n: np.ndarray, seed: int) -> Estimate:
    stats = ClusterStats(np.arange(len(n)), np.column_stack([hits, n]), int(n.sum()))
    return mean_estimate(stats, Accuracy().value, hits, n, interval="cr2")


@pytest.mark.slow
def test_coverage_table_for_the_docs() -> None:
    """Coverage of the percentile bootstrap and the CR2 t interval from 5 to 150 people,
    for uniform and heavy-tailed cluster sizes (printed for docs/statistics.md), and what
    the library picks."""
    table = {}
    for name, design in (("uniform", UNIFORM), ("heavy", HEAVY)):
        for g in (5, 10, 20, 50, 75, 100, 150):
            pct, cr2 = coverage(design, g, _percentile)[0], coverage(design, g, _cr2)[0]
            table[name, g] = (pct, cr2)
            pick = "cr2" if g < SMALL_SAMPLE_CLUSTERS else "percentile"
            print(
                f"\n{name} sizes, {g} people: percentile {pct:.3f}, CR2 t {cr2:.3f}; "
                f"library picks {pick}"
            )
    for g in (5, 10):  # with few people the CR2 t interval is far closer to 95%
        assert table["uniform", g][1] >= 0.92
        for name in ("uniform", "heavy"):
            assert table[name, g][1] > table[name, g][0] + 0.03
    for g in (100, 150):  # from the threshold on, the two agree
        assert abs(table["uniform", g][0] - table["uniform", g][1]) < 0.015


@pytest.mark.slow
@pytest.mark.parametrize(
    ("accuracies", "min_coverage"), [((0.6, 0.6, 0.6), 0.92), ((0.5, 0.6, 0.8), 0.94)]
)
def test_disparity_interval_covers_equal_and_unequal_groups(
    accuracies: tuple[float, ...], min_coverage: float
) -> None:
    """100 people in 3 groups, 1-7 trials each, a person effect: the max - min interval
    covers whether or not the groups differ (a percentile interval of the replicated max - min
    never covers a zero disparity)."""
    rng = np.random.default_rng(7)
    logits = np.log(np.array(accuracies) / (1 - np.array(accuracies)))
    # true group accuracies (pooled over trials), by simulation of a million people
    big_n = rng.integers(1, 8, (1_000_000, 1))
    p = 1 / (1 + np.exp(-(logits + 0.5 * rng.normal(size=(1_000_000, 1)))))
    true_acc = (big_n * p).sum(axis=0) / big_n.sum()
    truth = float(true_acc.max() - true_acc.min())
    reps, covered, pct_covered = 1000, 0, 0
    for r in range(reps):
        group = rng.integers(0, 3, 100)
        n = rng.integers(1, 8, 100)
        hits = rng.binomial(n, 1 / (1 + np.exp(-(logits[group] + 0.5 * rng.normal(size=100)))))
        values = np.zeros((100, 3, 2))
        values[np.arange(100), group] = np.column_stack([hits, n])

        def acc(agg: np.ndarray) -> np.ndarray:
            return np.asarray(agg[..., 0] / agg[..., 1])

        replicates = bootstrap_replicates(values, acc, n_resamples=RESAMPLES, seed=r)
        low, high = disparity_interval(acc(values.sum(axis=0)), replicates, 0.95)
        covered += low <= truth <= high
        spread = replicates.max(axis=1) - replicates.min(axis=1)
        lo, hi = np.quantile(spread, [0.025, 0.975])
        pct_covered += lo <= truth <= hi
    print(
        f"\ndisparity {truth:.3f}: simultaneous {covered / reps:.3f}, "
        f"percentile of max-min {pct_covered / reps:.3f}"
    )
    assert covered / reps >= min_coverage


@pytest.mark.slow
def test_equivalence_test_rarely_claims_equivalence_at_the_margin() -> None:
    """Size of the TOST at epsilon = the true distance (8 items, 3 options, 300 people):
    at most the nominal 5% (the percentile bound is conservative)."""
    rng = np.random.default_rng(5)
    truth_p = rng.dirichlet([3.0] * 3, size=8)
    sim_q = 0.85 * truth_p + 0.15 * rng.dirichlet([1.0] * 3, size=8)
    for metric in (JSDistance(), TotalVariation()):
        margin = float(metric.distance(truth_p, sim_q).mean())
        claims = 0
        for r in range(200):
            human = np.zeros((300, 8, 3))
            for i in range(8):
                human[np.arange(300), i, rng.choice(3, size=300, p=truth_p[i])] = 1
            values = np.stack([human, np.broadcast_to(sim_q, human.shape)], axis=-1)
            reps = bootstrap_replicates(values, metric.value, n_resamples=500, seed=r)
            claims += tost_pvalue(reps, margin) < 0.05
        print(f"\n{type(metric).__name__} at epsilon = truth {margin:.3f}: {claims / 200:.3f}")
        assert claims / 200 <= 0.05
    assert not math.isnan(float(js_distance(truth_p, sim_q).mean()))
