"""Distribution gap with an equivalence test: :func:`distribution_tests`.

"The simulated answer distribution is within ``epsilon`` of the human one" is a claim of
equivalence, so the burden of proof is reversed: the null hypothesis is ``distance >=
epsilon``, rejected when a one-sided upper ``1 - alpha`` confidence bound of the distance lies
below ``epsilon`` (Schuirmann's TOST; a distance cannot be negative, so only the upper test
remains). The bound is the ``1 - alpha`` quantile of the person-clustered bootstrap replicates
of the distance (a percentile bound), and the p-value is the smallest ``alpha`` at which the
bound falls below ``epsilon``: the share of replicates at or above ``epsilon``, counted as
``(k + 1) / (B + 1)``. ``equivalent`` is ``p_tost < alpha``.

The percentile bound is conservative on purpose. A plug-in distance is biased upwards by the
sampling noise of the human answers and its replicates carry that bias again, so the bound
sits high and a false claim of equivalence is rare (under 1% at a nominal 5% in the
simulations of ``docs/statistics.md``). The basic bound (``2 d - q_alpha``, the form of the
two-sided interval reported next to it) corrects the bias but over-corrects where the
distance is not smooth (cells where the two distributions nearly agree), and then claims
equivalence up to 12% of the time when the true distance equals ``epsilon``. The price of
the conservative bound is power: ``epsilon`` must be well above the human noise floor, i.e.
it takes many people to show that a simulator is within a small ``epsilon``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import basic_interval, bootstrap_replicates
from behaviorlab.analysis._frame import decoded, require, valid_rows, with_columns
from behaviorlab.analysis._noise_floor import DISTANCES, distance_metric, noise_floor

DISTRIBUTION_TEST_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "distance",
    "value",
    "low",
    "high",
    "epsilon",
    "p_tost",
    "equivalent",
    "noise_floor",
)


def tost_pvalue(replicates: np.ndarray, epsilon: float) -> float:
    """p-value of ``distance >= epsilon`` against ``distance < epsilon`` from bootstrap
    ``replicates`` of the distance (percentile bound): ``(#{replicates >= epsilon} + 1) /
    (B + 1)``; NaN without finite replicates."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan
    hits = int(np.count_nonzero(finite >= epsilon))
    return float((hits + 1) / (finite.size + 1))


def _group_rows(
    group: pd.DataFrame,
    floors: dict[str, float],
    epsilon: float,
    alpha: float,
    settings: dict[str, Any],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    entries, options = distance_metric("js_distance").entries(group)
    if len(entries.row) == 0:
        return out
    for name in DISTANCES:
        m = distance_metric(name)
        stats = m.build(entries, options)
        if stats.n == 0:
            continue
        value = float(m.value(stats.values.sum(axis=0)))
        reps = bootstrap_replicates(
            stats.values, m.value, n_resamples=settings["n_resamples"], seed=settings["seed"]
        )
        low, high = (
            float(np.clip(x, 0.0, 1.0)) for x in basic_interval(reps, value, settings["level"])
        )
        p = tost_pvalue(reps, epsilon)
        out.append(
            {
                "distance": name,
                "value": value,
                "low": low,
                "high": high,
                "epsilon": epsilon,
                "p_tost": p,
                "equivalent": bool(p < alpha),
                "noise_floor": floors.get(name, math.nan),
            }
        )
    return out


def distribution_tests(
    frame: pd.DataFrame,
    epsilon: float = 0.05,
    *,
    alpha: float = 0.05,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    noise_floor_splits: int = 200,
    floors: Mapping[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Distances between simulated and human answer distributions with an equivalence test,
    per (task, simulator, condition) that has probabilities or samples.

    Distances: ``js_distance`` and ``total_variation`` for every item, ``wasserstein`` (on
    the numeric codes, divided by the code range) for ordinal items. ``value`` with its basic
    bootstrap interval ``low`` / ``high`` (clustered by person, ``level``; as in the gap table),
    ``p_tost`` for the null ``distance >= epsilon`` and ``equivalent`` = ``p_tost < alpha``
    (the conservative upper one-sided ``1 - alpha`` percentile bound is below ``epsilon``,
    see the module docstring; it can stay False when ``high`` is below ``epsilon``), and the
    human
    split-half ``noise_floor`` of the same distance for the task. A simulator can only be
    declared equivalent when ``epsilon`` is well above the noise of the human answers, so read
    ``epsilon`` against the floor. ``floors`` (task → distance → value) reuses noise floors
    computed already.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    require(frame, "task", "simulator", "condition", "person_id", "item_id", "human_answer")
    settings = {"n_resamples": n_resamples, "seed": seed, "level": level}
    valid = decoded(valid_rows(with_columns(frame, "probabilities", "samples", "options")))
    records: list[dict[str, Any]] = []
    for task in sorted(frame["task"].astype(str).unique()):
        task_frame = frame.loc[frame["task"].astype(str) == task]
        task_valid = valid.loc[valid["task"].astype(str) == task]
        task_floors = dict(floors[task]) if floors is not None and task in floors else None
        for (sim, cond), group in task_valid.groupby(["simulator", "condition"], sort=True):
            if task_floors is None:
                task_floors = {
                    d: noise_floor(task_frame, d, noise_floor_splits, seed, level=level).value
                    for d in DISTANCES
                }
            key = {"task": task, "simulator": str(sim), "condition": str(cond)}
            records += [key | r for r in _group_rows(group, task_floors, epsilon, alpha, settings)]
    if not records:
        return empty_distribution_tests()
    return pd.DataFrame.from_records(records, columns=list(DISTRIBUTION_TEST_COLUMNS))


def empty_distribution_tests() -> pd.DataFrame:
    """The :func:`distribution_tests` table without rows."""
    dtypes = {c: "object" for c in DISTRIBUTION_TEST_COLUMNS}
    dtypes |= {c: "float64" for c in ("value", "low", "high", "epsilon", "p_tost", "noise_floor")}
    dtypes["equivalent"] = "bool"
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
