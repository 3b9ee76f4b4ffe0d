"""The gap table from per-person sums, accumulated over chunks of the results.

Every interval of the gap table's mean metrics (accuracy, log-loss, Brier) and of macro-F1
is a function of per-person sums (:class:`ClusterStats`): the CR2 t interval needs each
person's score sum and trial count, the person bootstrap resamples those rows. Summed chunk
by chunk (:meth:`TableSums.add`), the table needs one chunk of its columns
(:data:`TABLE_COLUMNS`) at a time instead of every row: at a million trials that is the
difference between a few MB and the whole results frame.

The sums are exactly those of the row path (:func:`behaviorlab.analysis._gap._row`): the
same people, sorted the same way, the same per-person totals (added in another order, so
equal to float rounding), hence the same estimates and the same bootstrap draws for a seed.
Metrics that do not decompose this way (the distribution distances, a family's or a user's
metric, which may read any column) are left to the row path: :meth:`TableSums.row` asks
for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.analysis._frame import as_code, decoded, failure_counts, valid_rows
from behaviorlab.analysis._metrics import (
    Accuracy,
    Brier,
    LogLoss,
    MacroF1,
    Metric,
    interval_of,
    is_mean,
)
from behaviorlab.analysis._numeric_trials import _meta
from behaviorlab.analysis._report import GapRow
from behaviorlab.analysis._small_sample import mean_estimate

CHUNK_ROWS = 50_000
"""Rows :func:`gap` reads from a store at a time (for the sums, and for the frame of the rest)."""

Key = tuple[str, str, str]
"""(task, simulator, condition): one row of the gap table."""

TABLE_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "person_id",
    "error",
    "error_kind",
    "correct",
    "answer",
    "human_answer",
    "probabilities",
    "meta",
)
"""The results columns the summed metrics and the table's counts read (``meta`` for which
trials are numeric, which macro-F1 leaves out)."""

_SUMMED: tuple[type, ...] = (Accuracy, LogLoss, Brier, MacroF1)
"""Metric classes whose statistics are summed here (their subclasses may read other columns
or override ``stats``, so they take the row path)."""

NUMERIC = "numeric"


def option_code_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the trials of numeric questions (``meta["answer_type"] ==
    "numeric"``): their answers are numbers, which the option-code analyses (macro-F1, the
    distribution distances, item-level shares, the noise floor) would read as codes."""
    if "meta" not in frame.columns:
        return frame
    numeric = np.array([_meta(m).get("answer_type") == NUMERIC for m in frame["meta"]], bool)
    return frame.loc[~numeric] if numeric.any() else frame


NumericRule = Callable[[pd.DataFrame], pd.DataFrame]
"""The valid trials whose answers are option codes (``option_code_rows`` of the gap)."""


def summed(m: Metric) -> bool:
    """Whether metric ``m``'s statistics are summed over chunks (a built-in mean metric or
    macro-F1, not a subclass)."""
    return type(m) in _SUMMED


def _merge(a: ClusterStats | None, b: ClusterStats) -> ClusterStats:
    """The per-person sums of ``a`` and ``b`` together (people sorted, as ``from_rows``)."""
    if a is None or a.n_clusters == 0:
        return b
    if b.n_clusters == 0:
        return a
    clusters = np.concatenate([a.clusters, b.clusters])
    both = ClusterStats.from_rows(clusters, np.concatenate([a.values, b.values]))
    return ClusterStats(both.clusters, both.values, a.n + b.n)


@dataclass
class _Group:
    """Running sums of one (task, simulator, condition)."""

    n: int = 0
    n_valid: int = 0
    n_coded: int = 0
    failed: int = 0
    invalid: int = 0
    people: set[str] = field(default_factory=set)
    applicable: dict[str, bool] = field(default_factory=dict)
    stats: dict[str, ClusterStats] = field(default_factory=dict)
    f1: dict[str, pd.Series] = field(default_factory=dict)
    f1_n: dict[str, int] = field(default_factory=dict)


def _f1_entries(rows: pd.DataFrame) -> tuple[pd.Series, int]:
    """Macro-F1's per-(person, code, slot) counts of ``rows`` (slot 0 true positives, 1 the
    human count, 2 the predicted count: :class:`MacroF1`'s event) and the trials counted."""
    truth = [as_code(v) for v in rows["human_answer"].tolist()]
    pred = [as_code(v) for v in rows["answer"].tolist()]
    people = rows["person_id"].tolist()
    both = zip(people, truth, pred, strict=True)
    kept = [(g, t, p) for g, t, p in both if t is not None and p is not None]
    if not kept:
        return pd.Series(dtype=float), 0
    g, t, p = (list(x) for x in zip(*kept, strict=True))
    hit = [float(a == b) for a, b in zip(t, p, strict=True)]
    one = [1.0] * len(g)
    index = pd.MultiIndex.from_arrays(
        [g * 3, t + t + p, [0] * len(g) + [1] * len(g) + [2] * len(g)],
        names=["person", "code", "slot"],
    )
    counts = pd.Series(hit + one + one, index=index).groupby(level=[0, 1, 2]).sum()
    return counts, len(g)


