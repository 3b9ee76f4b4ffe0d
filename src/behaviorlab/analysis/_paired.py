"""Paired comparisons on the same trials: intervention effects and simulator-vs-simulator.

Comparing two conditions on the *same* trials removes the variation between people and
items from the difference. Trials are matched on (task, person, item, episode, step, seed);
only pairs where both arms produced a valid score count. The per-person statistics of both
arms are resampled with the same bootstrap weights, so the interval reflects the pairing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats, Estimate
from behaviorlab.analysis._frame import MATCH_KEYS, decoded, require
from behaviorlab.analysis._metrics import MeanMetric, Metric, get_metric, ratio
from behaviorlab.analysis._small_sample import CR2, IntervalChoice, choose, mean_estimate


@dataclass(frozen=True)
class PairedEffect:
    """``metric(a) - metric(b)`` on matched trials of one task.

    ``kind`` is ``"persona"`` for an intervention effect within one simulator (``full`` vs a
    persona ablation) and ``"baseline"`` for the best LLM simulator against the best baseline.
    """

    kind: str
    task: str
    metric: str
    simulator_a: str
    condition_a: str
    simulator_b: str
    condition_b: str
    estimate: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "task": self.task,
            "metric": self.metric,
            "a": {"simulator": self.simulator_a, "condition": self.condition_a},
            "b": {"simulator": self.simulator_b, "condition": self.condition_b},
            "estimate": self.estimate.to_dict(),
        }


def _arm_scores(m: MeanMetric, arm: pd.DataFrame, label: str) -> pd.DataFrame:
    scores = m.scored(arm)
    keyed = arm.loc[scores.index, list(MATCH_KEYS)].assign(score=scores.to_numpy())
    dup = keyed.duplicated(subset=list(MATCH_KEYS))
    if dup.any():
        first = keyed.loc[dup, list(MATCH_KEYS)].iloc[0].to_dict()
        raise ValueError(
            f"{int(dup.sum())} duplicate trial(s) in {label}, e.g. {first}; pairs would be "
            "ambiguous (was the same run stored twice?)"
        )
    return keyed


def _mean_metric(metric: str | Metric) -> MeanMetric:
    m = get_metric(metric)
    if not isinstance(m, MeanMetric):
        raise ValueError(
            f"paired comparisons need a per-trial metric (a MeanMetric such as accuracy, "
            f"log_loss, brier); got {type(m).__name__}"
        )
    return m


class ArmScores:
    """Per-trial scores of the arms (simulator, condition) of ``frame``, keyed by the match
    keys, computed once per arm and metric (comparisons reuse them)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        require(frame, *MATCH_KEYS, "simulator", "condition")
        groups = frame.groupby(["simulator", "condition"], sort=False, dropna=False)
        self._arms = {(str(s), str(c)): g for (s, c), g in groups}
        self._scores: dict[tuple[tuple[str, str], str | int], pd.DataFrame] = {}

    def get(self, arm: tuple[str, str], metric: str | Metric) -> pd.DataFrame:
        """Columns ``MATCH_KEYS`` and ``score``: the arm's scored trials (empty when the arm
        is absent or the metric gives it no score)."""
        key = (arm, metric if isinstance(metric, str) else id(metric))
        if key not in self._scores:
            m = _mean_metric(metric)
            rows = self._arms.get(arm)
            if rows is None:
                empty = pd.DataFrame({c: pd.Series(dtype=object) for c in MATCH_KEYS})
                self._scores[key] = empty.assign(score=pd.Series(dtype=float))
            else:
                self._scores[key] = _arm_scores(m, decoded(rows), f"{arm[0]}/{arm[1]}")
        return self._scores[key]


