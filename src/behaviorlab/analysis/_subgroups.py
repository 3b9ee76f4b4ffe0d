"""Accuracy by persona attribute and the disparity between groups: :func:`subgroup_gaps`.

People are grouped by each persona attribute (``persons``: ``person_id`` plus one column per
attribute, as ``Run.persons()`` returns). A numeric attribute with more than
:data:`MAX_LEVELS` distinct values is cut into quantile bins (3 by default, computed over the
people in the results, so every simulator sees the same bins), or at the edges the user gives;
other attributes (strings, booleans, numbers with few values) are used as they are. People
without a value are left out of that attribute. Groups with fewer than ``min_people`` people
are left out of both tables.

Each group's accuracy gets the same interval as :func:`estimate` on the group's trials
(the CR2 t interval below 100 people, else the percentile bootstrap). The disparity (largest
minus smallest group accuracy) comes from one bootstrap over all people: each replicate
resamples people from the whole sample (the groups' sizes vary as they would in a new sample),
recomputes every group's accuracy, so the interval accounts for which group comes out on top.
Max minus min is biased upwards (with equal true accuracies it is still positive, more so with
many small groups), and a percentile interval of the replicated max minus min never covers a
zero disparity; the interval is therefore built from simultaneous bootstrap intervals of all
pairwise differences (:func:`disparity_interval`), which covers 96-98% in the simulations of
``docs/statistics.md`` whether the groups differ or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats, bootstrap_replicates
from behaviorlab.analysis._frame import require, valid_rows
from behaviorlab.analysis._metrics import Accuracy, ratio
from behaviorlab.analysis._small_sample import IntervalChoice, mean_estimate

MAX_LEVELS = 5
"""A numeric attribute with more distinct values than this is binned."""
DEFAULT_BINS = 3

SUBGROUP_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "attribute",
    "group",
    "n_people",
    "n",
    "accuracy",
    "low",
    "high",
)
DISPARITY_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "attribute",
    "largest_group",
    "smallest_group",
    "disparity",
    "low",
    "high",
)

Bins = int | Sequence[float]


def _fmt(x: float) -> str:
    return f"{x:g}"


def _bin_labels(edges: np.ndarray, integer: bool) -> list[str]:
    """``[lo, hi]`` for the first bin and ``(lo, hi]`` after; ``a–b`` for integer data."""
    labels = []
    for k in range(len(edges) - 1):
        lo, hi = float(edges[k]), float(edges[k + 1])
        if integer:
            first = math.ceil(lo) if k == 0 else math.floor(lo) + 1
            last = math.floor(hi)
            labels.append(_fmt(first) if first == last else f"{_fmt(first)}–{_fmt(last)}")
        else:
            labels.append(f"{'[' if k == 0 else '('}{_fmt(lo)}, {_fmt(hi)}]")
    return labels


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _numeric(values: pd.Series) -> pd.Series | None:
    """``values`` as floats when every present value is a number (not a bool), else None."""
    present = [v for v in values.tolist() if not _missing(v)]
    if not present or not all(
        isinstance(v, int | float | np.integer | np.floating | str)
        and not isinstance(v, bool | np.bool_)
        for v in present
    ):
        return None
    as_num = pd.to_numeric(pd.Series(present, dtype=object), errors="coerce")
    if as_num.isna().any():
        return None
    return pd.Series(
        [math.nan if _missing(v) else float(v) for v in values.tolist()], index=values.index
    )


def attribute_groups(
    persons: pd.DataFrame, attribute: str, bins: Bins | None = None
) -> tuple[pd.Series, list[str]]:
    """Each person's group label for ``attribute`` (None when missing), and the groups in
    display order. ``bins``: a number of quantile bins or a sequence of edges (numeric
    attributes); None bins numbers with more than :data:`MAX_LEVELS` values into
    :data:`DEFAULT_BINS` quantile bins."""
    values = persons[attribute]
    numbers = _numeric(values)
    labels_of = [None if _missing(v) else str(v) for v in values.tolist()]
    distinct = len({v for v in labels_of if v is not None})
    if numbers is not None and (bins is not None or distinct > MAX_LEVELS):
        present = numbers.dropna()
        integer = bool(np.all(np.equal(np.mod(present, 1), 0)))
        if bins is None or isinstance(bins, int):
            q = DEFAULT_BINS if bins is None else bins
            edges = np.unique(np.quantile(present, np.linspace(0.0, 1.0, q + 1)))
        else:
            edges = np.asarray(sorted(bins), dtype=float)
        if len(edges) < 2:
            edges = np.array([present.min(), present.max()])
        labels = _bin_labels(edges, integer)
        x = numbers.to_numpy(dtype=float)
        # right-closed bins (lo, hi], the first one closed on the left too
        code = np.searchsorted(edges, x, side="left") - 1
        code[x == edges[0]] = 0
        inside = np.isfinite(x) & (code >= 0) & (code < len(labels))
        groups: list[object] = [
            labels[c] if ok else None for c, ok in zip(code, inside, strict=True)
        ]
    elif numbers is not None:
        labels = [_fmt(v) for v in sorted(numbers.dropna().unique())]
        groups = [_fmt(v) if math.isfinite(v) else None for v in numbers.tolist()]
    else:
        groups = list(labels_of)
        labels = sorted({g for g in labels_of if g is not None})
    return pd.Series(groups, index=persons.index, dtype="object"), labels


def disparity_interval(
    accuracy: np.ndarray, replicates: np.ndarray, level: float
) -> tuple[float, float]:
    """Interval for ``max - min`` of the group accuracies from simultaneous intervals of all
    pairwise differences (bootstrap max-|t|).

    ``replicates`` (B, K) are the group accuracies in each bootstrap replicate. With
    ``se_ij`` the replicates' spread of ``a_i - a_j`` and ``c`` the ``level`` quantile of
    ``max_ij |d*_ij - d_ij| / se_ij``, every ``d_ij +- c se_ij`` covers its true difference
    at once with probability about ``level``; then the true ``max - min = max_ij |d_ij|`` lies
    between ``max_ij`` of the smallest and of the largest ``|d|`` in those intervals (the
    smallest is 0 when an interval holds 0). Unlike a percentile interval of the replicated
    max - min, it covers a zero disparity.
    """
    rows = replicates[np.all(np.isfinite(replicates), axis=1)]
    if len(rows) < 2:
        return math.nan, math.nan
    i, j = np.triu_indices(len(accuracy), 1)
    diff = accuracy[i] - accuracy[j]
    spread = rows[:, i] - rows[:, j]
    se = spread.std(axis=0, ddof=1)
    t = np.where(se > 0, ratio(np.abs(spread - diff), se), 0.0)
    crit = float(np.quantile(t.max(axis=1), level))
    lo, hi = diff - crit * se, diff + crit * se
    smallest = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    largest = np.maximum(np.abs(lo), np.abs(hi))
    return float(np.clip(smallest.max(), 0.0, 1.0)), float(np.clip(largest.max(), 0.0, 1.0))


def _groups(
    key: dict[str, Any],
    attribute: str,
    stats: ClusterStats,
    group_of: np.ndarray,
    labels: list[str],
    min_people: int,
    settings: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows of the groups with ``min_people`` people, and which groups they are."""
    rows: list[dict[str, Any]] = []
    kept: list[int] = []
    for k, label in enumerate(labels):
        members = group_of == k
        if members.sum() < min_people:
            continue
        sub = stats.values[members]
        n = int(sub[:, 1].sum())
        sub_stats = ClusterStats(stats.clusters[members], sub, n)
        est = mean_estimate(
            sub_stats, Accuracy().value, sub[:, 0], sub[:, 1], bounds=(0.0, 1.0), **settings
        )
        kept.append(k)
        rows.append(
            key
            | {"attribute": attribute, "group": label, "n_people": int(members.sum()), "n": n}
            | {"accuracy": est.value, "low": est.low, "high": est.high}
        )
    return rows, kept


