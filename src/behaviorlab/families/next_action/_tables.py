"""Next-action tables with person-clustered intervals: accuracy by action type and click type,
and the page-cut statistics (tokens before and after the cut, targets in view)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd

from behaviorlab.analysis._compare import condition_order
from behaviorlab.analysis._frame import MATCH_KEYS, valid_rows
from behaviorlab.analysis._metrics import MeanMetric, estimate_valid, get_metric
from behaviorlab.analysis._small_sample import IntervalChoice
from behaviorlab.families.next_action._metrics import (
    human_action_types,
    human_click_types,
    score_column,
)
from behaviorlab.families.next_action._task import NEXT_ACTION

BY_TYPE_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "type",
    "metric",
    "value",
    "low",
    "high",
    "n",
    "n_people",
    "method",
)
CUT_COLUMNS = ("measure", "value", "low", "high", "n", "n_people", "method")
CUT_MEASURES = (
    "tokens_before",
    "tokens_after",
    "page_tokens_before",
    "page_tokens_after",
    "elements_dropped",
    "over_budget",
    "target_in_view",
    "reachable",
    "persona_tokens_before",
    "persona_tokens_after",
    "persona_condensed",
)
"""Rows of :func:`cut_summary`: means of the ``meta["cut"]`` fields, the share of the
person's targets left on the page (``target_in_view``, clicks and inputs), the exact-match
ceiling (``reachable``, every step) and the persona's length before and after condensing it to
its share of the budget, with the share of steps whose persona was condensed."""


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _next_action_rows(frame: pd.DataFrame) -> pd.DataFrame:
    valid = valid_rows(frame)
    return valid.loc[valid["task"].astype(str) == NEXT_ACTION]


def accuracy_by_type(
    frame: pd.DataFrame,
    by: Literal["action_type", "click_type"] = "action_type",
    metric: str = "accuracy",
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> pd.DataFrame:
    """``metric`` (a mean metric; default exact match) per (simulator, condition) and the
    person's action type or click type, with person-clustered intervals. Columns
    :data:`BY_TYPE_COLUMNS`, ``type`` the person's. Click types need ``human_click_type``
    (see :func:`with_human_actions`); without it the table is empty."""
    rows = _next_action_rows(frame)
    if rows.empty:
        return _empty(BY_TYPE_COLUMNS)
    types = human_action_types(rows) if by == "action_type" else human_click_types(rows)
    m = get_metric(metric)
    settings: dict[str, Any] = {
        "n_resamples": n_resamples,
        "seed": seed,
        "level": level,
        "interval": interval,
    }
    records = []
    groups = rows.assign(_type=types).dropna(subset=["_type"])
    for (sim, cond, kind), g in groups.groupby(["simulator", "condition", "_type"], sort=False):
        est = estimate_valid(m, g.drop(columns="_type"), **settings)
        if est is None:
            continue
        records.append(
            {
                "task": NEXT_ACTION,
                "simulator": str(sim),
                "condition": str(cond),
                "type": str(kind),
                "metric": metric,
                "value": est.value,
                "low": est.low,
                "high": est.high,
                "n": est.n,
                "n_people": est.n_clusters,
                "method": est.method,
            }
        )
    if not records:
        return _empty(BY_TYPE_COLUMNS)
    table = pd.DataFrame.from_records(records, columns=list(BY_TYPE_COLUMNS))
    order = table.apply(lambda r: (r["simulator"], condition_order(r["condition"])), axis=1)
    return table.iloc[
        sorted(range(len(table)), key=lambda i: (order.iloc[i], table["type"].iloc[i]))
    ]


class _Column(MeanMetric):
    """The mean of a per-trial value given by a function (for :func:`cut_summary`)."""

    def __init__(self, values: Callable[[pd.DataFrame], pd.Series], bounds: Any) -> None:
        self._values = values
        self.bounds = bounds

    def score(self, frame: pd.DataFrame) -> pd.Series:
        return self._values(frame)


def _cut_field(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    def values(frame: pd.DataFrame) -> pd.Series:
        metas = frame["meta"].tolist() if "meta" in frame.columns else [None] * len(frame)
        out = []
        for meta in metas:
            cut = meta.get("cut") if isinstance(meta, dict) else None
            v = cut.get(name) if isinstance(cut, dict) else None
            out.append(float(v) if isinstance(v, int | float) else math.nan)
        return pd.Series(np.asarray(out, dtype=float), index=frame.index)

    return values


def _score(key: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda frame: score_column(frame, key)


def cut_summary(
    frame: pd.DataFrame,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> pd.DataFrame:
    """The page cut of the next-action trials, each measure a mean over trials with a
    person-clustered interval (columns :data:`CUT_COLUMNS`, rows :data:`CUT_MEASURES` that
    the trials record). Every trial counts once, whatever the simulators and conditions that
    answered it (conditions do not re-cut the page): rows are de-duplicated on the match keys
    (task, person, item, episode, step, seed)."""
    rows = _next_action_rows(frame)
    if rows.empty:
        return _empty(CUT_COLUMNS)
    keys = [k for k in MATCH_KEYS if k in rows.columns]
    unique = rows.drop_duplicates(subset=keys)
    records = []
    for name in CUT_MEASURES:
        share = name in ("over_budget", "target_in_view", "reachable", "persona_condensed")
        values = _score(name) if name in ("target_in_view", "reachable") else _cut_field(name)
        m = _Column(values, (0.0, 1.0) if share else (0.0, math.inf))
        est = estimate_valid(
            m, unique, n_resamples=n_resamples, seed=seed, level=level, interval=interval
        )
        if est is None:
            continue
        records.append(
            {
                "measure": name,
                "value": est.value,
                "low": est.low,
                "high": est.high,
                "n": est.n,
                "n_people": est.n_clusters,
                "method": est.method,
            }
        )
    return pd.DataFrame.from_records(records, columns=list(CUT_COLUMNS))