def matched_scores(
    frame: pd.DataFrame | ArmScores,
    arm_a: tuple[str, str],
    arm_b: tuple[str, str],
    metric: str | Metric = "accuracy",
    *,
    task: str | None = None,
) -> ClusterStats:
    """Per-person statistics of the matched trials of two (simulator, condition) arms: the
    sum of ``a``'s scores, the sum of ``b``'s scores and the number of pairs (event ``(3,)``).
    ``frame`` may be the :class:`ArmScores` of a frame (of one task), to reuse its scores."""
    _mean_metric(metric)
    if isinstance(frame, ArmScores):
        scores = frame
    else:
        scores = ArmScores(frame.loc[frame["task"] == task] if task is not None else frame)
    a, b = scores.get(arm_a, metric), scores.get(arm_b, metric)
    pairs = a.merge(b, on=list(MATCH_KEYS), suffixes=("_a", "_b"))
    rows = np.column_stack(
        [pairs["score_a"].to_numpy(), pairs["score_b"].to_numpy(), np.ones(len(pairs))]
    )
    return ClusterStats.from_rows(pairs["person_id"].to_numpy(), rows)


def difference(agg: np.ndarray) -> np.ndarray:
    """``mean(a) - mean(b)`` from aggregated :func:`matched_scores` statistics."""
    return np.asarray(ratio(agg[..., 0], agg[..., 2]) - ratio(agg[..., 1], agg[..., 2]))


def difference_bounds(metric: str | Metric) -> tuple[float, float] | None:
    """The range of ``metric(a) - metric(b)`` when the metric declares its own range (e.g.
    accuracy in [0, 1] gives [-1, 1]): a t interval with few people can reach past it."""
    bounds = getattr(get_metric(metric), "bounds", None)
    if bounds is None:
        return None
    lo, hi = float(bounds[0]), float(bounds[1])
    return (lo - hi, hi - lo)


def difference_estimate(
    stats: ClusterStats,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
    bounds: tuple[float, float] | None = None,
) -> Estimate:
    """The paired difference of :func:`matched_scores` statistics with its interval: a
    bootstrap over people that resamples both arms together, or (few people) the CR2 t
    interval on the per-pair differences; clipped to ``bounds`` (see
    :func:`difference_bounds`) when given."""
    if stats.n == 0:
        method = CR2 if choose(0, interval) == "cr2" else "cluster-bootstrap"
        return Estimate(math.nan, math.nan, math.nan, 0, 0, method, level)
    return mean_estimate(
        stats,
        difference,
        stats.values[:, 0] - stats.values[:, 1],
        stats.values[:, 2],
        interval=interval,
        n_resamples=n_resamples,
        seed=seed,
        level=level,
        bounds=bounds,
    )


def paired_difference(
    frame: pd.DataFrame | ArmScores,
    arm_a: tuple[str, str],
    arm_b: tuple[str, str],
    metric: str | Metric = "accuracy",
    *,
    task: str | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> Estimate:
    """``metric(a) - metric(b)`` over matched trials of two (simulator, condition) arms, with a
    person-clustered paired interval (see :func:`difference_estimate`). NaN when no trial
    pairs up."""
    stats = matched_scores(frame, arm_a, arm_b, metric, task=task)
    return difference_estimate(
        stats,
        n_resamples=n_resamples,
        seed=seed,
        level=level,
        interval=interval,
        bounds=difference_bounds(metric),
    )


def paired_effect(
    frame: pd.DataFrame,
    simulator: str,
    condition_a: str,
    condition_b: str,
    metric: str | Metric = "accuracy",
    *,
    task: str | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> Estimate:
    """Effect of an intervention: ``metric(condition_a) - metric(condition_b)`` for one
    simulator on the same trials (e.g. ``full`` vs ``shuffled_persona``: how much this
    person's persona helps over another real person's).

    The value equals the difference of the two arms' means over the matched pairs; the
    interval comes from a bootstrap over people that resamples both arms together, or with
    fewer than 100 people from the CR2 t interval (``interval`` as in :func:`estimate`). Works with
    per-trial metrics (accuracy, log_loss, brier, or any :class:`MeanMetric`); for log-loss
    and Brier a negative effect means condition ``a`` is better. Pass ``task`` when the frame
    holds several tasks that share item ids.
    """
    return paired_difference(
        frame,
        (simulator, condition_a),
        (simulator, condition_b),
        metric,
        task=task,
        n_resamples=n_resamples,
        seed=seed,
        level=level,
        interval=interval,
    )
