"""Numeric and ordinal outcomes: how people's values and the twins' compare, item by item.

A trial is numeric when its result row says so (``meta["answer_type"]`` is ``"numeric"``, a
number answer, or ``"ordered"``, an option code on a scale) and both the person's answer and
the simulated one parse as numbers. Per (task, simulator, condition), over the items:

- ``correlation``: per item, Pearson's r between people's and twins' values across people,
  averaged over the items where both vary. Items where the twins' values do not vary (the
  simulator gives everyone the same number, which twins often do) have no correlation: they
  are counted (the ``n_flat`` column) and listed, not silently dropped; ``n_items_used`` says
  over how many items each metric is averaged, and ``correlation_flat0`` beside it counts the
  flat items as 0 (the correlation over every item where people vary).
- ``std_ratio``: per item, the twins' standard deviation over people's, averaged over items
  where people vary (a flat item counts as 0): below 1, twins are too uniform.
- ``glass_delta``: per item, (twins' mean − people's mean) / people's standard deviation
  (Glass's Δ), averaged over items where people vary; ``glass_delta_abs`` beside it, the mean
  of |Δ| (twins too high on some items and too low on others cancel in the signed mean).
- ``mae``: mean |h − s| over trials; ``accuracy``: mean of 1 − |h − s| / range over trials of
  items with a range (a numeric question's ``range``, an ordered one's code span).
- For twins that give a distribution (option probabilities or samples): ``expected_accuracy``
  (the accuracy expected under the distribution) and ``median_accuracy`` (the accuracy of its
  median).

Beside them, always, the baselines on the same trials: ``uniform`` (an answer drawn uniformly
over the range, or over the option codes of an ordered item, whose row records them in
``meta["codes"]``: its expected accuracy and absolute error, exactly), ``people_mean`` (the
training people's mean answer to the item, as the run's ``train_mean`` arm recorded it in its
rows' ``meta["training_mean"]``; NaN with a note when the results have no such arm) and
``loo_mean`` (each person predicted by the mean of the *other test* people's answers to the
item: in-sample, it uses the answers of the people being scored, which no twin sees; a
yardstick when no ``train_mean`` arm was run). Uniformly random answers score 0.75 on the
accuracy against a person at the middle of a numeric scale, 0.67 against people spread evenly
over it (about 0.63 in published twin studies; on a 1–5 Likert item 0.7 and 0.6), so accuracy
alone hides the gap.

Every number is a function of additive per-person sums (per item: n, Σh, Σs, Σh², Σs², Σhs,
Σ|h − s|, ...), so the person-clustered bootstrap is one matrix product (``W @ stats``) and
all metrics of an arm share one set of resamples. A numeric question without a range has no
accuracy: the ``note`` says which question, and in which file to add ``range: [lo, hi]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import (
    ClusterStats,
    bootstrap_replicates,
    percentile_interval,
)
from behaviorlab.analysis._frame import SupportsToPandas, as_frame, require, with_columns
from behaviorlab.analysis._metrics import ratio
from behaviorlab.analysis._numeric_trials import TRAINING_MEAN as TRAINING_MEAN
from behaviorlab.analysis._numeric_trials import TYPES as TYPES
from behaviorlab.analysis._numeric_trials import _meta as _meta  # read by _gap
from behaviorlab.analysis._numeric_trials import (
    _Trials,
    _trials,
    _uniform_error,
    numeric_rows,
    training_means,
)

NUMERIC_METRICS = (
    "correlation",
    "correlation_flat0",
    "std_ratio",
    "glass_delta",
    "glass_delta_abs",
    "mae",
    "accuracy",
    "expected_accuracy",
    "median_accuracy",
)
"""The metrics of :func:`numeric_outcomes`, in table order."""
BASELINE_METRICS = ("mae", "accuracy")
"""The metrics the baselines (``uniform``, ``people_mean``, ``loo_mean``) are given for."""
BASELINES = ("uniform", "people_mean", "loo_mean")
"""The baselines beside every MAE and accuracy (see the module docstring)."""
HIGHER_IS_BETTER = {
    "correlation": True,
    "correlation_flat0": True,
    "std_ratio": True,
    "glass_delta": True,
    "glass_delta_abs": False,
    "mae": False,
    "accuracy": True,
    "expected_accuracy": True,
    "median_accuracy": True,
}
"""Direction of each metric (``std_ratio`` is best at 1 and ``glass_delta`` at 0)."""
TARGETS = {"std_ratio": 1.0, "glass_delta": 0.0}
"""Metrics whose best value is a target, not an extreme."""
NUMERIC_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "metric",
    "value",
    "low",
    "high",
    "uniform",
    "uniform_low",
    "uniform_high",
    "people_mean",
    "people_mean_low",
    "people_mean_high",
    "loo_mean",
    "loo_mean_low",
    "loo_mean_high",
    "n_items",
    "n_items_used",
    "n_flat",
    "n_people",
    "n",
    "note",
)
ITEM_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "item_id",
    "n",
    "human_mean",
    "sim_mean",
    "human_sd",
    "sim_sd",
    "correlation",
    "std_ratio",
    "glass_delta",
    "mae",
    "accuracy",
    "flat",
)

# channels of the per-person, per-item sums
(N, H, S, HH, SS, HS, ABS, NR, ACC, ACC_U, ABS_U, NM, ABS_M, NMR, ACC_M, ND, EXP, MED) = range(18)
(NT, ABS_T, NTR, ACC_T) = range(18, 22)  # the training people's mean (train_mean's rows)
CHANNELS = 22
TINY = 1e-12


@dataclass(frozen=True)
class NumericOutcomes:
    """What :func:`numeric_outcomes` found: ``table`` (one row per arm and metric, with the
    baselines beside; columns :data:`NUMERIC_COLUMNS`), ``items`` (per arm and item,
    :data:`ITEM_COLUMNS`), ``flat`` (per arm, the items whose twins' values do not vary) and
    the resampling settings."""

    table: pd.DataFrame
    items: pd.DataFrame
    flat: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    n_resamples: int = 2000
    level: float = 0.95

    @property
    def empty(self) -> bool:
        return self.table.empty

    def value(self, metric: str, simulator: str | None = None) -> float:
        """One metric's value (of ``simulator``, or the only arm)."""
        rows = self.table.loc[self.table["metric"] == metric]
        if simulator is not None:
            rows = rows.loc[rows["simulator"] == simulator]
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} rows for metric {metric!r}, simulator {simulator!r}")
        return float(rows["value"].iloc[0])


