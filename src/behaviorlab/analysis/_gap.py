"""The gap report: every metric for every (task, simulator, condition), with its yardsticks.

Yardsticks next to the scores: non-LLM baselines, the human split-half noise floor for the
distribution distances, paired persona effects (``full`` against ``shuffled_persona`` and
``no_persona``), the best LLM against the best baseline on the same trials, and the share of
answers at each shown position.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from behaviorlab.analysis._bootstrap import Estimate
from behaviorlab.analysis._distributions import DistributionMetric, noise_floor
from behaviorlab.analysis._frame import (
    SupportsToPandas,
    as_frame,
    decoded,
    failure_counts,
    require,
    valid_rows,
)
from behaviorlab.analysis._metrics import (
    MeanMetric,
    Metric,
    estimate_valid,
    get_metric,
    metric_names,
)
from behaviorlab.analysis._paired import PairedEffect, paired_difference
from behaviorlab.analysis._position import position_shares

FULL = "full"
PERSONA_CONTROLS = ("shuffled_persona", "no_persona")
"""Conditions compared against ``full`` for the persona effect, when a simulator ran them."""
HEADLINE_METRICS = ("accuracy", "log_loss")
"""Metrics used for paired effects and the LLM-vs-baseline comparison."""

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


@dataclass(frozen=True)
class GapRow:
    """One (task, simulator, condition): trial counts and each metric.

    ``n`` counts all trials, ``n_valid`` those scored, ``n_failed`` backend errors and
    timeouts, ``n_invalid`` unparseable answers, ``n_people`` the people with a valid trial.
    ``estimates[m]`` is None when metric ``m`` does not apply; ``missing[m]`` then says why.
    """

    task: str
    simulator: str
    condition: str
    baseline: bool
    n: int
    n_valid: int
    n_failed: int
    n_invalid: int
    n_people: int
    estimates: Mapping[str, Estimate | None]
    missing: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "simulator": self.simulator,
            "condition": self.condition,
            "baseline": self.baseline,
            "n": self.n,
            "n_valid": self.n_valid,
            "n_failed": self.n_failed,
            "n_invalid": self.n_invalid,
            "n_people": self.n_people,
            "metrics": {m: e.to_dict() if e else None for m, e in self.estimates.items()},
            "missing": dict(self.missing),
        }


@dataclass(frozen=True, eq=False)
class GapReport:
    """Result of :func:`gap`. ``to_pandas()`` gives the wide table, ``to_dict()`` JSON."""

    rows: tuple[GapRow, ...]
    metrics: tuple[str, ...]
    higher_is_better: Mapping[str, bool]
    noise_floors: Mapping[str, Mapping[str, Estimate]]
    """task → distance metric → human split-half noise floor."""
    effects: tuple[PairedEffect, ...]
    position: pd.DataFrame
    """:func:`position_shares` of the same results."""
    n_resamples: int
    seed: int
    level: float

    @property
    def tasks(self) -> list[str]:
        return list(dict.fromkeys(r.task for r in self.rows))

    def row(self, simulator: str, condition: str = FULL, task: str | None = None) -> GapRow:
        """The row of one simulator and condition (and task, if there are several)."""
        for r in self.rows:
            if (r.simulator, r.condition) == (simulator, condition) and task in (None, r.task):
                return r
        raise KeyError(f"no row for simulator {simulator!r}, condition {condition!r}")

    def to_pandas(self) -> pd.DataFrame:
        """One row per (task, simulator, condition); per metric three columns ``m``,
        ``m_low``, ``m_high`` (NaN when not applicable)."""
        records = []
        for r in self.rows:
            rec: dict[str, Any] = {
                "task": r.task,
                "simulator": r.simulator,
                "condition": r.condition,
                "baseline": r.baseline,
                "n": r.n,
                "n_valid": r.n_valid,
                "n_failed": r.n_failed,
                "n_invalid": r.n_invalid,
                "n_people": r.n_people,
            }
            for m in self.metrics:
                e = r.estimates.get(m)
                rec[m] = e.value if e else math.nan
                rec[f"{m}_low"] = e.low if e else math.nan
                rec[f"{m}_high"] = e.high if e else math.nan
            records.append(rec)
        columns = ["task", "simulator", "condition", "baseline", "n", "n_valid", "n_failed"]
        columns += ["n_invalid", "n_people"]
        columns += [f"{m}{s}" for m in self.metrics for s in ("", "_low", "_high")]
        return pd.DataFrame.from_records(records, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (non-finite numbers become None)."""
        position = self.position.astype(object).where(self.position.notna(), None)
        return {
            "settings": {"n_resamples": self.n_resamples, "seed": self.seed, "level": self.level},
            "metrics": [
                {"name": m, "higher_is_better": self.higher_is_better[m]} for m in self.metrics
            ],
            "rows": [r.to_dict() for r in self.rows],
            "noise_floor": {
                t: {d: e.to_dict() for d, e in floors.items()}
                for t, floors in self.noise_floors.items()
            },
            "effects": [e.to_dict() for e in self.effects],
            "position_shares": position.to_dict(orient="records"),
        }


