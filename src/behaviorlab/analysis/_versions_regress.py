"""The people and items that regressed from one version to the next, and windowed forgetting
per person group, for :func:`behaviorlab.analysis.versions` (docs/versions.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import (
    basic_interval,
    bootstrap_replicates,
    percentile_interval,
)
from behaviorlab.analysis._metrics import ratio

Correction = Literal["holm", "fdr_bh"]
Family = Literal["series", "step"]
"""Which regression tests a correction covers: every step of a kind, or each step apart."""
_EXAMPLES = 5
"""How many missing people or items a note names."""


def _examples(values: Sequence[Any]) -> str:
    shown = ", ".join(str(v) for v in list(values)[:_EXAMPLES])
    return shown + (" ..." if len(values) > _EXAMPLES else "")


def _bias_corrected(reps: np.ndarray, point: float, level: float) -> tuple[float, float, float]:
    """``2 * point - median(replicates)`` and the basic interval around it, for a minimum or a
    maximum over noisy estimates, whose bias the bootstrap reproduces (NaNs when undefined)."""
    finite = reps[np.isfinite(reps)]
    if not math.isfinite(point) or finite.size == 0:
        return math.nan, math.nan, math.nan
    low, high = basic_interval(reps, point, level)
    return 2.0 * point - float(np.median(finite)), low, high


def _regressions(
    scores: Mapping[str, pd.DataFrame],
    higher: bool,
    alpha: float,
    correction: Correction,
    family: Family = "series",
) -> pd.DataFrame:
    """One-sided sign tests per step, kind and unit, corrected within each ``family``: all
    steps of a kind together (``"series"``) or each (step, kind) apart (``"step"``). A unit
    with no trial whose score changed is not tested (``tested`` false, p 1) and does not
    count in the correction's number of tests."""
    from scipy.stats import binom

    labels, parts = list(scores), []
    for a, b in pairwise(labels):
        before = scores[a]["score"].to_numpy(dtype=float)
        after = scores[b]["score"].to_numpy(dtype=float)
        delta = (after - before) * (1.0 if higher else -1.0)
        for kind, col in (("person", "person_id"), ("item", "item_id")):
            codes, units = pd.factorize(scores[a][col].astype(str), sort=True)
            n = np.bincount(codes, minlength=len(units)).astype(float)
            worse = np.bincount(codes, delta < 0, minlength=len(units))
            better = np.bincount(codes, delta > 0, minlength=len(units))
            mean_before = np.bincount(codes, before, minlength=len(units)) / n
            mean_after = np.bincount(codes, after, minlength=len(units)) / n
            discordant = worse + better
            p = np.where(discordant > 0, binom.sf(worse - 1, np.maximum(discordant, 1), 0.5), 1.0)
            cells: dict[str, Any] = {"before_version": a, "after_version": b, "kind": kind}
            cells |= {"unit": units, "n": n, "before": mean_before, "after": mean_after}
            cells |= {"change": mean_after - mean_before, "worse": worse, "better": better}
            parts.append(pd.DataFrame(cells | {"tested": discordant > 0, "p_value": p}))
    cols = ["before_version", "after_version", "kind", "unit", "n", "before", "after"]
    cols += ["change", "worse", "better", "tested", "p_value", "p_adjusted", "regressed"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True).assign(p_adjusted=1.0, regressed=False)[cols]
    out[["n", "worse", "better"]] = out[["n", "worse", "better"]].astype(int)
    by = ["kind"] if family == "series" else ["before_version", "after_version", "kind"]
    for _, family_rows in out.loc[out["tested"]].groupby(by, sort=False):
        reject, p_adj = _corrected(family_rows["p_value"].to_numpy(), alpha, correction)
        out.loc[family_rows.index, "p_adjusted"] = p_adj
        out.loc[family_rows.index, "regressed"] = reject
    out["regressed"] = out["regressed"].astype(bool)
    step = out["before_version"].map({v: k for k, v in enumerate(labels)})
    order = out.assign(_step=step).sort_values(["_step", "kind", "p_value", "unit"], kind="stable")
    return order.drop(columns="_step")  # steps in series order, not by label


