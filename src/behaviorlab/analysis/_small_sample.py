"""Intervals for mean metrics with few people: the cluster-robust t interval (CR2 / BM df).

With few clusters the percentile bootstrap under-covers: resampling 5 or 10 people cannot
reproduce the spread of the estimate, and its replicates are too narrow (the coverage study
in ``docs/statistics.md`` measures 83% at 5 people and 90% at 10 for a nominal 95%). For a
mean of per-trial scores (accuracy, log-loss, Brier, paired differences), the estimate is the
ratio ``sum(scores) / sum(trials)``, i.e. the intercept of a regression of the scores on a
constant, and a cluster-robust t interval with two small-sample corrections covers well:

* **CR2** (Bell & McCaffrey 2002): each person's residual sum ``e_g = s_g - n_g * mean`` is
  inflated by ``(1 - h_g)^(-1/2)`` with leverage ``h_g = n_g / N`` before it enters the
  sandwich, which removes the downward bias of the plain (CR0/CR1) variance with few
  clusters, ``V = sum_g e_g^2 / (1 - h_g) / N^2``;
* **Bell-McCaffrey degrees of freedom**: the Satterthwaite approximation of the sandwich's
  distribution under a working model of independent trials,
  ``df = tr(DC)^2 / tr((DC)^2)`` with ``D = diag(1 / (1 - h_g))`` and
  ``C = diag(n) - n n' / N`` the covariance of the residual sums; with equal cluster sizes it
  is ``G - 1``, with unequal sizes it is smaller (a wider interval).

Both need only the per-person sums and counts, so the interval costs O(G). :func:`choose`
picks it below :data:`SMALL_SAMPLE_CLUSTERS` people and the percentile bootstrap above.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import stats as sps

from behaviorlab.analysis._bootstrap import (
    ClusterStats,
    Estimate,
    Interval,
    Statistic,
    cluster_bootstrap,
)

IntervalChoice = Literal["auto", "percentile", "cr2"]
"""``"auto"`` picks ``"cr2"`` below :data:`SMALL_SAMPLE_CLUSTERS` people, else the bootstrap."""

SMALL_SAMPLE_CLUSTERS = 100
"""Below this many people, mean metrics get the CR2 t interval instead of the percentile
bootstrap. In the coverage study (1,000 datasets per cell, cluster sizes 1-20) the percentile
interval covers 83.3%, 90.0%, 92.9% and 95.5% at 5, 10, 20 and 50 people, the CR2 t interval
93.8%, 94.9%, 95.0% and 96.1%; with heavy-tailed sizes the percentile interval falls further
behind (81%-93% against 93%-94%). From 75 people on the two agree within Monte Carlo error
(see ``docs/statistics.md``)."""

CR2 = "cluster-t-cr2"

Scale = Literal["linear", "log-odds"]
"""The scale a CR2 interval is made on: the score's own, or the logit of a share."""

SHARE_SCALE: Scale = "log-odds"
"""The scale of a share's CR2 interval (accuracy and other scores in [0, 1]) in
:func:`mean_estimate`: the logit scale, which covers 93-97% down to 5 people of unequal sizes
where the linear interval falls to about 91% (``bench/cr2_coverage.py``,
``docs/statistics.md``)."""


def bm_degrees_of_freedom(counts: np.ndarray) -> float:
    """Bell-McCaffrey degrees of freedom of the CR2 variance of a mean with clusters of
    ``counts`` trials (working model: independent trials). ``G - 1`` for equal sizes."""
    n = np.asarray(counts, dtype=float)
    total = n.sum()
    if len(n) < 2 or total <= 0:
        return math.nan
    h = n / total
    a = n / (1.0 - h)  # D C's diagonal factor: d_g n_g with d_g = 1 / (1 - h_g)
    trace = float(np.sum(a * (1.0 - h)))
    trace_sq = float(np.sum(a**2 * (1.0 - h) ** 2) + np.sum(a * h) ** 2 - np.sum(a**2 * h**2))
    return trace**2 / trace_sq if trace_sq > 0 else math.nan


