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
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Literal, cast

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats
from behaviorlab.analysis._frame import (
    Probs,
    as_code,
    as_codes,
    as_probs,
    column,
    require,
    valid_rows,
)
from behaviorlab.analysis._metrics import metric, ratio

DistanceName = Literal["js_distance", "total_variation", "wasserstein"]


def js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2, so in [0, 1]) between distributions on the last axis.

    ``sqrt((KL(p||m) + KL(q||m)) / 2)`` with ``m = (p + q) / 2``; equals
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` for normalised inputs.
    """
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    m = 0.5 * (p + q)

    def kl_to_m(a: np.ndarray) -> np.ndarray:
        r = np.ones_like(a)
        # log r = 0 where a = 0 (no log(0)), and where m underflows to 0 beside a subnormal a
        np.divide(a, m, out=r, where=(a > 0) & (m > 0))
        return np.asarray(np.sum(a * np.log(r), axis=-1))

    js = (kl_to_m(p) + kl_to_m(q)) / (2.0 * math.log(2.0))
    return np.asarray(np.sqrt(np.maximum(js, 0.0)))


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total variation distance ``0.5 * sum |p - q|`` on the last axis, in [0, 1]."""
    diff = np.asarray(p, dtype=float) - np.asarray(q, dtype=float)
    return np.asarray(0.5 * np.abs(diff).sum(axis=-1))


@dataclass(frozen=True)
class Entries:
    """Answers to sum into per-person distribution statistics, one entry per human answer
    (``side`` 0, weight 1) or simulated option mass (``side`` 1, weight the probability);
    ``row`` is the trial each entry comes from."""

    people: np.ndarray
    items: np.ndarray
    codes: np.ndarray
    weights: np.ndarray
    side: np.ndarray
    row: np.ndarray


def option_codes(frame: pd.DataFrame) -> dict[str, set[str]]:
    """The option codes shown per (task, item) key, from the ``options`` column (empty when
    the column is absent)."""
    shown: dict[str, set[str]] = {}
    if "options" not in frame.columns:
        return shown
    for key, raw in zip(_item_keys(frame), frame["options"].tolist(), strict=True):
        if (codes := as_codes(raw)) is not None:
            shown.setdefault(key, set()).update(codes)
    return shown


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

    def trials(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[Probs]]:
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
        return self.build(*self.entries(frame))

    def entries(self, frame: pd.DataFrame) -> tuple[Entries, dict[str, set[str]]]:
        """The answers of :meth:`trials` as :class:`Entries`, and the options shown per item
        (the same for every distance, so callers computing several build them once)."""
        rows, humans, dists = self.trials(frame)
        n = len(rows)
        # one human entry per trial, then one simulated entry per (trial, option)
        sizes = np.fromiter((len(d) for d in dists), dtype=np.int64, count=n)
        sim_row = np.repeat(np.arange(n), sizes)
        entry_row = np.concatenate([np.arange(n), sim_row])
        entries = Entries(
            people=rows["person_id"].to_numpy(dtype=object)[entry_row],
            items=_item_keys(rows)[entry_row],
            codes=np.array(humans + list(chain.from_iterable(dists)), dtype=object),
            weights=np.concatenate(
                [np.ones(n), np.fromiter(chain.from_iterable(d.values() for d in dists), float)]
            ),
            side=np.concatenate([np.zeros(n, np.int64), np.ones(len(sim_row), np.int64)]),
            row=entry_row,
        )
        return entries, option_codes(rows)

    def human_stats(self, answers: pd.DataFrame) -> ClusterStats:
        """Per-person statistics of human answers alone (one row per person and item, columns
        ``person_id``, ``item_id``, ``human_answer``, optionally ``task`` and ``options``),
        laid out as :meth:`stats` lays out the human side; the simulated side is zero. The
        noise floor puts one half of the people on each side."""
        n = len(answers)
        entries = Entries(
            people=answers["person_id"].to_numpy(dtype=object),
            items=_item_keys(answers),
            codes=answers["human_answer"].astype(str).to_numpy(dtype=object),
            weights=np.ones(n),
            side=np.zeros(n, dtype=np.int64),
            row=np.arange(n),
        )
        return self.build(entries, option_codes(answers))

    def build(self, entries: Entries, options: Mapping[str, set[str]]) -> ClusterStats:
        """Sum ``entries`` into per-person statistics of event shape ``(I, K, 2)``: items,
        their options (numbered per item), human and simulated side. ``options`` (the codes
        shown per item) is not needed here; distances that use the scale do."""
        item, option, n_items, n_options = _cells(entries.items, entries.codes)
        index = (item * n_options + option) * 2 + entries.side
        shape = (n_items, n_options, 2)
        n = len(np.unique(entries.row))
        return ClusterStats.from_entries(entries.people, index, entries.weights, shape, n=n)

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