def _accuracies(agg: np.ndarray) -> np.ndarray:
    return ratio(agg[..., 0], agg[..., 1])


def _disparities(
    key: dict[str, Any],
    stats: ClusterStats,
    slots: list[tuple[str, list[str], np.ndarray]],
    settings: dict[str, Any],
) -> list[dict[str, Any]]:
    """Disparities of several attributes from one bootstrap over the arm's people: each
    attribute's groups are columns of one ``(people, groups, 2)`` statistic (a person's
    ``[correct, n]`` in their group's column), so all group accuracies of a replicate come
    from the same resampled people. ``slots``: (attribute, kept group labels, each person's
    column among them or -1)."""
    width = sum(len(names) for _, names, _ in slots)
    values = np.zeros((stats.n_clusters, width, 2))
    start = 0
    for _, names, slot in slots:
        inside = slot >= 0
        values[np.flatnonzero(inside), start + slot[inside]] = stats.values[inside]
        start += len(names)
    acc = _accuracies(values.sum(axis=0))
    reps = bootstrap_replicates(
        values, _accuracies, n_resamples=settings["n_resamples"], seed=settings["seed"]
    )
    out, start = [], 0
    for attribute, names, _ in slots:
        cols = slice(start, start + len(names))
        start += len(names)
        low, high = disparity_interval(acc[cols], reps[:, cols], settings["level"])
        point = acc[cols]
        out.append(
            key
            | {"attribute": attribute, "largest_group": names[int(np.argmax(point))]}
            | {"smallest_group": names[int(np.argmin(point))]}
            | {"disparity": float(point.max() - point.min()), "low": low, "high": high}
        )
    return out