def _rows(t: _Trials, item: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-trial flat event indices and weights of the additive sums."""
    n = len(t.h)
    ranged = np.isfinite(t.width)
    w = np.where(ranged, t.width, 1.0)
    d = np.abs(t.h - t.s)
    cols = np.zeros((n, CHANNELS))
    cols[:, N], cols[:, H], cols[:, S] = 1.0, t.h, t.s
    cols[:, HH], cols[:, SS], cols[:, HS] = t.h * t.h, t.s * t.s, t.h * t.s
    cols[:, ABS] = d
    abs_u = _uniform_error(t, w)
    cols[:, NR] = ranged
    # a simulated value outside the range scores 0 at worst, never below (see _outside)
    cols[:, ACC] = np.where(ranged, np.clip(1.0 - d / w, 0.0, 1.0), 0.0)
    cols[:, ACC_U] = np.where(ranged, 1.0 - abs_u / w, 0.0)
    cols[:, ABS_U] = np.where(ranged, abs_u, 0.0)
    # the mean of the other people's answers to the item
    key = pd.Series(t.h).groupby([item, t.people])
    own_sum, own_n = key.transform("sum").to_numpy(), key.transform("count").to_numpy()
    by_item = pd.Series(t.h).groupby(item)
    all_sum, all_n = by_item.transform("sum").to_numpy(), by_item.transform("count").to_numpy()
    others = all_n - own_n
    m = np.where(others > 0, (all_sum - own_sum) / np.maximum(others, 1), math.nan)
    has_m = np.isfinite(m)
    abs_m = np.abs(t.h - np.where(has_m, m, 0.0))
    cols[:, NM] = has_m
    cols[:, ABS_M] = np.where(has_m, abs_m, 0.0)
    cols[:, NMR] = has_m & ranged
    cols[:, ACC_M] = np.where(has_m & ranged, 1.0 - abs_m / w, 0.0)
    # the training people's mean (what the run's train_mean arm answered)
    has_t = np.isfinite(t.train)
    abs_t = np.abs(t.h - np.where(has_t, t.train, 0.0))
    cols[:, NT] = has_t
    cols[:, ABS_T] = np.where(has_t, abs_t, 0.0)
    cols[:, NTR] = has_t & ranged
    cols[:, ACC_T] = np.where(has_t & ranged, 1.0 - abs_t / w, 0.0)
    for i, dist in enumerate(t.dists):
        if dist is None or not ranged[i]:
            continue
        xs, ps = dist
        cols[i, ND] = 1.0
        hit = np.clip(1.0 - np.abs(t.h[i] - xs) / w[i], 0.0, 1.0)
        cols[i, EXP] = float(np.sum(ps * hit))
        median = xs[int(np.searchsorted(np.cumsum(ps), 0.5 - 1e-12))]
        cols[i, MED] = min(1.0, max(0.0, 1.0 - abs(t.h[i] - median) / w[i]))
    index = (item[:, None] * CHANNELS + np.arange(CHANNELS)[None, :]).ravel()
    return index, cols.ravel()


def _moments(agg: np.ndarray) -> dict[str, np.ndarray]:
    n = agg[..., N]
    mh, ms = ratio(agg[..., H], n), ratio(agg[..., S], n)
    vh = np.clip(ratio(agg[..., HH], n) - mh * mh, 0.0, None)
    vs = np.clip(ratio(agg[..., SS], n) - ms * ms, 0.0, None)
    cov = ratio(agg[..., HS], n) - mh * ms
    scale_h = np.maximum(np.abs(mh), 1.0)
    scale_s = np.maximum(np.abs(ms), 1.0)
    people_vary = (n >= 2) & (vh > TINY * scale_h * scale_h)
    twins_vary = (n >= 2) & (vs > TINY * scale_s * scale_s)
    return {
        "n": n,
        "mh": mh,
        "ms": ms,
        "vh": vh,
        "vs": vs,
        "cov": cov,
        "people_vary": people_vary,
        "twins_vary": twins_vary,
    }


def _item_values(agg: np.ndarray) -> dict[str, np.ndarray]:
    """Per item (last axis of the result): correlation, std ratio, Glass's Δ (NaN where not
    defined), and the flat mask (people vary, twins do not)."""
    m = _moments(agg)
    both = m["people_vary"] & m["twins_vary"]
    corr = np.where(both, ratio(m["cov"], np.sqrt(m["vh"] * m["vs"])), math.nan)
    sd_ratio = np.where(m["people_vary"], np.sqrt(ratio(m["vs"], m["vh"])), math.nan)
    n = m["n"]
    sd_h = np.sqrt(m["vh"] * ratio(n, n - 1.0))  # the people's sample standard deviation
    glass = np.where(m["people_vary"], ratio(m["ms"] - m["mh"], sd_h), math.nan)
    flat = m["people_vary"] & ~m["twins_vary"] & (n >= 2)
    flat0 = np.where(flat, 0.0, np.where(m["people_vary"], corr, math.nan))
    return {
        "correlation": corr,
        "correlation_flat0": flat0,
        "std_ratio": sd_ratio,
        "glass_delta": glass,
        "flat": flat,
    }


def _mean_over_items(values: np.ndarray) -> np.ndarray:
    ok = np.isfinite(values)
    return ratio(np.where(ok, values, 0.0).sum(axis=-1), ok.sum(axis=-1))


def _pooled(agg: np.ndarray, num: int, den: int) -> np.ndarray:
    return ratio(agg[..., num].sum(axis=-1), agg[..., den].sum(axis=-1))


def numeric_statistic(agg: np.ndarray) -> np.ndarray:
    """Every value of an arm from its summed statistics ``(..., items, CHANNELS)``: the
    metrics of :data:`NUMERIC_METRICS`, then the uniform, leave-one-out and training
    people's-mean MAE and accuracy (slots :data:`BASELINE_SLOTS`)."""
    per_item = _item_values(agg)
    out = [
        _mean_over_items(per_item["correlation"]),
        _mean_over_items(per_item["correlation_flat0"]),
        _mean_over_items(per_item["std_ratio"]),
        _mean_over_items(per_item["glass_delta"]),
        _mean_over_items(np.abs(per_item["glass_delta"])),
        _pooled(agg, ABS, N),
        _pooled(agg, ACC, NR),
        _pooled(agg, EXP, ND),
        _pooled(agg, MED, ND),
        _pooled(agg, ABS_U, NR),
        _pooled(agg, ACC_U, NR),
        _pooled(agg, ABS_M, NM),
        _pooled(agg, ACC_M, NMR),
        _pooled(agg, ABS_T, NT),
        _pooled(agg, ACC_T, NTR),
    ]
    return np.stack(out, axis=-1)