def _f1_stats(counts: pd.Series, n: int) -> ClusterStats:
    """:meth:`MacroF1.stats` from summed counts (codes sorted, people sorted)."""
    people = counts.index.get_level_values(0).to_numpy(dtype=object)
    code_of = counts.index.get_level_values(1)
    codes = {c: i for i, c in enumerate(sorted(set(code_of)))}
    index = np.array([codes[c] for c in code_of], dtype=np.int64) * 3
    index += counts.index.get_level_values(2).to_numpy(dtype=np.int64)
    return ClusterStats.from_entries(
        people, index, counts.to_numpy(dtype=float), (len(codes), 3), n=n
    )


class TableSums:
    """Per-person sums of the summed ``metrics`` for every (task, simulator, condition),
    accumulated chunk by chunk (:meth:`add`), and the gap rows made from them (:meth:`row`).

    ``code_rows`` keeps the valid trials whose answers are option codes (macro-F1's)."""

    def __init__(self, metrics: Mapping[str, Metric], code_rows: NumericRule) -> None:
        self.metrics = {n: m for n, m in metrics.items() if summed(m)}
        self.code_rows = code_rows
        self.groups: dict[Key, _Group] = {}
        self.tasks: set[str] = set()
        self.rows_read = 0
        self.largest_chunk = 0

    def add(self, chunk: pd.DataFrame) -> None:
        """Add one chunk of the results (with at least :data:`TABLE_COLUMNS`)."""
        self.rows_read += len(chunk)
        self.largest_chunk = max(self.largest_chunk, len(chunk))
        if chunk.empty:
            return
        chunk = decoded(chunk)
        by = ["task", "simulator", "condition"]
        for (t, s, c), rows in chunk.groupby(by, dropna=False, sort=False):
            key = (str(t), str(s), str(c))
            self.tasks.add(key[0])
            self._add_group(self.groups.setdefault(key, _Group()), rows)

    def _add_group(self, group: _Group, rows: pd.DataFrame) -> None:
        valid = valid_rows(rows)
        coded = self.code_rows(valid)
        failed, invalid = failure_counts(rows)
        group.n += len(rows)
        group.n_valid += len(valid)
        group.n_coded += len(coded)
        group.failed += failed
        group.invalid += invalid
        group.people.update(str(p) for p in valid["person_id"].unique())
        for name, m in self.metrics.items():
            if isinstance(m, MacroF1):
                if coded.empty:
                    continue
                counts, n = _f1_entries(coded)
                if n:
                    old = group.f1.get(name)
                    group.f1[name] = counts if old is None else old.add(counts, fill_value=0.0)
                    group.f1_n[name] = group.f1_n.get(name, 0) + n
                continue
            if valid.empty:
                continue
            if not group.applicable.get(name, False):
                group.applicable[name] = m.applicable(valid)
            group.stats[name] = _merge(group.stats.get(name), m.stats(valid))

    def keys(self) -> Iterable[Key]:
        return self.groups.keys()

    def estimate(self, key: Key, name: str, settings: Mapping[str, Any]) -> Estimate | None:
        """:func:`estimate_valid` of summed metric ``name`` on the trials of ``key``."""
        group, m = self.groups[key], self.metrics[name]
        if isinstance(m, MacroF1):
            counts = group.f1.get(name)
            if counts is None:
                return None
            return _estimate(m, _f1_stats(counts, group.f1_n[name]), settings)
        stats = group.stats.get(name)
        if stats is None or not group.applicable.get(name, False):
            return None
        return _estimate(m, stats, settings)

    def row(
        self,
        key: Key,
        chosen: Mapping[str, Metric],
        is_baseline: bool,
        settings: dict[str, Any],
        on_codes: Callable[[Metric], bool],
        from_rows: Callable[[Key, str], Estimate | None],
    ) -> GapRow:
        """The gap row of ``key``: counts and summed metrics from the sums, the other
        metrics from ``from_rows(key, name)`` (the row path)."""
        group = self.groups[key]
        estimates: dict[str, Estimate | None] = {}
        missing: dict[str, str] = {}
        for name, m in chosen.items():
            est = (
                self.estimate(key, name, settings) if name in self.metrics else from_rows(key, name)
            )
            estimates[name] = est
            if est is None:
                n_rows = group.n_coded if on_codes(m) else group.n_valid
                missing[name] = (
                    f"needs {m.requires or 'other data'}"
                    if n_rows
                    else "numeric answers are not option codes"
                    if group.n_valid
                    else "no valid trials"
                )
        return GapRow(
            *key,
            baseline=is_baseline,
            n=group.n,
            n_valid=group.n_valid,
            n_failed=group.failed,
            n_invalid=group.invalid,
            n_people=len(group.people),
            estimates=estimates,
            missing=missing,
        )


def _estimate(m: Metric, stats: ClusterStats, settings: Mapping[str, Any]) -> Estimate | None:
    """The tail of :func:`estimate_valid` once the statistics are known."""
    if stats.n == 0:
        return None
    options = interval_of(m)
    boot = {k: settings[k] for k in ("n_resamples", "seed", "level")}
    interval = settings.get("interval", "auto")
    if is_mean(m):
        return mean_estimate(
            stats,
            m.value,
            stats.values[:, 0],
            stats.values[:, 1],
            interval=interval,
            bounds=options["bounds"],
            **boot,
        )
    if interval == "cr2":
        raise ValueError(f"the CR2 t interval needs a mean metric, not {type(m).__name__}")
    return cluster_bootstrap(stats, m.value, **boot, **options)
