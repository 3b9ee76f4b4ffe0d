"""Distances between simulated and human answer distributions, and the human noise floor.

For each item, the human distribution is the share of each answer among the people asked;
the simulated distribution is the mean of the simulator's ``probabilities`` over the same
trials, or else the share of its ``samples``. It is never built from argmax answers: those
collapse every item to its mode and make any simulator look far from people. The distance is
computed per item and averaged over items (each item counts once).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from itertools import chain
from typing import Literal, cast

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import MAX_ELEMENTS, ClusterStats, Estimate
from behaviorlab.analysis._frame import (
    Probs,
    as_code,
    as_codes,
    as_probs,
    column,
    require,
    valid_rows,
)
from behaviorlab.analysis._metrics import get_metric, metric, ratio

DistanceName = Literal["js_distance", "total_variation"]


def js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2, so in [0, 1]) between distributions on the last axis.

    ``sqrt((KL(p||m) + KL(q||m)) / 2)`` with ``m = (p + q) / 2``; equals
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` for normalised inputs.
    """
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    m = 0.5 * (p + q)

    def kl_to_m(a: np.ndarray) -> np.ndarray:
        r = np.ones_like(a)
        np.divide(a, m, out=r, where=a > 0)  # log r = 0 where a = 0: no log(0)
        return np.asarray(np.sum(a * np.log(r), axis=-1))

    js = (kl_to_m(p) + kl_to_m(q)) / (2.0 * math.log(2.0))
    return np.asarray(np.sqrt(np.maximum(js, 0.0)))


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total variation distance ``0.5 * sum |p - q|`` on the last axis, in [0, 1]."""
    diff = np.asarray(p, dtype=float) - np.asarray(q, dtype=float)
    return np.asarray(0.5 * np.abs(diff).sum(axis=-1))


def _item_keys(frame: pd.DataFrame) -> np.ndarray:
    """One key per row for (task, item): items of different tasks never share a key."""
    items = frame["item_id"].astype(str)
    if "task" in frame.columns:
        items = frame["task"].astype(str) + "\x1f" + items
    return items.to_numpy(dtype=object)


def _cells(items: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Dense (item, option) indices: items numbered in order of appearance, each item's
    options numbered locally, padded to the largest option count ``K``.
    Returns (item index, local option index, I, K)."""
    item_idx, item_names = pd.factorize(items)
    code_idx, code_names = pd.factorize(codes)
    pair_idx, pairs = pd.factorize(item_idx.astype(np.int64) * len(code_names) + code_idx)
    pair_items = pairs // max(len(code_names), 1)
    local = pd.Series(pair_items).groupby(pair_items).cumcount().to_numpy()
    n_options = int(local.max()) + 1 if len(local) else 0
    return item_idx, local[pair_idx], len(item_names), n_options


