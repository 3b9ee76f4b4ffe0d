"""Paired comparisons with a permutation test and Holm correction: :func:`compare`.

Two arms (simulator, condition) are compared on the trials both answered (matched as in
:func:`paired_effect`). The difference of means gets the paired person-clustered interval, and
a permutation test whose exchangeability fits paired clustered data: under "no difference",
swapping the two arms' labels for *all* trials of a person leaves the distribution unchanged,
which flips the sign of that person's summed difference ``d_g``. The statistic is
``sum_g d_g`` (the difference of means times the number of pairs); the p-value counts sign
vectors whose ``|sum_g e_g d_g|`` reaches the observed one, over all ``2^G`` of them when
``G <= EXACT_FLIPS`` people (exact), else over random flips (Monte Carlo, with the
``(k + 1) / (M + 1)`` correction). Holm's step-down adjustment then runs over every comparison
returned, so a report that lists them controls the family-wise error rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import MAX_ELEMENTS
from behaviorlab.analysis._frame import require, valid_rows
from behaviorlab.analysis._paired import (
    ArmScores,
    difference_bounds,
    difference_estimate,
    matched_scores,
)
from behaviorlab.analysis._small_sample import IntervalChoice

FULL = "full"
EXACT_FLIPS = 16
"""Up to this many people the sign-flip test enumerates all ``2^G`` flips (65,536)."""

COMPARE_COLUMNS = (
    "task",
    "kind",
    "simulator_a",
    "condition_a",
    "simulator_b",
    "condition_b",
    "metric",
    "diff",
    "low",
    "high",
    "p_perm",
    "p_holm",
    "n_people",
    "method",
)

Arm = tuple[str, str]
Pair = tuple[Arm, Arm]


def default_baseline(simulator: str) -> bool:
    """A simulator counts as a non-LLM baseline unless its label starts with ``"llm"``."""
    return not simulator.startswith("llm")


def baseline_rule(baselines: Collection[str] | None) -> Callable[[str], bool]:
    """``baselines`` as a predicate: membership, or :func:`default_baseline` when None."""
    if baselines is None:
        return default_baseline
    names = set(baselines)
    return names.__contains__


def condition_order(condition: str) -> tuple[int, str]:
    """``full`` first, then the other conditions by name."""
    return (0 if condition == FULL else 1, condition)


def sign_flip_pvalue(
    diffs: np.ndarray, *, n_flips: int = 10_000, seed: int = 0, exact_max: int = EXACT_FLIPS
) -> float:
    """Two-sided p-value of ``sum(diffs) = 0`` when each entry's sign is exchangeable.

    ``diffs`` holds one summed paired difference per person. All ``2^G`` sign vectors are
    enumerated for ``G <= exact_max`` (the p-value is then exact and at least ``2 / 2^G``);
    otherwise ``n_flips`` random sign vectors give ``(k + 1) / (n_flips + 1)``. NaN without
    people; 1 when every difference is zero.
    """
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    g = len(d)
    if g == 0:
        return math.nan
    observed = abs(float(d.sum()))
    tol = 1e-9 * max(1.0, float(np.abs(d).sum()))
    chunk = max(1, MAX_ELEMENTS // g)
    if g <= exact_max:
        total, hits = 1 << g, 0
        bits = np.arange(g)
        for start in range(0, total, chunk):
            codes = np.arange(start, min(total, start + chunk))
            signs = 1.0 - 2.0 * ((codes[:, None] >> bits) & 1)
            hits += int(np.count_nonzero(np.abs(signs @ d) >= observed - tol))
        return hits / total
    if n_flips < 1:
        raise ValueError("n_flips must be at least 1")
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_flips, chunk):
        rows = min(chunk, n_flips - start)
        signs = 1.0 - 2.0 * rng.integers(0, 2, size=(rows, g))
        hits += int(np.count_nonzero(np.abs(signs @ d) >= observed - tol))
    return (hits + 1) / (n_flips + 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (``statsmodels.stats.multitest.multipletests``, method
    ``"holm"``) over the finite entries; NaN stays NaN."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full(len(p), math.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = multipletests(p[finite], method="holm")[1]
    return [float(x) for x in out]


def default_pairs(arms: Sequence[Arm], is_baseline: Callable[[str], bool]) -> list[Pair]:
    """For each simulator, ``full`` against each other condition it ran; then, under
    ``full``, each LLM simulator against each baseline."""
    present = set(arms)
    sims = sorted({s for s, _ in arms})
    pairs: list[Pair] = []
    for sim in sims:
        conds = sorted((c for s, c in present if s == sim), key=condition_order)
        if FULL in conds:
            pairs += [((sim, FULL), (sim, c)) for c in conds if c != FULL]
    llms = [s for s in sims if not is_baseline(s) and (s, FULL) in present]
    bases = [s for s in sims if is_baseline(s) and (s, FULL) in present]
    pairs += [((llm, FULL), (base, FULL)) for llm in llms for base in bases]
    return pairs


def _rows(
    task: str,
    frame: pd.DataFrame,
    pairs: Sequence[Pair],
    names: Sequence[str],
    settings: dict[str, Any],
    n_flips: int,
) -> Iterator[dict[str, Any]]:
    arms = {(str(s), str(c)) for s, c in frame[["simulator", "condition"]].drop_duplicates().values}
    scores = ArmScores(frame)
    for a, b in pairs:
        if a not in arms or b not in arms:
            continue
        for name in names:
            if scores.get(a, name).empty or scores.get(b, name).empty:
                continue
            stats = matched_scores(scores, a, b, name)
            est = difference_estimate(stats, bounds=difference_bounds(name), **settings)
            p = sign_flip_pvalue(
                stats.values[:, 0] - stats.values[:, 1], n_flips=n_flips, seed=settings["seed"]
            )
            yield {
                "task": task,
                "kind": "condition" if a[0] == b[0] else "simulator",
                "simulator_a": a[0],
                "condition_a": a[1],
                "simulator_b": b[0],
                "condition_b": b[1],
                "metric": name,
                "diff": est.value,
                "low": est.low,
                "high": est.high,
                "p_perm": p,
                "n_people": est.n_clusters,
                "method": est.method,
            }


def compare(
    frame: pd.DataFrame,
    pairs: Sequence[Pair] | None = None,
    metric: str | Sequence[str] = "accuracy",
    *,
    baselines: Collection[str] | None = None,
    n_resamples: int = 2000,
    n_flips: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> pd.DataFrame:
    """Paired comparisons of arms on the same trials, with a permutation test and Holm's
    correction across all of them.

    ``pairs`` lists ``((simulator_a, condition_a), (simulator_b, condition_b))``; by default,
    per task, each simulator's ``full`` against each other condition it ran (``kind`` =
    ``"condition"``) and, under ``full``, each LLM simulator against each baseline (``kind`` =
    ``"simulator"``; ``baselines`` as in :func:`gap`). ``metric`` is one or several mean
    metrics (accuracy, log_loss, brier, ...); a comparison is left out when an arm is absent
    from a task or the metric does not apply to both arms.

    Columns: ``task, kind, simulator_a, condition_a, simulator_b, condition_b, metric``,
    ``diff`` = ``metric(a) - metric(b)`` over the matched trials with its interval ``low`` /
    ``high`` (``method``: the paired cluster bootstrap, or the CR2 t interval below 100
    people), ``p_perm`` (sign-flip permutation test over people, two-sided), ``p_holm`` (Holm
    over all rows) and ``n_people`` (people with matched trials).
    """
    require(frame, "task", "simulator", "condition", "person_id")
    names = [metric] if isinstance(metric, str) else list(metric)
    settings: dict[str, Any] = {
        "n_resamples": n_resamples,
        "seed": seed,
        "level": level,
        "interval": interval,
    }
    records: list[dict[str, Any]] = []
    valid = valid_rows(frame)
    for task in sorted(frame["task"].astype(str).unique()):
        task_frame = valid.loc[valid["task"].astype(str) == task]
        if task_frame.empty:
            continue
        arms = sorted(
            {(str(s), str(c)) for s, c in task_frame[["simulator", "condition"]].values},
            key=lambda arm: (arm[0], condition_order(arm[1])),
        )
        chosen = list(pairs) if pairs is not None else default_pairs(arms, baseline_rule(baselines))
        records += _rows(task, task_frame, chosen, names, settings, n_flips)
    table = pd.DataFrame.from_records(
        records, columns=[c for c in COMPARE_COLUMNS if c != "p_holm"]
    )
    table.insert(COMPARE_COLUMNS.index("p_holm"), "p_holm", holm(table["p_perm"].tolist()))
    return table.astype({"n_people": "int64"}) if len(table) else empty_comparisons()


def empty_comparisons() -> pd.DataFrame:
    """The :func:`compare` table without rows."""
    dtypes = {c: "object" for c in COMPARE_COLUMNS}
    dtypes |= {c: "float64" for c in ("diff", "low", "high", "p_perm", "p_holm")}
    dtypes["n_people"] = "int64"
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