def subgroup_gaps(
    frame: pd.DataFrame,
    persons: pd.DataFrame,
    attributes: Sequence[str] | None = None,
    *,
    bins: Bins | Mapping[str, Bins] | None = None,
    min_people: int = 5,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy per persona group and the disparity between groups, per (task, simulator,
    condition) and attribute (see the module docstring for grouping and intervals).

    ``attributes`` defaults to every column of ``persons`` but ``person_id``. ``bins`` is a
    number of quantile bins or a list of edges, for all numeric attributes or per attribute
    (a mapping). Returns (groups, disparities) with the columns of :data:`SUBGROUP_COLUMNS`
    and :data:`DISPARITY_COLUMNS`; a disparity needs two groups of ``min_people``.
    """
    require(frame, "task", "simulator", "condition", "person_id", "correct", "error")
    require(persons, "person_id")
    people = persons.drop_duplicates("person_id").assign(
        person_id=lambda p: p["person_id"].astype(str)
    )
    names = [c for c in people.columns if c != "person_id"] if attributes is None else attributes
    missing = [a for a in names if a not in people.columns]
    if missing:
        raise ValueError(f"persons has no attribute column(s) {', '.join(missing)}")
    valid = valid_rows(frame)
    studied = people.loc[people["person_id"].isin(frame["person_id"].astype(str))]
    grouping: dict[str, tuple[pd.Series, list[str]]] = {}
    for a in names:
        given = bins.get(a) if isinstance(bins, Mapping) else bins
        groups, labels = attribute_groups(studied, a, given)
        grouping[a] = (pd.Series(groups.to_numpy(), index=studied["person_id"]), labels)
    settings = {"n_resamples": n_resamples, "seed": seed, "level": level, "interval": interval}
    group_rows: list[dict[str, Any]] = []
    disparities: list[dict[str, Any]] = []
    keys = ["task", "simulator", "condition"]
    for (task, sim, cond), arm in valid.groupby(keys, sort=True):
        if not Accuracy().applicable(arm):
            continue
        stats = Accuracy().stats(arm)
        ids = pd.Index(stats.clusters.astype(str))
        key: dict[str, Any] = {"task": str(task), "simulator": str(sim), "condition": str(cond)}
        slots = []
        for a in names:
            groups, labels = grouping[a]
            position = {g: k for k, g in enumerate(labels)}
            member = groups.reindex(ids).map(position).fillna(-1).to_numpy(dtype=np.int64)
            rows, kept = _groups(key, a, stats, member, labels, min_people, settings)
            group_rows += rows
            if len(kept) >= 2:
                lookup = np.full(len(labels) + 1, -1)  # the last entry: people without a group
                lookup[kept] = np.arange(len(kept))
                slots.append((a, [labels[k] for k in kept], lookup[member]))
        if slots:
            disparities += _disparities(key, stats, slots, settings)
    return _table(group_rows, SUBGROUP_COLUMNS), _table(disparities, DISPARITY_COLUMNS)


def empty_subgroup_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two :func:`subgroup_gaps` tables without rows."""
    return _table([], SUBGROUP_COLUMNS), _table([], DISPARITY_COLUMNS)


def _table(records: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    if records:
        return pd.DataFrame.from_records(records, columns=list(columns))
    floats = {"accuracy", "low", "high", "disparity"}
    ints = {"n_people", "n"}
    return pd.DataFrame(
        {
            c: pd.Series(dtype="float64" if c in floats else "int64" if c in ints else "object")
            for c in columns
        }
    )
