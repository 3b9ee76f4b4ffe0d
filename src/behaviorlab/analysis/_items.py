"""Item-level comparison: per-item answer distributions, correlation across items, and
error-pattern agreement (:func:`item_level`, :func:`error_agreement`).

As in human-centred evaluations of vision-language models, the question is not only how
close the simulator is on average but whether it finds the same items easy and hard, and
the same answers popular, as people do. Per (item, option) cell we compare the share of
people giving that answer with the simulator's share (from its probabilities or samples,
never argmax answers), and correlate the cells (Pearson and Spearman). The intervals come from
a bootstrap over *items* (the correlation is a statement about items; people enter through the
cell shares): items are resampled with replacement, each resampled item bringing all its cells.
Spearman is recomputed on mid-ranks of each resample, counting an item drawn twice twice.

Error-pattern agreement needs an answer key: Cohen's kappa between "the simulator errs on this
item" and "most people err on this item" over items.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import (
    ClusterStats,
    Estimate,
    cluster_bootstrap,
    percentile_interval,
    weight_chunks,
)
from behaviorlab.analysis._distributions import JSDistance, _item_keys
from behaviorlab.analysis._frame import (
    as_code,
    as_codes,
    decoded,
    require,
    valid_rows,
    with_columns,
)
from behaviorlab.analysis._metrics import ratio

ITEM_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "item_id",
    "option",
    "human_share",
    "sim_share",
    "n",
)
AGREEMENT_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "pearson",
    "pearson_low",
    "pearson_high",
    "spearman",
    "spearman_low",
    "spearman_high",
    "n_items",
    "kappa",
    "kappa_low",
    "kappa_high",
    "note",
)
MIN_ITEMS = 3
NO_KEY = "no answer key: error-pattern agreement needs items with a correct answer"
FEW_ITEMS = f"fewer than {MIN_ITEMS} items: no correlation across items"


def kappa_value(agg: np.ndarray) -> np.ndarray:
    """Cohen's kappa from 2x2 counts ``[n00, n01, n10, n11]`` on the last axis (first index:
    rater a, second: rater b); NaN when chance agreement is 1."""
    n00, n01, n10, n11 = (agg[..., k] for k in range(4))
    total = n00 + n01 + n10 + n11
    observed = ratio(n00 + n11, total)
    a1, b1 = ratio(n10 + n11, total), ratio(n01 + n11, total)
    chance = a1 * b1 + (1.0 - a1) * (1.0 - b1)
    return ratio(observed - chance, 1.0 - chance)


def error_agreement(
    model_wrong: Any,
    human_majority_wrong: Any,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Estimate:
    """Cohen's kappa between two per-item booleans, "the model errs" and "most people err",
    with a percentile interval from a bootstrap over items (method ``"item-bootstrap"``;
    ``n_clusters`` counts the items). NaN when one of them is constant over the items."""
    a = np.asarray(model_wrong, dtype=bool)
    b = np.asarray(human_majority_wrong, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("model_wrong and human_majority_wrong must be 1-d and of equal length")
    cells = np.zeros((len(a), 4))
    cells[np.arange(len(a)), 2 * a.astype(int) + b.astype(int)] = 1.0
    stats = ClusterStats(np.arange(len(a)), cells, len(a))
    est = cluster_bootstrap(stats, kappa_value, n_resamples=n_resamples, seed=seed, level=level)
    return replace(est, method="item-bootstrap")


def _cell_table(group: pd.DataFrame) -> pd.DataFrame:
    """Per (item, option): human share, simulated share, trials; options are every code
    shown or answered for the item."""
    rows, humans, dists = JSDistance().trials(group)
    if rows.empty:
        return pd.DataFrame(columns=["key", "item_id", "option", "human", "sim", "n"])
    keys = _item_keys(rows)
    item_ids = rows["item_id"].astype(str).tolist()
    shown: list[list[str]] = [as_codes(v) or [] for v in rows["options"].tolist()]
    human: dict[tuple[str, str], float] = {}
    sim: dict[tuple[str, str], float] = {}
    options: dict[str, dict[str, None]] = {}
    trials: dict[str, int] = {}
    names: dict[str, str] = {}
    for key, item, h, dist, opts in zip(keys, item_ids, humans, dists, shown, strict=True):
        names[key] = item
        trials[key] = trials.get(key, 0) + 1
        known = options.setdefault(key, {})
        known.update(dict.fromkeys([*opts, h, *dist]))
        human[key, h] = human.get((key, h), 0.0) + 1.0
        for code, p in dist.items():
            sim[key, code] = sim.get((key, code), 0.0) + p
    records = [
        {
            "key": key,
            "item_id": names[key],
            "option": code,
            "human": human.get((key, code), 0.0) / trials[key],
            "sim": sim.get((key, code), 0.0) / trials[key],
            "n": trials[key],
        }
        for key in trials
        for code in sorted(options[key])
    ]
    return pd.DataFrame.from_records(records)


def _item_moments(x: np.ndarray, y: np.ndarray, item: np.ndarray, n_items: int) -> np.ndarray:
    """Per item ``[sum x, sum y, sum x^2, sum y^2, sum xy, cells]`` (additive over items)."""
    cols = np.column_stack([x, y, x * x, y * y, x * y, np.ones_like(x)])
    out = np.zeros((n_items, 6))
    np.add.at(out, item, cols)
    return out


def pearson_value(agg: np.ndarray) -> np.ndarray:
    """Pearson correlation from aggregated moments ``[sx, sy, sxx, syy, sxy, n]``."""
    sx, sy, sxx, syy, sxy, n = (agg[..., k] for k in range(6))
    cov = sxy - ratio(sx * sy, n)
    vx, vy = sxx - ratio(sx * sx, n), syy - ratio(sy * sy, n)
    den = np.sqrt(np.clip(vx, 0.0, None) * np.clip(vy, 0.0, None))
    tiny = 1e-10 * np.sqrt(np.clip(sxx * syy, 0.0, None))
    return np.where(den > tiny, ratio(cov, den), math.nan)


def _midranks(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mid-ranks of ``values`` (cells) in each row of ``weights`` (copies of each cell):
    ``rank = (weight of smaller values) + (weight of equal values + 1) / 2``."""
    order = np.argsort(values, kind="stable")
    tie = np.unique(values[order], return_inverse=True)[1]
    starts = np.flatnonzero(np.r_[True, tie[1:] != tie[:-1]])
    tied = np.add.reduceat(weights[:, order], starts, axis=1)
    below = np.cumsum(tied, axis=1) - tied
    group_rank = below + (tied + 1.0) / 2.0
    ranks = np.empty_like(weights)
    ranks[:, order] = group_rank[:, tie]
    return ranks


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1)
    mx, my = ratio((w * x).sum(axis=1), total), ratio((w * y).sum(axis=1), total)
    dx, dy = x - mx[:, None], y - my[:, None]
    cov, vx, vy = (w * dx * dy).sum(axis=1), (w * dx * dx).sum(axis=1), (w * dy * dy).sum(axis=1)
    den = np.sqrt(vx * vy)
    return np.where(den > 1e-9 * np.maximum(total, 1.0), ratio(cov, den), math.nan)