class DistributionMetric:
    """Mean over items of a distance between the human and the simulated answer distribution.

    Per person, the statistics are human answer counts and simulated probability mass per
    (item, option), event shape ``(I, K, 2)``. Each trial contributes mass one to both sides,
    so resampling people resamples both distributions together. Items without any trial in a
    resample are left out of its mean. Subclasses define :meth:`distance`.

    Sampling noise in the human answers pushes a distance up, and resampling pushes it up
    again, so the replicates sit above the estimate and a percentile interval would mostly
    miss the truth near the noise level. The interval is therefore the basic bootstrap
    interval (clipped to [0, 1]), which corrects that bias; the value itself is the plain
    plug-in distance. Read it against :func:`noise_floor`.
    """

    higher_is_better = False
    interval = "basic"
    bounds = (0.0, 1.0)
    requires = (
        "probabilities or samples (a distribution built from argmax answers collapses to the mode)"
    )

    @staticmethod
    @abstractmethod
    def distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Distance between distributions on the last axis."""

    def _rows(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[Probs]]:
        """Valid trials with a human answer and a simulated distribution (the probabilities,
        else the shares of the samples), with those answers and distributions."""
        valid = valid_rows(frame)
        require(valid, "person_id", "item_id", "human_answer", "probabilities", "samples")
        keep, humans, dists = [], [], []
        rows = zip(
            column(valid, "human_answer"),
            column(valid, "probabilities"),
            column(valid, "samples"),
            strict=True,
        )
        for raw_human, raw_probs, raw_samples in rows:
            human, dist = as_code(raw_human), as_probs(raw_probs)
            if dist is None and (samples := as_codes(raw_samples)) is not None:
                dist = Probs()
                for code in samples:
                    dist[code] = dist.get(code, 0.0) + 1.0 / len(samples)
            ok = human is not None and dist is not None
            keep.append(ok)
            if ok:
                humans.append(cast(str, human))
                dists.append(cast(Probs, dist))
        return valid.loc[np.asarray(keep, dtype=bool)], humans, dists

    def applicable(self, frame: pd.DataFrame) -> bool:
        valid = valid_rows(frame)
        require(valid, "human_answer", "probabilities", "samples")
        rows = zip(
            column(valid, "human_answer"),
            column(valid, "probabilities"),
            column(valid, "samples"),
            strict=True,
        )
        return any(
            as_code(h) is not None and (as_probs(p) is not None or as_codes(s) is not None)
            for h, p, s in rows
        )

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        rows, humans, dists = self._rows(frame)
        n = len(rows)
        # one human entry per trial, then one simulated entry per (trial, option)
        sizes = np.fromiter((len(d) for d in dists), dtype=np.int64, count=n)
        sim_row = np.repeat(np.arange(n), sizes)
        entry_row = np.concatenate([np.arange(n), sim_row])
        codes = np.array(humans + list(chain.from_iterable(dists)), dtype=object)
        sim_mass = np.fromiter(chain.from_iterable(d.values() for d in dists), dtype=float)
        weights = np.concatenate([np.ones(n), sim_mass])
        side = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(len(sim_row), dtype=np.int64)])
        item, option, n_items, n_options = _cells(_item_keys(rows)[entry_row], codes)
        index = (item * n_options + option) * 2 + side
        people = rows["person_id"].to_numpy(dtype=object)[entry_row]
        shape = (n_items, n_options, 2)
        return ClusterStats.from_entries(people, index, weights, shape, n=n)

    def value(self, agg: np.ndarray) -> np.ndarray:
        return self.item_mean(agg[..., 0], agg[..., 1])

    def item_mean(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Mean over items (axis -2) of the distance between normalised counts ``a`` and
        ``b`` (shape ``(..., I, K)``), over items where both have mass."""
        ta, tb = a.sum(axis=-1, keepdims=True), b.sum(axis=-1, keepdims=True)
        ok = (ta > 0) & (tb > 0)
        p = np.where(ok, ratio(a, ta), 0.0)
        q = np.where(ok, ratio(b, tb), 0.0)
        d = np.where(ok[..., 0], self.distance(p, q), 0.0)
        return ratio(d.sum(axis=-1), ok[..., 0].sum(axis=-1))


@metric("js_distance")
class JSDistance(DistributionMetric):
    """Jensen-Shannon distance (base 2, in [0, 1]) between simulated and human answer
    distributions, averaged over items."""

    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return js_distance(p, q)


@metric("total_variation")
class TotalVariation(DistributionMetric):
    """Total variation distance (0.5 * sum |p - q|, in [0, 1]) between simulated and human
    answer distributions, averaged over items."""

    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return total_variation(p, q)


def noise_floor(
    frame: pd.DataFrame,
    distance: DistanceName | str = "js_distance",
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
    dist = get_metric(distance)
    if not isinstance(dist, DistributionMetric):
        raise ValueError(f"noise_floor needs a distribution distance, not {distance!r}")
    require(frame, "person_id", "item_id", "human_answer")
    keys = ["task", "person_id", "item_id"] if "task" in frame.columns else ["person_id", "item_id"]
    answers = frame.loc[frame["human_answer"].notna(), [*keys, "human_answer"]]
    answers = answers.drop_duplicates(subset=keys, keep="first")
    codes, people = pd.factorize(answers["person_id"].to_numpy(dtype=object), sort=True)
    n_people, n_answers = len(people), len(answers)
    nan = Estimate(math.nan, math.nan, math.nan, n_people, n_answers, "split-half", level)
    if n_people < 2:
        return nan
    item, option, n_items, n_options = _cells(
        _item_keys(answers), answers["human_answer"].astype(str).to_numpy(dtype=object)
    )
    flat_cells = n_items * n_options
    counts = np.bincount(
        codes * flat_cells + item * n_options + option, minlength=n_people * flat_cells
    ).reshape(n_people, flat_cells)
    half = n_people // 2
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_splits, MAX_ELEMENTS // (n_people + flat_cells)))
    values = []
    for start in range(0, n_splits, chunk):
        rows = min(chunk, n_splits - start)
        perm = np.argsort(rng.random((rows, n_people)), axis=1)
        first, second = np.zeros((rows, n_people)), np.zeros((rows, n_people))
        np.put_along_axis(first, perm[:, :half], 1.0, axis=1)
        np.put_along_axis(second, perm[:, half : 2 * half], 1.0, axis=1)
        a = (first @ counts).reshape(rows, n_items, n_options)
        b = (second @ counts).reshape(rows, n_items, n_options)
        values.append(dist.item_mean(a, b))
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
