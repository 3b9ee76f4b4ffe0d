"""The person-clustered bootstrap, vectorised over resamples.

Trials of one person are correlated (same persona, same habits), so resampling trials
understates the uncertainty. We resample *people*: every metric is written as a function of
additive per-person sufficient statistics (:class:`ClusterStats`), so a bootstrap replicate is
a weighted sum of those statistics. With ``W`` the ``(B, G)`` matrix of multinomial cluster
counts, all ``B`` replicates are one matrix product ``W @ values`` followed by the metric's
vectorised ``value``. The interval is the percentile interval of the replicates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Interval = Literal["percentile", "basic"]
Statistic = Callable[[np.ndarray], np.ndarray]
"""Maps aggregated statistics of shape ``(..., *event)`` to values of shape ``(...)``."""

MAX_ELEMENTS = 1 << 22
"""Resamples are processed in chunks holding at most about this many floats (32 MB)."""


@dataclass(frozen=True, eq=False)
class ClusterStats:
    """Additive sufficient statistics of a metric, one row per cluster (person).

    ``values`` has shape ``(G, *event)``; usually ``(G, d)``. Summing rows over any multiset of
    clusters gives the statistics of that resample, from which the metric's ``value`` is
    computed. ``n`` is the number of trials summarised.
    """

    clusters: np.ndarray
    values: np.ndarray
    n: int

    def __post_init__(self) -> None:
        if self.values.ndim < 2 or self.values.shape[0] != len(self.clusters):
            raise ValueError(
                f"values must have shape (G, d, ...) with G={len(self.clusters)} clusters; "
                f"got {self.values.shape}"
            )

    @property
    def n_clusters(self) -> int:
        return len(self.clusters)

    @classmethod
    def from_rows(cls, clusters: Any, rows: np.ndarray) -> ClusterStats:
        """Sum per-trial statistics ``rows`` (shape ``(n, *event)``) within clusters.

        ``clusters`` gives each row's cluster id (the ``person_id`` column). Clusters are
        sorted, so the result does not depend on row order.
        """
        rows = np.asarray(rows, dtype=float)
        if rows.ndim == 1:
            rows = rows[:, None]
        codes, uniques = pd.factorize(np.asarray(clusters, dtype=object), sort=True)
        if len(codes) != len(rows):
            raise ValueError(f"{len(codes)} cluster ids for {len(rows)} rows")
        if len(rows) == 0:
            return cls(np.asarray([], dtype=object), np.zeros((0, *rows.shape[1:])), 0)
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
        values = np.add.reduceat(rows[order], starts, axis=0)
        return cls(np.asarray(uniques, dtype=object), values, len(rows))

    @classmethod
    def from_entries(
        cls,
        clusters: Any,
        index: np.ndarray,
        weights: np.ndarray,
        event_shape: tuple[int, ...],
        *,
        n: int,
    ) -> ClusterStats:
        """Sparse form of :meth:`from_rows`: add ``weights[j]`` at flat event position
        ``index[j]`` of cluster ``clusters[j]``. For wide statistics (confusion counts,
        per-item option counts) that would be mostly zeros per trial."""
        codes, uniques = pd.factorize(np.asarray(clusters, dtype=object), sort=True)
        size = math.prod(event_shape)
        flat = codes.astype(np.int64) * size + np.asarray(index, dtype=np.int64)
        sums = np.bincount(
            flat, weights=np.asarray(weights, dtype=float), minlength=len(uniques) * size
        )
        values = sums.reshape(len(uniques), *event_shape)
        return cls(np.asarray(uniques, dtype=object), values, n)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval.

    ``method`` says how the interval was made: ``"cluster-bootstrap"`` (percentile interval of
    a bootstrap over people), ``"cluster-bootstrap-basic"`` (basic interval of the same
    bootstrap), ``"cluster-t-cr2"`` (cluster-robust t interval with the CR2 small-sample
    correction and Bell-McCaffrey degrees of freedom ``df``, chosen for mean metrics with few
    people), ``"item-bootstrap"`` (a bootstrap over items) or ``"split-half"`` (spread over
    random splits of the people). ``n_clusters`` is the number of people (items, for an item
    bootstrap), ``n`` the number of trials (or answers) behind the value, ``se`` the standard
    error (the standard deviation of the replicates for a bootstrap) and ``df`` the degrees of
    freedom of a t interval (NaN otherwise). ``corrected``, for a basic interval only, is the
    bias-corrected estimate ``2 * value - median(replicates)``: the basic interval is built
    around it and always contains it, while ``value`` (the statistic on the data) can fall
    outside when the statistic is biased (a distance with few people); NaN otherwise.
    """

    value: float
    low: float
    high: float
    n_clusters: int
    n: int
    method: str
    level: float = 0.95
    se: float = math.nan
    df: float = math.nan
    corrected: float = math.nan

    @property
    def ok(self) -> bool:
        """Whether the value is a finite number."""
        return math.isfinite(self.value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (non-finite floats become None)."""
        return {k: _json_float(v) for k, v in asdict(self).items()}

    def __str__(self) -> str:
        if not self.ok:
            return "-"
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def _json_float(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _weights(rng: np.random.Generator, rows: int, n_clusters: int) -> np.ndarray:
    """``(rows, G)`` draws of Multinomial(G, 1/G): how often each cluster is resampled.

    Drawn as G uniform cluster indices per row and counted, which has exactly the multinomial
    distribution. Each index consumes one double from the generator, so the draws do not
    depend on how resamples are chunked.
    """
    idx = (rng.random((rows, n_clusters)) * n_clusters).astype(np.intp)
    np.minimum(idx, n_clusters - 1, out=idx)
    idx += (np.arange(rows) * n_clusters)[:, None]
    counts = np.bincount(idx.ravel(), minlength=rows * n_clusters)
    return counts.reshape(rows, n_clusters).astype(float)


def weight_chunks(
    n_clusters: int,
    n_resamples: int,
    seed: int,
    width: int = 1,
    max_elements: int = MAX_ELEMENTS,
) -> Iterator[np.ndarray]:
    """The ``(n_resamples, n_clusters)`` multinomial weight matrix of ``default_rng(seed)``,
    in consecutive row chunks sized so that a chunk times ``n_clusters + width`` (the width of
    what it multiplies) holds about ``max_elements`` floats. The weights do not depend on the
    chunking, so every caller with the same seed and clusters resamples the same people."""
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    if n_clusters == 0:
        raise ValueError("cannot bootstrap zero clusters")
    chunk = max(1, min(n_resamples, max_elements // (n_clusters + width)))
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, chunk):
        yield _weights(rng, min(chunk, n_resamples - start), n_clusters)


def bootstrap_replicates(
    values: np.ndarray,
    statistic: Statistic,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    max_elements: int = MAX_ELEMENTS,
) -> np.ndarray:
    """All ``n_resamples`` replicates of ``statistic`` under the cluster bootstrap.

    ``values`` has shape ``(G, *event)``; ``statistic`` maps ``(B, *event)`` aggregates to
    ``(B, ...)``. Resamples are chunked so that a chunk holds about ``max_elements`` floats;
    the result does not depend on the chunking.
    """
    n_clusters, event = values.shape[0], values.shape[1:]
    flat = np.asarray(values, dtype=float).reshape(n_clusters, -1)
    parts = []
    chunks = weight_chunks(n_clusters, n_resamples, seed, flat.shape[1], max_elements)
    for weights in chunks:
        agg = (weights @ flat).reshape(len(weights), *event)
        parts.append(np.asarray(statistic(agg), dtype=float))
    return np.concatenate(parts, axis=0)


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """The equal-tailed percentile interval of the finite replicates (NaN if there are none).

    Replicates can be NaN when a resample has no usable trial (e.g. no clusters with
    probabilities); they are left out.
    """
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan, math.nan
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high)


def basic_interval(replicates: np.ndarray, point: float, level: float) -> tuple[float, float]:
    """The basic (reverse percentile) interval ``[2 t - q_hi, 2 t - q_lo]``.

    It assumes the estimate sits above the truth by as much as the replicates sit above the
    estimate, so it corrects a bias that resampling reproduces. That is the case for distances
    between empirical distributions: sampling noise in the human answers pushes the distance
    up, and a percentile interval then misses the truth most of the time when the distance is
    near the noise level (the simulation in the analysis tests shows it).
    """
    low, high = percentile_interval(replicates, level)
    return 2.0 * point - high, 2.0 * point - low


def cluster_bootstrap(
    stats: ClusterStats,
    statistic: Statistic,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: Interval = "percentile",
    bounds: tuple[float, float] | None = None,
) -> Estimate:
    """Point estimate ``statistic(stats.values.sum(0))`` with an interval from a bootstrap
    over clusters (people).

    Each replicate draws ``G`` clusters with replacement (weights ~ Multinomial(G, 1/G)), sums
    their statistics and applies ``statistic``. The generator is ``numpy.random.default_rng
    (seed)``, so the same seed and the same clusters give the same weights for every metric.
    ``interval`` is ``"percentile"`` (method ``"cluster-bootstrap"``) or ``"basic"`` (method
    ``"cluster-bootstrap-basic"``, see :func:`basic_interval`), whose ends are clipped to
    ``bounds`` (the range of the statistic) when given.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if interval not in ("percentile", "basic"):
        raise ValueError(f"interval must be 'percentile' or 'basic', got {interval!r}")
    method = "cluster-bootstrap" if interval == "percentile" else "cluster-bootstrap-basic"
    if stats.n_clusters == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, stats.n, method, level)
    point = float(statistic(stats.values.sum(axis=0)))
    reps = bootstrap_replicates(stats.values, statistic, n_resamples=n_resamples, seed=seed)
    finite = reps[np.isfinite(reps)]
    corrected = math.nan
    if interval == "percentile":
        low, high = percentile_interval(reps, level)
    else:
        low, high = basic_interval(reps, point, level)
        if finite.size:
            corrected = 2.0 * point - float(np.median(finite))
    if bounds is not None:
        low, high = (float(np.clip(x, *bounds)) for x in (low, high))
        if math.isfinite(corrected):
            corrected = float(np.clip(corrected, *bounds))
    se = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
    return Estimate(
        point, low, high, stats.n_clusters, stats.n, method, level, se, math.nan, corrected
    )