def _condition_order(condition: str) -> tuple[int, str]:
    return (0 if condition == FULL else 1, condition)


def _row(
    key: tuple[str, str, str],
    group: pd.DataFrame,
    chosen: Mapping[str, Metric],
    is_baseline: bool,
    settings: dict[str, Any],
) -> GapRow:
    valid = valid_rows(group)
    failed, invalid = failure_counts(group)
    estimates: dict[str, Estimate | None] = {}
    missing: dict[str, str] = {}
    for name, m in chosen.items():
        est = estimate_valid(m, valid, **settings)
        estimates[name] = est
        if est is None:
            missing[name] = (
                f"needs {m.requires or 'other data'}" if len(valid) else "no valid trials"
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
    task: str, frame: pd.DataFrame, rows: Sequence[GapRow], names: Sequence[str], settings: Any
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
                est = paired_difference(frame, (sim, FULL), (sim, control), m, **settings)
                yield PairedEffect("persona", task, m, sim, FULL, sim, control, est)


def _baseline_effects(
    task: str,
    frame: pd.DataFrame,
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
        yield PairedEffect(
            "baseline", task, m, *a, *b, paired_difference(frame, a, b, m, **settings)
        )


def _effects(
    frame: pd.DataFrame,
    rows: Sequence[GapRow],
    chosen: Mapping[str, Metric],
    settings: dict[str, Any],
) -> list[PairedEffect]:
    names = [m for m in HEADLINE_METRICS if isinstance(chosen.get(m), MeanMetric)]
    effects: list[PairedEffect] = []
    for task in dict.fromkeys(r.task for r in rows):
        in_task = [r for r in rows if r.task == task]
        task_frame = frame.loc[frame["task"].astype(str) == task]
        effects += _persona_effects(task, task_frame, in_task, names, settings)
        effects += _baseline_effects(task, task_frame, in_task, chosen, names, settings)
    return effects


def gap(
    results: pd.DataFrame | SupportsToPandas,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    baselines: Collection[str] | None = None,
    metrics: Sequence[str] | None = None,
    noise_floor_splits: int = 200,
) -> GapReport:
    """The gap between simulated and real people, with person-clustered bootstrap intervals.

    ``results`` is the results frame (one row per trial, the results schema) or anything with
    ``to_pandas()``. ``baselines`` names the non-LLM simulators (default: every simulator whose
    label does not start with ``"llm"``). ``metrics`` picks registered metrics (default: all).
    Every bootstrap uses ``seed``, so people drawn together are the same across metrics.
    """
    frame = as_frame(results)
    require(frame, *_REQUIRED)
    absent = {c: None for c in _OPTIONAL if c not in frame.columns}
    frame = decoded(frame.assign(**absent) if absent else frame)
    names = list(metrics) if metrics is not None else metric_names()
    chosen = {n: get_metric(n) for n in names}
    settings: dict[str, Any] = {"n_resamples": n_resamples, "seed": seed, "level": level}

    def is_baseline(sim: str) -> bool:
        return sim in baselines if baselines is not None else not sim.startswith("llm")

    groups = {
        (str(t), str(s), str(c)): g
        for (t, s, c), g in frame.groupby(["task", "simulator", "condition"], dropna=False)
    }
    rows = [
        _row(key, groups[key], chosen, is_baseline(key[1]), settings)
        for key in sorted(groups, key=lambda k: (k[0], k[1], _condition_order(k[2])))
    ]

    floors: dict[str, dict[str, Estimate]] = {}
    for task in dict.fromkeys(r.task for r in rows):
        task_frame = frame.loc[frame["task"].astype(str) == task]
        floors[task] = {
            n: noise_floor(task_frame, n, noise_floor_splits, seed, level=level)
            for n, m in chosen.items()
            if isinstance(m, DistributionMetric)
        }
    return GapReport(
        rows=tuple(rows),
        metrics=tuple(names),
        higher_is_better={n: m.higher_is_better for n, m in chosen.items()},
        noise_floors=floors,
        effects=tuple(_effects(frame, rows, chosen, settings)),
        position=position_shares(frame, **settings),
        n_resamples=n_resamples,
        seed=seed,
        level=level,
    )
