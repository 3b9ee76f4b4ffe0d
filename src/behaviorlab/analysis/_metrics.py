"""Metrics: the :class:`Metric` protocol, the ``metrics`` registry, and the per-trial metrics.

A metric turns the valid trials of one (task, simulator, condition) into additive per-person
statistics (:meth:`Metric.stats`) and maps aggregated statistics to a number
(:meth:`Metric.value`, vectorised over bootstrap replicates). Register your own with
``@metric("name")``; :class:`MeanMetric` covers the common case of a mean of per-trial scores.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

import numpy as np
import pandas as pd

from behaviorlab._registry import Registry
from behaviorlab.analysis._bootstrap import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.analysis._frame import (
    as_code,
    as_probs,
    column,
    decoded,
    require,
    valid_rows,
)
from behaviorlab.analysis._small_sample import IntervalChoice, mean_estimate

PROB_FLOOR = 1e-15
"""Probabilities are clipped to ``[PROB_FLOOR, 1]`` before taking logs."""


@runtime_checkable
class Metric(Protocol):
    """A statistic of the trials of one (task, simulator, condition), with a clustered CI.

    ``stats`` receives the valid trials (no error, ``correct`` not null) and returns additive
    per-person statistics; ``value`` maps statistics summed over any multiset of people, shape
    ``(..., *event)``, to values of shape ``(...)``; the point estimate is
    ``value(stats.values.sum(0))``. ``applicable`` says whether the trials carry what the metric
    needs, and ``requires`` says in words what that is (shown when it is missing).

    A metric may also set ``interval = "basic"`` (with ``bounds``, its range) to get the basic
    bootstrap interval, which corrects an upward bias such as a distance's; the default is
    the percentile interval.
    """

    @property
    def higher_is_better(self) -> bool: ...

    @property
    def requires(self) -> str: ...

    def applicable(self, frame: pd.DataFrame) -> bool: ...

    def stats(self, frame: pd.DataFrame) -> ClusterStats: ...

    def value(self, agg: np.ndarray) -> np.ndarray: ...


MetricFactory = Callable[..., Metric]
MetricT = TypeVar("MetricT", bound=MetricFactory)

metrics: Registry[MetricFactory] = Registry("metric")
"""Every registered metric factory, by name (built-ins and users')."""

BUILTIN_METRICS = ("accuracy", "macro_f1", "log_loss", "brier", "js_distance", "total_variation")
"""Display order of the built-in metrics; user metrics follow in name order."""


def metric(name: str, *, replace: bool = False) -> Callable[[MetricT], MetricT]:
    """Register a metric factory (usually a class implementing :class:`Metric`) under
    ``name``; it appears as a column of the gap table."""
    return cast(Callable[[MetricT], MetricT], metrics.register(name, replace=replace))


def metric_names() -> list[str]:
    """Registered metric names: built-ins in display order, then the others sorted."""
    known = metrics.names()
    return [n for n in BUILTIN_METRICS if n in known] + [
        n for n in known if n not in BUILTIN_METRICS
    ]


def get_metric(name_or_metric: str | Metric) -> Metric:
    """A metric instance from a registered name (or the metric itself)."""
    if isinstance(name_or_metric, str):
        return metrics.get(name_or_metric)()
    return name_or_metric


def interval_of(m: Metric) -> dict[str, Any]:
    """The interval options a metric asks for through its optional attributes ``interval``
    (``"percentile"``, the default, or ``"basic"``) and ``bounds`` (the range of its values,
    used to clip a basic interval)."""
    basic = getattr(m, "interval", "percentile") == "basic"
    bounds = getattr(m, "bounds", None)
    return {"interval": "basic" if basic else "percentile", "bounds": bounds}


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, NaN where ``den`` is zero (no warning)."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=float), np.asarray(den, dtype=float))
    out = np.full(num.shape, math.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def estimate(
    frame: pd.DataFrame,
    metric: str | Metric = "accuracy",
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> Estimate | None:
    """One metric on ``frame`` with a person-clustered interval; None when the metric does not
    apply (e.g. log-loss without probabilities).

    ``frame`` should hold one (task, simulator, condition); failed and unscored trials are
    dropped here. ``interval="auto"`` gives a mean metric (:class:`MeanMetric`) the CR2
    cluster-robust t interval below ``SMALL_SAMPLE_CLUSTERS`` (100) people and the percentile
    bootstrap from there on; other metrics always get their bootstrap interval. ``"cr2"`` and
    ``"percentile"`` force one for a mean metric. ``Estimate.method`` says which was used.
    """
    m = get_metric(metric)
    valid = decoded(valid_rows(frame))
    return estimate_valid(
        m, valid, n_resamples=n_resamples, seed=seed, level=level, interval=interval
    )


def is_mean(m: Metric) -> bool:
    """Whether ``m`` is a mean of per-trial scores (a :class:`MeanMetric` keeping its value)."""
    return isinstance(m, MeanMetric) and type(m).value is MeanMetric.value


def estimate_valid(
    m: Metric,
    valid: pd.DataFrame,
    *,
    n_resamples: int,
    seed: int,
    level: float,
    interval: IntervalChoice = "auto",
) -> Estimate | None:
    """:func:`estimate` on trials already known to be valid (None if ``m`` does not apply)."""
    if valid.empty or not m.applicable(valid):
        return None
    stats = m.stats(valid)
    if stats.n == 0:
        return None
    options = interval_of(m)
    if is_mean(m):
        return mean_estimate(
            stats,
            m.value,
            stats.values[:, 0],
            stats.values[:, 1],
            interval=interval,
            n_resamples=n_resamples,
            seed=seed,
            level=level,
            bounds=options["bounds"],
        )
    if interval == "cr2":
        raise ValueError(f"the CR2 t interval needs a mean metric, not {type(m).__name__}")
    return cluster_bootstrap(
        stats, m.value, n_resamples=n_resamples, seed=seed, level=level, **options
    )


class MeanMetric(ABC):
    """A metric that is the mean of a per-trial score (accuracy, log-loss, Brier).

    Subclasses implement :meth:`score`. Per-person statistics are (sum of scores, count), so
    the value is the trial-weighted mean (a ratio estimator) and trials without a score are
    left out. Mean metrics also support :func:`paired_effect` and :func:`compare`, and get
    the small-sample CR2 t interval with few people. ``bounds`` (the score's range, if any)
    clips intervals.
    """

    higher_is_better: bool = True
    requires: str = ""
    bounds: tuple[float, float] | None = None

    @abstractmethod
    def score(self, frame: pd.DataFrame) -> pd.Series:
        """Per-trial score, aligned with ``frame``; NaN where it cannot be computed."""

    def scored(self, frame: pd.DataFrame) -> pd.Series:
        """Finite per-trial scores of the valid trials of ``frame``."""
        valid = valid_rows(frame)
        scores = pd.Series(np.asarray(self.score(valid), dtype=float), index=valid.index)
        kept: pd.Series = scores[np.isfinite(scores.to_numpy())]
        return kept

    def applicable(self, frame: pd.DataFrame) -> bool:
        return not self.scored(frame).empty

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        scores = self.scored(frame)
        require(frame, "person_id")
        rows = np.column_stack([scores.to_numpy(), np.ones(len(scores))])
        return ClusterStats.from_rows(frame.loc[scores.index, "person_id"].to_numpy(), rows)

    def value(self, agg: np.ndarray) -> np.ndarray:
        return ratio(agg[..., 0], agg[..., 1])


@metric("accuracy")
class Accuracy(MeanMetric):
    """Share of trials where the answer matches the person's (mean of ``correct``)."""

    bounds = (0.0, 1.0)

    def score(self, frame: pd.DataFrame) -> pd.Series:
        return pd.to_numeric(frame["correct"], errors="coerce").astype(float)


def _human_prob(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(p of the human answer, sum of squared probabilities) per trial; NaN without
    probabilities or a human answer."""
    p_h = np.full(len(frame), math.nan)
    sq = np.full(len(frame), math.nan)
    humans = column(frame, "human_answer")
    for i, raw in enumerate(column(frame, "probabilities")):
        probs, human = as_probs(raw), as_code(humans[i])
        if probs is None or human is None:
            continue
        p_h[i] = probs.get(human, 0.0)
        sq[i] = sum(p * p for p in probs.values())
    return p_h, sq


class _ProbabilityMetric(MeanMetric):
    """A per-trial score of the probability given to the person's answer."""

    higher_is_better = False
    requires = "probabilities (option scoring or a probabilistic baseline)"

    def applicable(self, frame: pd.DataFrame) -> bool:
        valid = valid_rows(frame)
        pairs = zip(column(valid, "probabilities"), column(valid, "human_answer"), strict=True)
        return any(as_code(h) is not None and as_probs(p) is not None for p, h in pairs)


@metric("log_loss")
class LogLoss(_ProbabilityMetric):
    """Mean negative log-probability of the person's answer, ``-log p(human_answer)``.

    Probabilities are renormalised over the options the simulator scored and clipped to
    ``[1e-15, 1]`` (an answer given zero probability costs about 34.5 nats).
    """

    bounds = (0.0, math.inf)

    def score(self, frame: pd.DataFrame) -> pd.Series:
        p_h, _ = _human_prob(frame)
        with np.errstate(invalid="ignore"):
            loss = -np.log(np.clip(p_h, PROB_FLOOR, 1.0))
        return pd.Series(loss, index=frame.index)


@metric("brier")
class Brier(_ProbabilityMetric):
    """Multi-class Brier score: ``sum_k (p_k - y_k)^2`` over the item's options, ``y`` the
    one-hot human answer; 0 is perfect, 2 is maximally wrong. Options the simulator gave no
    probability count as ``p_k = 0``."""

    bounds = (0.0, 2.0)

    def score(self, frame: pd.DataFrame) -> pd.Series:
        p_h, sq = _human_prob(frame)
        return pd.Series(sq - 2.0 * p_h + 1.0, index=frame.index)


@metric("macro_f1")
class MacroF1:
    """Unweighted mean over answer codes of the per-code F1 = 2TP / (2TP + FP + FN).

    Codes are the union of human and simulated answers. Per person we keep, per code, the true
    positives, the human count and the predicted count (the confusion matrix's diagonal and
    margins, all F1 needs). A code absent from both truth and prediction in a resample is left
    out of the mean.
    """

    higher_is_better = True
    requires = "parsed answers"

    def _rows(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
        valid = valid_rows(frame)
        truth = [as_code(v) for v in column(valid, "human_answer")]
        pred = [as_code(v) for v in column(valid, "answer")]
        keep = np.array([t is not None and p is not None for t, p in zip(truth, pred, strict=True)])
        if keep.size == 0:
            return valid, [], []
        rows = valid.loc[keep]
        truth_kept = [t for t, k in zip(truth, keep, strict=True) if k and t is not None]
        pred_kept = [p for p, k in zip(pred, keep, strict=True) if k and p is not None]
        return rows, truth_kept, pred_kept

    def applicable(self, frame: pd.DataFrame) -> bool:
        valid = valid_rows(frame)
        return bool((valid["answer"].notna() & valid["human_answer"].notna()).any())

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        rows, truth, pred = self._rows(frame)
        codes = {c: i for i, c in enumerate(sorted(set(truth) | set(pred)))}
        t = np.array([codes[c] for c in truth], dtype=np.int64)
        p = np.array([codes[c] for c in pred], dtype=np.int64)
        hit = (t == p).astype(float)
        people = rows["person_id"].to_numpy()
        # event (K, 3): [true positives, human count, predicted count] per code
        index = np.concatenate([t * 3, t * 3 + 1, p * 3 + 2])
        weights = np.concatenate([hit, np.ones(len(t)), np.ones(len(p))])
        clusters = np.concatenate([people, people, people])
        return ClusterStats.from_entries(clusters, index, weights, (len(codes), 3), n=len(t))

    def value(self, agg: np.ndarray) -> np.ndarray:
        tp, n_true, n_pred = agg[..., 0], agg[..., 1], agg[..., 2]
        den = n_true + n_pred
        present = den > 0
        f1 = ratio(2.0 * tp, den)
        total = np.where(present, f1, 0.0).sum(axis=-1)
        return ratio(total, present.sum(axis=-1))