def correlations(
    x: np.ndarray, y: np.ndarray, item: np.ndarray, *, n_resamples: int, seed: int, level: float
) -> tuple[Estimate, Estimate]:
    """Pearson and Spearman correlation of cells ``x`` and ``y`` with percentile intervals
    from one bootstrap over items (``item`` numbers each cell's item from 0)."""
    n_items = int(item.max()) + 1
    moments = _item_moments(x, y, item, n_items)
    pearson = float(pearson_value(moments.sum(axis=0)))
    ones = np.ones((1, len(x)))
    spearman = float(_weighted_pearson(_midranks(x, ones), _midranks(y, ones), ones)[0])
    reps_p, reps_s = [], []
    for w in weight_chunks(n_items, n_resamples, seed, width=4 * len(x)):
        reps_p.append(pearson_value(w @ moments))
        cells = w[:, item]
        rx, ry = _midranks(x, cells), _midranks(y, cells)
        reps_s.append(_weighted_pearson(rx, ry, cells))
    out = []
    for point, reps in ((pearson, reps_p), (spearman, reps_s)):
        replicates = np.concatenate(reps)
        low, high = percentile_interval(replicates, level)
        finite = replicates[np.isfinite(replicates)]
        se = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
        method = "item-bootstrap"
        out.append(Estimate(point, low, high, n_items, len(x), method, level, se))
    return out[0], out[1]


def _human_key_correct(group: pd.DataFrame) -> pd.Series | None:
    """Per-trial human correctness against an answer key: the ``human_correct`` column, else
    ``scores["human_correct"]``; None when neither is there."""
    if "human_correct" in group.columns:
        values = pd.to_numeric(group["human_correct"], errors="coerce")
    elif "scores" in group.columns:
        values = pd.Series(
            [s.get("human_correct") if isinstance(s, dict) else None for s in group["scores"]],
            index=group.index,
            dtype=float,
        )
    else:
        return None
    return values if values.notna().any() else None