def _corrected(
    p: np.ndarray, alpha: float, correction: Correction
) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.stats.multitest import multipletests

    reject, p_adj, _, _ = multipletests(p, alpha=alpha, method=correction)
    return np.asarray(reject, dtype=bool), np.asarray(p_adj, dtype=float)


def windowed_forgetting(acc: np.ndarray, window: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The largest drop ``acc[m] - acc[n]`` over versions ``m < n < m + window`` (the last
    axis of ``acc`` is the version), and the pairs ``(m, n)`` considered. Negative when the
    metric only rose."""
    n_versions = acc.shape[-1]
    pairs = [(m, n) for m in range(n_versions) for n in range(m + 1, min(n_versions, m + window))]
    drops = np.stack([acc[..., m] - acc[..., n] for m, n in pairs], axis=-1)
    return np.nanmax(drops, axis=-1), pairs


def _forgetting(
    scores: Mapping[str, pd.DataFrame],
    people: np.ndarray,
    groups: Mapping[str, Any] | None,
    window: int,
    higher: bool,
    level: float,
    **boot: Any,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    labels, notes = list(scores), []
    names, given = ["all people"], {}
    if groups:
        given = {str(k): str(v) for k, v in groups.items() if not pd.isna(v)}
        lacking = [p for p in people if p not in given]
        if lacking:
            notes.append(
                f"{len(lacking)} people have no group and count only in 'all people' "
                f"({_examples(lacking)})"
            )
        names += sorted({given[p] for p in people if p in given})
    slot = {n: j for j, n in enumerate(names)}
    values = np.zeros((len(people), len(labels), len(names), 2))
    index = {p: g for g, p in enumerate(people)}
    member = np.asarray([slot[given[p]] if p in given else -1 for p in people]) if groups else None
    for v, frame in enumerate(scores.values()):
        sums = frame.groupby(frame["person_id"].astype(str))["score"].agg(["sum", "count"])
        g = sums.index.map(index).to_numpy()
        values[g, v, 0, 0], values[g, v, 0, 1] = sums["sum"], sums["count"]
        if member is not None:
            has = member[g] >= 0
            values[g[has], v, member[g[has]], 0] = sums["sum"].to_numpy()[has]
            values[g[has], v, member[g[has]], 1] = sums["count"].to_numpy()[has]
    sign = 1.0 if higher else -1.0

    def stat(agg: np.ndarray) -> np.ndarray:
        acc = np.swapaxes(ratio(agg[..., 0], agg[..., 1]), -1, -2)  # (..., H, V)
        wf, _ = windowed_forgetting(sign * acc, window)
        return np.concatenate([acc, wf[..., None]], axis=-1)

    point = stat(values.sum(axis=0))
    reps = bootstrap_replicates(values, stat, **boot)
    _, pairs = windowed_forgetting(np.zeros(len(labels)), window)
    acc_point = sign * point[:, :-1]
    forget, traj = [], []
    for h, name in enumerate(names):
        drops = [acc_point[h, m] - acc_point[h, n] for m, n in pairs]
        m, n = pairs[int(np.nanargmax(drops))]
        corrected, low, high = _bias_corrected(reps[:, h, -1], float(point[h, -1]), level)
        people_in = int((values[:, 0, h, 1] > 0).sum())
        row = {"group": name, "people": people_in, "value": float(point[h, -1])}
        row |= {"corrected": corrected, "low": low, "high": high}
        forget.append(row | {"from_version": labels[m], "to_version": labels[n]})
        for v, label in enumerate(labels):
            lo, hi = percentile_interval(reps[:, h, v], level)
            row = {"group": name, "version": label, "value": float(point[h, v])}
            traj.append(row | {"low": lo, "high": hi})
    return pd.DataFrame(forget), pd.DataFrame(traj), notes