def cr2_interval(
    sums: np.ndarray,
    counts: np.ndarray,
    *,
    level: float = 0.95,
    bounds: tuple[float, float] | None = None,
    n: int | None = None,
    scale: Scale = "linear",
) -> Estimate:
    """The mean ``sum(sums) / sum(counts)`` with a cluster-robust t interval: CR2 variance,
    Bell-McCaffrey degrees of freedom (method ``"cluster-t-cr2"``).

    ``sums`` and ``counts`` hold one entry per cluster (person): the sum of the per-trial
    scores and the number of trials. Clusters without trials are ignored. With one cluster the
    interval is NaN; with no variation between clusters it is the point. ``bounds`` clips the
    interval to the range of the score (e.g. ``(0, 1)`` for accuracy). ``scale="log-odds"`` (a
    share in (0, 1)) makes the interval ``expit(logit(mean) ± t · se / (mean (1 - mean)))``,
    the same CR2 variance and df on the logit scale (delta method), mapped back: with few
    people of unequal sizes a share's estimate is skewed near 0 and 1, and the symmetric
    interval under-covers (``bench/cr2_coverage.py``); a mean of 0 or 1 keeps the linear one.
    """
    s, c = np.asarray(sums, dtype=float), np.asarray(counts, dtype=float)
    keep = c > 0
    s, c = s[keep], c[keep]
    g, total = len(c), float(c.sum())
    n_trials = round(total) if n is None else n
    if g == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, n_trials, CR2, level)
    value = float(s.sum() / total)
    if g == 1:
        return Estimate(value, math.nan, math.nan, 1, n_trials, CR2, level)
    h = c / total
    resid = s - c * value
    se = math.sqrt(float(np.sum(resid**2 / (1.0 - h))) / total**2)
    df = bm_degrees_of_freedom(c)
    q = float(sps.t.ppf(0.5 + level / 2.0, df))
    if scale == "log-odds" and 0.0 < value < 1.0 and se > 0:
        # a share: the interval on the logit scale (delta method), mapped back
        logit, half = math.log(value / (1.0 - value)), q * se / (value * (1.0 - value))
        low, high = _expit(logit - half), _expit(logit + half)
        return Estimate(value, low, high, g, n_trials, CR2, level, se, df)
    low, high = value - q * se, value + q * se
    if bounds is not None:
        low, high = (float(np.clip(x, *bounds)) for x in (low, high))
    return Estimate(value, low, high, g, n_trials, CR2, level, se, df)


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def choose(n_clusters: int, interval: IntervalChoice) -> Literal["percentile", "cr2"]:
    """The interval a mean metric gets: ``"auto"`` is ``"cr2"`` below
    :data:`SMALL_SAMPLE_CLUSTERS` people and ``"percentile"`` from there on."""
    if interval not in ("auto", "percentile", "cr2"):
        raise ValueError(f"interval must be 'auto', 'percentile' or 'cr2', got {interval!r}")
    if interval == "auto":
        return "cr2" if n_clusters < SMALL_SAMPLE_CLUSTERS else "percentile"
    return interval


def mean_estimate(
    stats: ClusterStats,
    statistic: Statistic,
    sums: np.ndarray,
    counts: np.ndarray,
    *,
    interval: IntervalChoice = "auto",
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    bounds: tuple[float, float] | None = None,
) -> Estimate:
    """A mean metric with the interval :func:`choose` picks.

    ``statistic`` maps aggregated ``stats`` to the mean (for the bootstrap); ``sums`` and
    ``counts`` are the per-cluster score sums and trial counts of the same mean (for the CR2
    interval), aligned with ``stats.clusters``. A share (``bounds == (0, 1)``: accuracy and
    other rates) gets the CR2 interval on :data:`SHARE_SCALE`.
    """
    if choose(stats.n_clusters, interval) == "cr2":
        scale: Scale = SHARE_SCALE if bounds == (0.0, 1.0) else "linear"
        return cr2_interval(sums, counts, level=level, bounds=bounds, n=stats.n, scale=scale)
    kind: Interval = "percentile"
    return cluster_bootstrap(
        stats,
        statistic,
        n_resamples=n_resamples,
        seed=seed,
        level=level,
        interval=kind,
        bounds=bounds,
    )