def error_pattern(group: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Per item with a known key: (the simulator errs on most of its trials, most people
    err). The simulator's correctness is ``scores["key_correct"]`` when given, else its answer
    against the key, which is the answer of any person marked correct (or, for two-option
    items where nobody is, the other option). None without per-trial human correctness."""
    human_ok = _human_key_correct(group)
    if human_ok is None:
        return None
    rows = group.assign(_human_ok=human_ok).loc[human_ok.notna()]
    model_wrong, human_wrong = [], []
    by = ["task", "item_id"] if "task" in rows.columns else ["item_id"]
    for _, item in rows.groupby(by, sort=True):
        answers = [as_code(v) for v in item["answer"].tolist()]
        scores = item["scores"].tolist() if "scores" in item.columns else [None] * len(item)
        given = [s.get("key_correct") if isinstance(s, dict) else None for s in scores]
        if all(g is not None for g in given):
            model_ok = np.asarray(given, dtype=float)
        else:
            key = _answer_key(item)
            if key is None:
                continue
            model_ok = np.array([float(a == key) for a in answers])
        model_wrong.append(bool(model_ok.mean() < 0.5))
        human_wrong.append(bool(item["_human_ok"].to_numpy(dtype=float).mean() < 0.5))
    return np.asarray(model_wrong, dtype=bool), np.asarray(human_wrong, dtype=bool)


def _answer_key(item: pd.DataFrame) -> str | None:
    right = item.loc[item["_human_ok"] >= 0.5, "human_answer"].dropna()
    if len(right):
        return str(right.mode().iloc[0])
    options = {c for v in item["options"].tolist() for c in (as_codes(v) or [])}
    wrong = {str(h) for h in item["human_answer"].dropna()}
    rest = options - wrong
    return rest.pop() if len(options) == 2 and len(rest) == 1 else None


def item_level(
    frame: pd.DataFrame, *, n_resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-item answer distributions of people and simulator, and their agreement across
    items, per (task, simulator, condition) with probabilities or samples.

    First table (:data:`ITEM_COLUMNS`): per item and option, ``human_share`` and
    ``sim_share`` over the ``n`` trials of the item. Second (:data:`AGREEMENT_COLUMNS`):
    Pearson and Spearman correlation of the two shares across (item, option) cells with
    intervals from a bootstrap over items (NaN with a note below 3 items), ``n_items``, and the
    error-pattern kappa (:func:`error_agreement`) when the trials carry human correctness
    against an answer key (a ``human_correct`` column), else NaN with a note saying so.
    """
    require(frame, "task", "simulator", "condition", "person_id", "item_id", "human_answer")
    valid = decoded(valid_rows(with_columns(frame, "probabilities", "samples", "options")))
    parts, agreement = [], []
    for (task, sim, cond), group in valid.groupby(["task", "simulator", "condition"], sort=True):
        cells = _cell_table(group)
        if cells.empty:
            continue
        key = {"task": str(task), "simulator": str(sim), "condition": str(cond)}
        parts.append(cells.assign(**key))
        agreement.append(key | _agreement(group, cells, n_resamples, seed, level))
    items = (
        pd.concat(parts, ignore_index=True)
        .rename(columns={"human": "human_share", "sim": "sim_share"})
        .loc[:, list(ITEM_COLUMNS)]
        if parts
        else _empty(ITEM_COLUMNS)
    )
    table = (
        pd.DataFrame.from_records(agreement, columns=list(AGREEMENT_COLUMNS))
        if agreement
        else _empty(AGREEMENT_COLUMNS)
    )
    return items, table


def _agreement(
    group: pd.DataFrame, cells: pd.DataFrame, n_resamples: int, seed: int, level: float
) -> dict[str, Any]:
    nan = math.nan
    out: dict[str, Any] = dict.fromkeys(AGREEMENT_COLUMNS[3:-1], nan)
    item, names = pd.factorize(cells["key"])
    out["n_items"] = len(names)
    notes = []
    if len(names) >= MIN_ITEMS:
        x, y = cells["human"].to_numpy(float), cells["sim"].to_numpy(float)
        pearson, spearman = correlations(
            x, y, item, n_resamples=n_resamples, seed=seed, level=level
        )
        for name, est in (("pearson", pearson), ("spearman", spearman)):
            out |= {name: est.value, f"{name}_low": est.low, f"{name}_high": est.high}
    else:
        notes.append(FEW_ITEMS)
    pattern = error_pattern(group)
    if pattern is None or len(pattern[0]) == 0:
        notes.append(NO_KEY)
    else:
        est = error_agreement(*pattern, n_resamples=n_resamples, seed=seed, level=level)
        out |= {"kappa": est.value, "kappa_low": est.low, "kappa_high": est.high}
    out["note"] = "; ".join(notes)
    return out


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    text = {"task", "simulator", "condition", "item_id", "option", "note"}
    ints = {"n", "n_items"}
    return pd.DataFrame(
        {
            c: pd.Series(dtype="object" if c in text else "int64" if c in ints else "float64")
            for c in columns
        }
    )