BASELINE_SLOTS = {
    (base, metric): len(NUMERIC_METRICS) + k
    for k, (base, metric) in enumerate(
        (b, m) for b in ("uniform", "loo_mean", "people_mean") for m in BASELINE_METRICS
    )
}
"""Where :func:`numeric_statistic` puts each baseline, after the metrics."""
COVERS = {"mae": N, "accuracy": NR}
"""The trials a metric is over (channel counting them): all for MAE, ranged for accuracy."""
BASELINE_COVERS = {("uniform", "mae"): NR, ("uniform", "accuracy"): NR}
BASELINE_COVERS |= {("loo_mean", "mae"): NM, ("loo_mean", "accuracy"): NMR}
BASELINE_COVERS |= {("people_mean", "mae"): NT, ("people_mean", "accuracy"): NTR}
"""The trials each baseline is defined on: it is shown only when they are the metric's."""


def numeric_outcomes(
    results: pd.DataFrame | SupportsToPandas,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> NumericOutcomes:
    """Numeric and ordinal outcome metrics per (task, simulator, condition), with baselines
    and person-clustered percentile intervals (see the module docstring). Arms without a
    numeric trial are left out; an empty result when there is none."""
    frame = with_columns(as_frame(results), "probabilities", "samples", "meta", "answer")
    require(frame, "task", "simulator", "condition", "person_id", "item_id", "human_answer")
    rows = numeric_rows(frame)
    train = training_means(rows)
    records: list[dict[str, Any]] = []
    item_records: list[dict[str, Any]] = []
    flat: dict[tuple[str, str, str], list[str]] = {}
    groups = rows.groupby(["task", "simulator", "condition"], sort=True, dropna=False)
    for (task, sim, cond), group in groups:
        key = (str(task), str(sim), str(cond))
        t = _trials(group, train)
        if len(t.h) == 0:
            continue
        item, names = pd.factorize(t.items, sort=True)
        index, weights = _rows(t, item, len(names))
        people = np.repeat(t.people, CHANNELS)
        stats = ClusterStats.from_entries(
            people, index, weights, (len(names), CHANNELS), n=len(t.h)
        )
        point = numeric_statistic(stats.values.sum(axis=0))
        reps = bootstrap_replicates(
            stats.values, numeric_statistic, n_resamples=n_resamples, seed=seed
        )
        per_item = _item_values(stats.values.sum(axis=0))
        flat[key] = [str(names[j]) for j in np.flatnonzero(per_item["flat"])]
        item_records += _item_rows(key, names, stats.values.sum(axis=0), per_item)
        used = _items_used(stats.values.sum(axis=0), per_item)
        totals = stats.values.sum(axis=(0, 1))
        records += _arm_rows(key, t, names, point, reps, level, flat[key], totals, used)
    table = pd.DataFrame.from_records(records, columns=list(NUMERIC_COLUMNS))
    items = pd.DataFrame.from_records(item_records, columns=list(ITEM_COLUMNS))
    return NumericOutcomes(table, items, flat, n_resamples, level)


def _interval(reps: np.ndarray, level: float) -> tuple[float, float]:
    return percentile_interval(reps, level)


def _arm_rows(
    key: tuple[str, str, str],
    t: _Trials,
    names: Any,
    point: np.ndarray,
    reps: np.ndarray,
    level: float,
    flat: list[str],
    totals: np.ndarray,
    used: Mapping[str, int],
) -> list[dict[str, Any]]:
    """One row per metric; a baseline defined on fewer trials than its metric (uniform MAE
    when some items have no range, a training mean missing for some items) is NaN, with a
    note saying on how many trials it is missing, never set beside a value over other trials."""
    out = []
    n_people = len(set(t.people.tolist()))
    unranged = {i: w for i, w in t.unranged.items() if i in set(names)}
    for j, metric in enumerate(NUMERIC_METRICS):
        low, high = _interval(reps[:, j], level)
        row: dict[str, Any] = dict(zip(("task", "simulator", "condition"), key, strict=True))
        row |= {"metric": metric, "value": float(point[j]), "low": low, "high": high}
        notes = []
        for base in BASELINES:
            slot = BASELINE_SLOTS.get((base, metric))
            short = 0
            if slot is not None:
                need, have = totals[COVERS[metric]], totals[BASELINE_COVERS[(base, metric)]]
                short = round(float(need - have)) if have > 0 else 0
            if slot is None or short > 0:
                row |= {base: math.nan, f"{base}_low": math.nan, f"{base}_high": math.nan}
                if short > 0:
                    notes.append(_short_note(base, metric, short, round(float(need))))
                continue
            b_low, b_high = _interval(reps[:, slot], level)
            row |= {base: float(point[slot]), f"{base}_low": b_low, f"{base}_high": b_high}
        row |= {"n_items": len(names), "n_items_used": used[metric], "n_flat": len(flat)}
        row |= {"n_people": n_people, "n": len(t.h)}
        if math.isfinite(row["value"]) or metric in ("accuracy", "correlation"):
            notes.insert(0, _note(metric, unranged, flat, len(names)))
        outside = _outside(t)
        if metric == "accuracy" and outside:
            notes.append(
                f"{outside} simulated value(s) lie outside their item's range: flagged, their "
                "accuracy held to [0, 1]"
            )
        if metric in BASELINE_METRICS and not np.isfinite(t.train).any():
            notes.append(NO_TRAINING_MEAN)
        row["note"] = "; ".join(n for n in notes if n)
        out.append(row)
    return out


NO_TRAINING_MEAN = (
    "no training people's mean (people_mean): the results have no train_mean arm; add "
    "{name: train_mean} to the run's simulators (loo_mean, the other test people's mean, is "
    "in-sample)"
)


def _items_used(agg: np.ndarray, per_item: Mapping[str, np.ndarray]) -> dict[str, int]:
    """Per metric, over how many items it is averaged (MAE and the accuracies: the items with
    trials they pool)."""
    defined = {m: int(np.isfinite(per_item[m]).sum()) for m in ("correlation", "std_ratio")}
    return {
        "correlation": defined["correlation"],
        "correlation_flat0": int(np.isfinite(per_item["correlation_flat0"]).sum()),
        "std_ratio": defined["std_ratio"],
        "glass_delta": defined["std_ratio"],
        "glass_delta_abs": defined["std_ratio"],
        "mae": int((agg[:, N] > 0).sum()),
        "accuracy": int((agg[:, NR] > 0).sum()),
        "expected_accuracy": int((agg[:, ND] > 0).sum()),
        "median_accuracy": int((agg[:, ND] > 0).sum()),
    }


def _outside(t: _Trials) -> int:
    """How many simulated values lie outside their item's range."""
    ranged = np.isfinite(t.width)
    lo, hi = t.lo[ranged], t.lo[ranged] + t.width[ranged]
    s = t.s[ranged]
    return int(np.sum((s < lo) | (s > hi)))


WHY_SHORT = {
    "uniform": "have no range",
    "loo_mean": "are the only answer to their item",
    "people_mean": "are of items the train_mean arm did not answer",
}


def _short_note(base: str, metric: str, short: int, need: int) -> str:
    return (
        f"no {base} baseline for {metric}: {short} of its {need} trials {WHY_SHORT[base]}, so "
        "it would not be on the same trials as the value"
    )


def _note(metric: str, unranged: Mapping[str, str], flat: list[str], n_items: int) -> str:
    if metric == "correlation" and flat:
        shown = ", ".join(flat[:5]) + (", ..." if len(flat) > 5 else "")
        return (
            f"{len(flat)} of {n_items} items have twins' values that do not vary (no "
            f"correlation; counted 0 in the std ratio and in correlation_flat0): {shown}"
        )
    if metric in ("accuracy", "expected_accuracy", "median_accuracy") and unranged:
        parts = [f"question {i!r} in {where}" for i, where in sorted(unranged.items())]
        return (
            f"refused for {len(unranged)} item(s) without a range: {'; '.join(parts[:3])}"
            f"{'; ...' if len(parts) > 3 else ''}: add range: [lo, hi] to the question"
        )
    return ""


def _item_rows(
    key: tuple[str, str, str], names: Any, agg: np.ndarray, per_item: Mapping[str, np.ndarray]
) -> list[dict[str, Any]]:
    m = _moments(agg)
    n = m["n"]
    sample = ratio(n, n - 1.0)
    out = []
    for j, name in enumerate(names):
        out.append(
            dict(zip(("task", "simulator", "condition"), key, strict=True))
            | {
                "item_id": str(name),
                "n": int(n[j]),
                "human_mean": float(m["mh"][j]),
                "sim_mean": float(m["ms"][j]),
                "human_sd": float(np.sqrt(m["vh"][j] * sample[j])),
                "sim_sd": float(np.sqrt(m["vs"][j] * sample[j])),
                "correlation": float(per_item["correlation"][j]),
                "std_ratio": float(per_item["std_ratio"][j]),
                "glass_delta": float(per_item["glass_delta"][j]),
                "mae": float(ratio(agg[j, ABS], agg[j, N])),
                "accuracy": float(ratio(agg[j, ACC], agg[j, NR])),
                "flat": bool(per_item["flat"][j]),
            }
        )
    return out
