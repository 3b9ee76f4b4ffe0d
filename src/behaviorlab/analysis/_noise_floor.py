"""The human split-half noise floor of a distribution distance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import MAX_ELEMENTS, Estimate
from behaviorlab.analysis._distributions import DistanceName, DistributionMetric
from behaviorlab.analysis._frame import require
from behaviorlab.analysis._metrics import Metric, get_metric
from behaviorlab.analysis._ordinal import Wasserstein

DISTANCES: tuple[DistanceName, ...] = ("js_distance", "total_variation", "wasserstein")
"""The distribution distances of :func:`distribution_tests`, in display order."""


def distance_metric(distance: DistanceName | str | Metric) -> DistributionMetric:
    """The distribution distance named ``distance`` (a registered metric or
    ``"wasserstein"``), or the metric itself; ValueError for anything else."""
    m: Metric = Wasserstein() if distance == "wasserstein" else get_metric(distance)
    if not isinstance(m, DistributionMetric):
        raise ValueError(f"noise_floor needs a distribution distance, not {distance!r}")
    return m


def noise_floor(
    frame: pd.DataFrame,
    distance: DistanceName | str | Metric = "js_distance",
    n_splits: int = 200,
    seed: int = 0,
    *,
    level: float = 0.95,
) -> Estimate:
    """Human split-half noise floor of a distribution distance.

    People are split at random into two halves of equal size (one person is left out when
    their number is odd); per item, the distance between the halves' answer distributions is
    computed and averaged over items answered in both halves. The value is the mean over
    ``n_splits`` splits, and ``low``/``high`` the central ``level`` range of the split values
    (the spread of the floor, not a confidence interval). Each person's answer to an item is
    counted once, however many simulators, conditions and seeds repeated it.

    A simulator at or below the floor is as close to people as two halves of the people are to
    each other. Each half holds half the people, so the floor is a conservative yardstick for a
    comparison against all of them: sampling noise in a distance grows like
    ``sqrt(1/n_a + 1/n_b)``, so a simulator that knew the true answer distribution would sit
    about half the floor away from all ``N`` people (``sqrt(1/N)`` against
    ``sqrt(2/N + 2/N)``).
    """
    dist = distance_metric(distance)
    require(frame, "person_id", "item_id", "human_answer")
    keys = ["task", "person_id", "item_id"] if "task" in frame.columns else ["person_id", "item_id"]
    shown = ["options"] if "options" in frame.columns else []
    answers = frame.loc[frame["human_answer"].notna(), [*keys, "human_answer", *shown]]
    answers = answers.drop_duplicates(subset=keys, keep="first")
    stats = dist.human_stats(answers)
    n_people, n_answers = stats.n_clusters, stats.n
    nan = Estimate(math.nan, math.nan, math.nan, n_people, n_answers, "split-half", level)
    if n_people < 2:
        return nan
    event = stats.values.shape[1:]
    human = stats.values.reshape(n_people, -1)
    # the same answers on the simulated side (channels 0 and 1 swapped, others kept)
    swap = np.arange(event[-1])
    swap[:2] = [1, 0]
    other = stats.values[..., swap].reshape(n_people, -1)
    half = n_people // 2
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_splits, MAX_ELEMENTS // (n_people + human.shape[1])))
    values = []
    for start in range(0, n_splits, chunk):
        rows = min(chunk, n_splits - start)
        perm = np.argsort(rng.random((rows, n_people)), axis=1)
        first, second = np.zeros((rows, n_people)), np.zeros((rows, n_people))
        np.put_along_axis(first, perm[:, :half], 1.0, axis=1)
        np.put_along_axis(second, perm[:, half : 2 * half], 1.0, axis=1)
        agg = (first @ human + second @ other).reshape(rows, *event)
        values.append(dist.value(agg))
    splits = np.concatenate(values)
    splits = splits[np.isfinite(splits)]
    if splits.size == 0:
        return nan
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(splits, [alpha, 1.0 - alpha])
    se = float(splits.std(ddof=1)) if splits.size > 1 else math.nan
    return Estimate(
        float(splits.mean()), float(low), float(high), n_people, n_answers, "split-half", level, se
    )
