"""The Wasserstein (earth mover's) distance for ordinal answers.

An item is ordinal when all its option codes parse as numbers (``"1"`` ... ``"7"``, ``"-1"``,
``"0.5"``); its codes are then positions on a scale, and how far the simulated answers sit from
the human ones along that scale matters, not only how much mass is misplaced (which is what JS
and total variation measure). The distance is the 1-Wasserstein distance between the two
answer distributions on the numeric codes, divided by the range of the item's codes (the
largest minus the smallest of the options shown, or of the codes seen when ``options`` is
missing), so it lies in [0, 1]: 1 means all mass at opposite ends of the scale. It is
averaged over the ordinal items; other items are left out. For two-option items it equals
the total variation distance.

Codes like ``98`` for "don't know" parse as numbers too and would stretch the scale; recode
them to non-numbers (e.g. ``"dk"``) to keep such items out, or to a scale point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats
from behaviorlab.analysis._distributions import DistributionMetric, Entries
from behaviorlab.analysis._metrics import ratio


def code_value(code: str) -> float | None:
    """The number an option code stands for, or None when it is not a finite number."""
    try:
        value = float(code)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def scale_positions(
    items: np.ndarray, codes: np.ndarray, options: Mapping[str, set[str]]
) -> np.ndarray:
    """Position in [0, 1] of each (item, code) entry on its item's scale: ``(x - lo) / (hi -
    lo)`` with ``lo``, ``hi`` the smallest and largest code of the item (shown options and
    codes seen). NaN for entries of items that are not ordinal (a code that is not a number,
    or fewer than two distinct values)."""
    seen: dict[str, set[str]] = {}
    for item, code in zip(items.tolist(), codes.tolist(), strict=True):
        seen.setdefault(item, set()).add(code)
    scale: dict[str, tuple[float, float]] = {}
    for item, item_codes in seen.items():
        values = [code_value(c) for c in item_codes | options.get(item, set())]
        numbers = [v for v in values if v is not None]
        if len(numbers) == len(values) and max(numbers) > min(numbers):
            scale[item] = (min(numbers), max(numbers) - min(numbers))
    out = np.full(len(items), math.nan)
    for j, (item, code) in enumerate(zip(items.tolist(), codes.tolist(), strict=True)):
        if item in scale:
            lo, width = scale[item]
            out[j] = (float(code) - lo) / width
    return out


def wasserstein(p: np.ndarray, q: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """1-Wasserstein distance between distributions ``p`` and ``q`` (last axis) placed at
    ascending ``positions`` (broadcast against them): ``sum_k |F_p - F_q|_k * (x_{k+1} -
    x_k)``, ``F`` the cumulative distributions. Equals ``scipy.stats.wasserstein_distance``
    with the positions as values and ``p``, ``q`` as weights."""
    cdf = np.cumsum(np.asarray(p, dtype=float) - np.asarray(q, dtype=float), axis=-1)
    gaps = np.diff(np.asarray(positions, dtype=float), axis=-1)
    return np.asarray(np.sum(np.abs(cdf[..., :-1]) * gaps, axis=-1))


class Wasserstein(DistributionMetric):
    """Wasserstein distance between simulated and human answer distributions on the numeric
    option codes, divided by the item's code range (so in [0, 1]), averaged over ordinal
    items (see the module docstring).

    The statistics add a third channel per (item, option) cell: the cell's scale position
    times its mass. Cells lie on one grid of positions shared by all items (sorted), and a
    cell's position is recovered in any resample as channel 2 over the cell's mass, so the
    statistics stay additive over people and the value needs nothing else.
    """

    requires = (
        "ordinal answers (option codes that all parse as numbers) with probabilities or samples"
    )

    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The distance for options at equally spaced positions from 0 to 1."""
        k = np.asarray(p).shape[-1]
        return wasserstein(p, q, np.linspace(0.0, 1.0, k) if k > 1 else np.zeros(1))

    def applicable(self, frame: pd.DataFrame) -> bool:
        return super().applicable(frame) and self.stats(frame).n > 0

    def build(self, entries: Entries, options: Mapping[str, set[str]]) -> ClusterStats:
        u = scale_positions(entries.items, entries.codes, options)
        keep = np.isfinite(u)
        if not keep.any():
            return ClusterStats.from_entries([], np.zeros(0), np.zeros(0), (0, 0, 3), n=0)
        grid, cell = np.unique(np.round(u[keep], 12), return_inverse=True)
        item, items = pd.factorize(entries.items[keep])
        base = (item.astype(np.int64) * len(grid) + cell) * 3
        weights = entries.weights[keep]
        people = entries.people[keep]
        return ClusterStats.from_entries(
            np.concatenate([people, people]),
            np.concatenate([base + entries.side[keep], base + 2]),
            np.concatenate([weights, weights * grid[cell]]),
            (len(items), len(grid), 3),
            n=len(np.unique(entries.row[keep])),
        )

    def value(self, agg: np.ndarray) -> np.ndarray:
        human, sim, moment = agg[..., 0], agg[..., 1], agg[..., 2]
        mass = human + sim
        # a cell's position where it has mass; empty cells take the previous one (cells are
        # sorted by position), which leaves the integral of |F_p - F_q| unchanged
        where = np.where(mass > 0, ratio(moment, mass), 0.0)
        positions = np.maximum.accumulate(where, axis=-1)
        ta, tb = human.sum(axis=-1, keepdims=True), sim.sum(axis=-1, keepdims=True)
        ok = (ta > 0) & (tb > 0)
        p = np.where(ok, ratio(human, ta), 0.0)
        q = np.where(ok, ratio(sim, tb), 0.0)
        d = np.where(ok[..., 0], wasserstein(p, q, positions), 0.0)
        return ratio(d.sum(axis=-1), ok[..., 0].sum(axis=-1))
