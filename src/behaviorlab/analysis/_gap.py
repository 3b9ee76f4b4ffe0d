"""The gap report: every metric for every (task, simulator, condition), with its yardsticks.

Yardsticks next to the scores: non-LLM baselines, the human split-half noise floor for the
distribution distances, a human test-retest ceiling where the data hold one, paired persona
effects (``full`` against ``shuffled_persona`` and ``no_persona``), the best LLM against the
best baseline on the same trials, and the share of answers at each shown position. Then the
parts of :func:`gap` beyond the table: paired comparisons with permutation tests, distribution
equivalence tests, subgroup gaps, item-level agreement.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from behaviorlab.analysis._answer_key import answer_key_agreement
from behaviorlab.analysis._bootstrap import Estimate
from behaviorlab.analysis._ceiling import ceiling_note, human_ceiling
from behaviorlab.analysis._compare import (
    Pair,
    baseline_rule,
    compare,
    condition_order,
    empty_comparisons,
)
from behaviorlab.analysis._distributions import DistributionMetric
from behaviorlab.analysis._equivalence import distribution_tests
from behaviorlab.analysis._frame import (
    SupportsToPandas,
    as_frame,
    decoded,
    failure_counts,
    require,
    valid_rows,
)
from behaviorlab.analysis._items import item_level
from behaviorlab.analysis._metrics import (
    MacroF1,
    MeanMetric,
    Metric,
    estimate_valid,
    get_metric,
    metric_names,
)
from behaviorlab.analysis._noise_floor import DISTANCES, noise_floor
from behaviorlab.analysis._numeric import numeric_outcomes
from behaviorlab.analysis._paired import ArmScores, PairedEffect, paired_difference
from behaviorlab.analysis._position import position_shares
from behaviorlab.analysis._report import FULL, GapReport, GapRow, empty_table
from behaviorlab.analysis._small_sample import IntervalChoice
from behaviorlab.analysis._stored import Stored, stored
from behaviorlab.analysis._subgroups import Bins, empty_subgroup_tables, subgroup_gaps
from behaviorlab.analysis._sums import CHUNK_ROWS, Key, TableSums
from behaviorlab.analysis._sums import option_code_rows as option_code_rows  # read by report
from behaviorlab.analysis._turns import ROLE_COLUMNS, role_table

PERSONA_CONTROLS = ("shuffled_persona", "no_persona")
"""Conditions compared against ``full`` for the persona effect, when a simulator ran them."""
HEADLINE_METRICS = ("accuracy", "log_loss")
"""Metrics used for paired effects and the LLM-vs-baseline comparison; a family's metric joins
them by setting the attribute ``headline = True`` (next_action's action-type accuracy)."""


def headline_metrics(chosen: Mapping[str, Metric]) -> list[str]:
    """The headline metrics among ``chosen`` (mean metrics only): ours first, then those that
    declare ``headline = True``, in table order."""
    names = [m for m in HEADLINE_METRICS if m in chosen]
    names += [n for n, m in chosen.items() if n not in names and getattr(m, "headline", False)]
    return [n for n in names if isinstance(chosen[n], MeanMetric)]


_REQUIRED = ("task", "simulator", "condition", "person_id", "item_id", "error", "correct")
_OPTIONAL = (
    "error_kind",
    "human_answer",
    "answer",
    "probabilities",
    "samples",
    "options",
    "answer_position",
    "episode_id",
    "step_index",
    "seed",
)


def _for_tasks(m: Metric, tasks: Collection[str]) -> bool:
    """Whether metric ``m`` belongs in a table of ``tasks``: a metric with a ``tasks``
    attribute (e.g. the next-action metrics) only when one of them is present."""
    only = getattr(m, "tasks", None)
    return only is None or bool(set(only) & set(tasks))


NOT_CODES = "numeric answers are not option codes"


def _on_codes(m: Metric) -> bool:
    """Whether metric ``m`` reads answers as option codes (macro-F1, distribution distances)."""
    return isinstance(m, MacroF1 | DistributionMetric)


def _row(
    key: tuple[str, str, str],
    group: pd.DataFrame,
    chosen: Mapping[str, Metric],
    is_baseline: bool,
    settings: dict[str, Any],
) -> GapRow:
    valid = valid_rows(group)
    coded = option_code_rows(valid)
    failed, invalid = failure_counts(group)
    estimates: dict[str, Estimate | None] = {}
    missing: dict[str, str] = {}
    for name, m in chosen.items():
        rows = coded if _on_codes(m) else valid
        est = estimate_valid(m, rows, **settings)
        estimates[name] = est
        if est is None:
            missing[name] = (
                f"needs {m.requires or 'other data'}"
                if len(rows)
                else NOT_CODES
                if len(valid)
                else "no valid trials"
            )
    return GapRow(
        *key,
        baseline=is_baseline,
        n=len(group),
        n_valid=len(valid),
        n_failed=failed,
        n_invalid=invalid,
        n_people=int(valid["person_id"].nunique()),
        estimates=estimates,
        missing=missing,
    )


def _groups(frame: pd.DataFrame) -> dict[Key, pd.DataFrame]:
    return {
        (str(t), str(s), str(c)): g
        for (t, s, c), g in frame.groupby(["task", "simulator", "condition"], dropna=False)
    }


def _table(
    frame: pd.DataFrame,
    sums: TableSums | None,
    chosen: Mapping[str, Metric],
    is_baseline: Any,
    settings: dict[str, Any],
) -> list[GapRow]:
    """The gap table's rows, in order: from ``frame`` alone (``sums`` None), or with the
    summed metrics from ``sums`` and only the others from the rows of ``frame``."""
    if sums is None:
        groups = _groups(frame)
        keys = sorted(groups, key=lambda k: (k[0], k[1], condition_order(k[2])))
        return [_row(k, groups[k], chosen, is_baseline(k[1]), settings) for k in keys]
    by_key: dict[Key, pd.DataFrame] | None = None

    def from_rows(key: Key, name: str) -> Estimate | None:
        nonlocal by_key
        if by_key is None:  # only when a metric is not summed
            by_key = _groups(frame)
        valid = valid_rows(by_key[key])
        m = chosen[name]
        return estimate_valid(m, option_code_rows(valid) if _on_codes(m) else valid, **settings)

    keys = sorted(sums.keys(), key=lambda k: (k[0], k[1], condition_order(k[2])))
    return [sums.row(k, chosen, is_baseline(k[1]), settings, _on_codes, from_rows) for k in keys]


def _best(rows: Sequence[GapRow], metric: str, higher: bool) -> GapRow | None:
    """The row with the best estimate of ``metric``, preferring ``full`` rows."""
    scored = [r for r in rows if (e := r.estimates.get(metric)) is not None and e.ok]
    scored = [r for r in scored if r.condition == FULL] or scored
    if not scored:
        return None

    def key(r: GapRow) -> float:
        e = r.estimates[metric]
        assert e is not None
        return e.value if higher else -e.value

    return max(scored, key=key)


def _persona_effects(
    task: str, scores: ArmScores, rows: Sequence[GapRow], names: Sequence[str], settings: Any
) -> Iterator[PairedEffect]:
    """``full`` minus each persona control, per simulator that ran both."""
    by_arm = {(r.simulator, r.condition): r for r in rows}
    for (sim, cond), full in by_arm.items():
        if cond != FULL:
            continue
        for control in PERSONA_CONTROLS:
            other = by_arm.get((sim, control))
            for m in names:
                if other is None or full.estimates[m] is None or other.estimates[m] is None:
                    continue
                est = paired_difference(scores, (sim, FULL), (sim, control), m, **settings)
                yield PairedEffect("persona", task, m, sim, FULL, sim, control, est)


def _baseline_effects(
    task: str,
    scores: ArmScores,
    rows: Sequence[GapRow],
    chosen: Mapping[str, Metric],
    names: Sequence[str],
    settings: Any,
) -> Iterator[PairedEffect]:
    """The best LLM simulator minus the best baseline, on the trials both answered."""
    for m in names:
        higher = chosen[m].higher_is_better
        llm = _best([r for r in rows if not r.baseline], m, higher)
        base = _best([r for r in rows if r.baseline], m, higher)
        if llm is None or base is None:
            continue
        a, b = (llm.simulator, llm.condition), (base.simulator, base.condition)
        est = paired_difference(scores, a, b, m, **settings)
        yield PairedEffect("baseline", task, m, *a, *b, est)


def _effects(
    frame: pd.DataFrame,
    rows: Sequence[GapRow],
    chosen: Mapping[str, Metric],
    settings: dict[str, Any],
) -> list[PairedEffect]:
    names = headline_metrics(chosen)
    effects: list[PairedEffect] = []
    for task in dict.fromkeys(r.task for r in rows):
        in_task = [r for r in rows if r.task == task]
        scores = ArmScores(valid_rows(frame.loc[frame["task"].astype(str) == task]))
        effects += _persona_effects(task, scores, in_task, names, settings)
        effects += _baseline_effects(task, scores, in_task, chosen, names, settings)
    return effects


def _notes(
    rows: Sequence[GapRow], floors: Mapping[str, Mapping[str, Estimate]], ceiling: Any
) -> list[str]:
    """Which yardsticks the report has, in words; says so when there is none."""
    notes = [ceiling_note(ceiling)]
    tasks = list(dict.fromkeys(r.task for r in rows))
    any_floor = False
    for task in tasks:
        where = f" ({task})" if len(tasks) > 1 else ""
        ok = {d: e for d, e in floors.get(task, {}).items() if e.ok}
        if ok:
            any_floor = True
            values = ", ".join(f"{d} {e.value:.3f}" for d, e in ok.items())
            people = max(e.n_clusters for e in ok.values())
            notes.append(
                f"noise floor{where}: human split-half noise floor of the distribution "
                f"distances from {people} people ({values}); a simulator at or below it is as "
                "close to the people as one half of them is to the other"
            )
        else:
            notes.append(
                f"no noise floor{where}: needs human answers from two or more people to items "
                "with a distribution distance"
            )
    bases = sorted({r.simulator for r in rows if r.baseline})
    if bases:
        notes.append(f"baselines: {', '.join(bases)} (non-LLM predictors of the same people)")
    else:
        notes.append("no baseline: no non-LLM simulator ran, so nothing shows what is easy")
    if ceiling is None and not any_floor and not bases:
        notes.append(
            "no yardstick exists for these results: no repeated answers (ceiling), no noise "
            "floor and no baseline; read the numbers on their own"
        )
    return notes


def gap(
    results: pd.DataFrame | SupportsToPandas,
    *,
    persons: pd.DataFrame | None = None,
    epsilon: float = 0.05,
    subgroup_attributes: Sequence[str] | None = None,
    subgroup_bins: Bins | Mapping[str, Bins] | None = None,
    min_people: int = 5,
    pairs: Sequence[Pair] | None = None,
    n_resamples: int = 2000,
    n_flips: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
    baselines: Collection[str] | None = None,
    metrics: Sequence[str] | None = None,
    noise_floor_splits: int = 200,
    chunk_rows: int = CHUNK_ROWS,
) -> GapReport:
    """The gap between simulated and real people, with intervals clustered by person.

    ``results`` is the results frame (one row per trial, the results schema) or anything with
    ``to_pandas()``. ``baselines`` names the non-LLM simulators (default: every simulator whose
    label does not start with ``"llm"``). ``metrics`` picks registered metrics (default: all).
    Every bootstrap uses ``seed``, so people drawn together are the same across metrics; mean
    metrics get the CR2 t interval below 100 people (``interval``, see :func:`estimate`).

    Beyond the table: :func:`compare` (``pairs``, ``n_flips``) on the headline metrics,
    :func:`distribution_tests` (``epsilon``), :func:`subgroup_gaps` when ``persons`` is given
    (``subgroup_attributes``, ``subgroup_bins``, ``min_people``), :func:`item_level`,
    :func:`human_ceiling`, the per-role rows of multi-party trials (:func:`role_table`),
    :func:`numeric_outcomes` and :func:`answer_key_agreement` (None when no trial is numeric
    or keyed) and notes on which yardsticks apply. Tables that do not apply are
    empty, with their columns.

    ``results`` may also be a :class:`~behaviorlab.store.ResultStore` (its latest run) or a
    stored run (``open_run``): then it is read once, ``chunk_rows`` rows at a time, the
    table's accuracy, log-loss, Brier and macro-F1 come from per-person sums
    (:mod:`behaviorlab.analysis._sums`) and the rest from a compact frame without the raw
    model text (:mod:`behaviorlab.analysis._stored`): the same estimates and intervals as
    from ``run.to_pandas()``, in a fraction of its memory.
    """
    with stored(results, metrics, chunk_rows) as source:
        sums = source.sums if isinstance(source, Stored) else None
        frame = as_frame(source)
    require(frame, *_REQUIRED)
    absent = {c: None for c in _OPTIONAL if c not in frame.columns}
    frame = decoded(frame.assign(**absent) if absent else frame)
    present = set(frame["task"].astype(str))
    names = (
        list(metrics)
        if metrics is not None
        else [n for n in metric_names() if _for_tasks(get_metric(n), present)]
    )
    chosen = {n: get_metric(n) for n in names}
    boot: dict[str, Any] = {"n_resamples": n_resamples, "seed": seed, "level": level}
    settings: dict[str, Any] = boot | {"interval": interval}
    is_baseline = baseline_rule(baselines)

    rows = _table(frame, sums, chosen, is_baseline, settings)

    distances = [n for n, m in chosen.items() if isinstance(m, DistributionMetric)]
    floors: dict[str, dict[str, Estimate]] = {}
    codes = option_code_rows(frame)
    for task in dict.fromkeys(r.task for r in rows):
        task_frame = codes.loc[codes["task"].astype(str) == task]
        floors[task] = {
            n: noise_floor(task_frame, n, noise_floor_splits, seed, level=level)
            for n in dict.fromkeys([*distances, *DISTANCES])
        }
    headline = headline_metrics(chosen)
    comparisons = (
        compare(frame, pairs, headline, baselines=baselines, n_flips=n_flips, **settings)
        if headline
        else empty_comparisons()
    )
    subgroups, disparities = (
        subgroup_gaps(
            frame,
            persons,
            subgroup_attributes,
            bins=subgroup_bins,
            min_people=min_people,
            **settings,
        )
        if persons is not None
        else empty_subgroup_tables()
    )
    items, agreement = item_level(codes, **boot)
    roles = role_table(frame, **settings) if "meta" in frame.columns else empty_table(ROLE_COLUMNS)
    ceiling = human_ceiling(frame, **settings)
    tests = distribution_tests(
        codes,
        epsilon,
        floors={t: {d: e.value for d, e in f.items()} for t, f in floors.items()},
        noise_floor_splits=noise_floor_splits,
        **boot,
    )
    numeric = numeric_outcomes(frame, **boot)
    keyed = answer_key_agreement(frame, **boot)
    return GapReport(
        rows=tuple(rows),
        metrics=tuple(names),
        higher_is_better={n: m.higher_is_better for n, m in chosen.items()},
        noise_floors={t: {n: f[n] for n in distances} for t, f in floors.items()},
        effects=tuple(_effects(frame, rows, chosen, settings)),
        position=position_shares(frame, **boot),
        n_resamples=n_resamples,
        seed=seed,
        level=level,
        comparisons=comparisons,
        distribution_tests=tests,
        subgroups=subgroups,
        disparities=disparities,
        items=items,
        item_agreement=agreement,
        roles=roles,
        ceiling=ceiling,
        yardstick_notes=_notes(rows, floors, ceiling),
        epsilon=epsilon,
        numeric=None if numeric.empty else numeric,
        answer_key=None if keyed.empty else keyed,
    )
