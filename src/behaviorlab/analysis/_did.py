"""Staggered difference-in-differences: ATT(g, t) in the sense of Callaway and Sant'Anna (2021).

Units adopt a treatment at different periods (their *group* ``g``, the first treated period;
never-treated units have no group). For each group and period, ATT(g, t) compares the change
in the outcome of group ``g`` from its base period to ``t`` with the same change in a control
group: units never treated (``control="never_treated"``) or not yet treated by ``t``
(``"not_yet_treated"``, never-treated included). The base period is ``g - 1`` for ``t >= g``
and ``t - 1`` before (the "varying" base, so pre-period cells test parallel trends period by
period). No covariates: the unconditional estimator, on a balanced panel.

Uncertainty comes from each unit's influence function: a multiplier bootstrap (Rademacher
weights, one per cluster; the unit by default) gives standard errors (the bootstrap IQR over
the normal IQR), pointwise intervals and, for the event-time aggregation, a uniform band.
Aggregations (by event time ``e = t - g`` and overall over post-treatment cells) weight cells
by group size, and their influence functions include the estimated weights'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

Control = Literal["never_treated", "not_yet_treated"]


@dataclass(frozen=True)
class StaggeredDiD:
    """ATT(g, t) cells, their event-time aggregation and the overall effect.

    ``cells`` has columns ``group, time, event_time, att, se, low, high, n_treated,
    n_control``; ``event_time`` has ``event_time, att, se, low, high, uniform_low,
    uniform_high``; ``overall`` holds ``att, se, low, high`` (post-treatment cells weighted by
    group size). ``dropped`` lists units treated in the first period (no pre-period).
    """

    cells: pd.DataFrame
    event_time: pd.DataFrame
    overall: dict[str, float]
    control: str
    alpha: float
    n_units: int
    n_clusters: int
    dropped: list[Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cells": self.cells.to_dict("records"),
            "event_time": self.event_time.to_dict("records"),
            "overall": self.overall,
            "control": self.control,
            "alpha": self.alpha,
            "n_units": self.n_units,
            "n_clusters": self.n_clusters,
            "dropped": self.dropped,
        }


def _wide(
    panel: pd.DataFrame, outcome: str, unit: str, time: str, group: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in (outcome, unit, time, group) if c not in panel.columns]
    if missing:
        raise ValueError(f"the panel has no column(s) {missing}; it has {list(panel.columns)}")
    if panel.duplicated([unit, time]).any():
        row = panel.loc[panel.duplicated([unit, time])].iloc[0]
        raise ValueError(f"unit {row[unit]!r} has two rows for period {row[time]!r}")
    groups = panel.groupby(unit)[group].nunique(dropna=False)
    if (groups > 1).any():
        raise ValueError(
            f"unit {groups.index[groups > 1][0]!r} has more than one {group!r}: the group "
            "is the unit's first treated period and must be the same on all its rows"
        )
    wide = panel.pivot(index=unit, columns=time, values=outcome).sort_index(axis=1)
    if wide.isna().any().any():
        bad = wide.index[wide.isna().any(axis=1)][0]
        raise ValueError(
            f"unit {bad!r} lacks {outcome!r} in some period: the estimator needs a balanced "
            "panel (every unit observed in every period); drop or impute such units"
        )
    g = panel.groupby(unit)[group].first().reindex(wide.index).to_numpy(dtype=float)
    g = np.where(np.isnan(g) | (g <= 0), np.inf, g)
    return wide.to_numpy(dtype=float), wide.columns.to_numpy(dtype=float), g, wide.index.to_numpy()


def _se(boot: np.ndarray) -> np.ndarray:
    q75, q25 = np.percentile(boot, [75, 25], axis=0)
    return np.asarray((q75 - q25) / (sps.norm.ppf(0.75) - sps.norm.ppf(0.25)))


def staggered_did(
    panel: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    control: Control = "never_treated",
    cluster: str | None = None,
    n_boot: int = 999,
    alpha: float = 0.05,
    seed: int = 0,
) -> StaggeredDiD:
    """ATT(g, t) of a long panel (one row per unit and period; ``group`` the unit's first
    treated period, 0 or missing for never treated), aggregated (see the module docs)."""
    if control not in ("never_treated", "not_yet_treated"):
        raise ValueError(f"control must be 'never_treated' or 'not_yet_treated'; got {control!r}")
    y, times, g, units = _wide(panel, outcome, unit, time, group)
    early = g <= times[0]
    dropped = list(units[early])
    y, g, units = y[~early], g[~early], units[~early]
    n = len(g)
    cohorts = np.unique(g[np.isfinite(g)])
    if len(cohorts) == 0:
        raise ValueError("no unit is ever treated (after dropping those treated in period one)")
    never = ~np.isfinite(g)
    if control == "never_treated" and not never.any():
        raise ValueError(
            "the panel has no never-treated units to compare with; use "
            "control='not_yet_treated' (units treated later serve until they are treated)"
        )
    rows, ifs = [], []
    for cohort in cohorts:
        treated = g == cohort
        for k in range(1, len(times)):
            t = times[k]
            base = int(np.searchsorted(times, cohort) - 1) if t >= cohort else k - 1
            if base < 0:
                continue
            controls = never.copy() if control == "never_treated" else (g > t) & ~treated
            if control == "not_yet_treated":
                controls |= never
            if not controls.any():
                continue
            dy = y[:, k] - y[:, base]
            m_t, m_c = dy[treated].mean(), dy[controls].mean()
            inf = (n / treated.sum()) * treated * (dy - m_t) - (n / controls.sum()) * controls * (
                dy - m_c
            )
            rows.append((cohort, t, t - cohort, m_t - m_c, int(treated.sum()), int(controls.sum())))
            ifs.append(inf)
    if not rows:
        raise ValueError(
            "no (group, period) cell has an untreated comparison group: every unit is treated "
            "by the last period; add never-treated units or drop the last periods"
        )
    att = np.array([r[3] for r in rows])
    psi = np.column_stack(ifs)
    cell_g = np.array([r[0] for r in rows])
    event = np.array([r[2] for r in rows])
    share = {c: float(np.mean(g == c)) for c in cohorts}

    def aggregate(mask: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.array([share[c] for c in cell_g[mask]])
        w = p / p.sum()
        dp = np.column_stack([(g == c) - share[c] for c in cell_g[mask]])
        dw = dp / p.sum() - np.outer(dp.sum(axis=1), p) / p.sum() ** 2
        return float(w @ att[mask]), psi[:, mask] @ w + dw @ att[mask]

    events = np.unique(event)
    agg = [aggregate(event == e) for e in events]
    post = event >= 0
    overall = aggregate(post) if post.any() else (float("nan"), np.zeros(n))
    all_if = np.column_stack([psi, *[a[1] for a in agg], overall[1]])
    all_est = np.concatenate([att, [a[0] for a in agg], [overall[0]]])

    if cluster is None:
        codes = np.arange(n)
    else:
        per_unit = panel.groupby(unit)[cluster].first().reindex(units)
        codes = pd.factorize(per_unit.to_numpy())[0]
    n_clusters = int(codes.max()) + 1
    summed = np.zeros((n_clusters, all_if.shape[1]))
    np.add.at(summed, codes, all_if)
    rng = np.random.default_rng(seed)
    weights = rng.choice([-1.0, 1.0], size=(n_boot, n_clusters))
    boot = weights @ summed / n
    se = _se(boot)
    z = float(sps.norm.ppf(1 - alpha / 2))
    k, m = len(att), len(events)
    cells = pd.DataFrame(
        rows, columns=["group", "time", "event_time", "att", "n_treated", "n_control"]
    )
    cells.insert(4, "se", se[:k])
    cells.insert(5, "low", att - z * se[:k])
    cells.insert(6, "high", att + z * se[:k])
    ev_est, ev_se = all_est[k : k + m], se[k : k + m]
    with np.errstate(divide="ignore", invalid="ignore"):
        sup = np.nanmax(np.abs(boot[:, k : k + m]) / ev_se, axis=1)
    crit = float(np.quantile(sup, 1 - alpha))
    event_frame = pd.DataFrame(
        {
            "event_time": events,
            "att": ev_est,
            "se": ev_se,
            "low": ev_est - z * ev_se,
            "high": ev_est + z * ev_se,
            "uniform_low": ev_est - crit * ev_se,
            "uniform_high": ev_est + crit * ev_se,
        }
    )
    o_se = float(se[-1])
    return StaggeredDiD(
        cells=cells,
        event_time=event_frame,
        overall={
            "att": overall[0],
            "se": o_se,
            "low": overall[0] - z * o_se,
            "high": overall[0] + z * o_se,
        },
        control=control,
        alpha=alpha,
        n_units=n,
        n_clusters=n_clusters,
        dropped=dropped,
    )
