"""A human ceiling, only where the data hold one: within-person test-retest consistency.

When the same person answered the same item more than once (the same ``person_id`` and
``item_id`` in different ``episode_id``s, e.g. a retest wave), the share of agreeing pairs of
their answers measures how predictable a person is from themselves. Dividing a simulator's
accuracy by it gives the normalised accuracy of Park et al. (2024, "Generative agent
simulations of 1,000 people"): 1 means the simulator predicts people as well as they predict
themselves two weeks later. It is a yardstick, not a strict bound (a predictor of a person's
most likely answer can beat their retest agreement). Without repeated answers there is no
ceiling and :func:`human_ceiling` returns None; nothing is made up in its place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import (
    ClusterStats,
    Estimate,
    bootstrap_replicates,
    percentile_interval,
)
from behaviorlab.analysis._frame import require, valid_rows
from behaviorlab.analysis._metrics import ratio
from behaviorlab.analysis._small_sample import IntervalChoice, mean_estimate

CEILING_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "accuracy",
    "ceiling",
    "share",
    "low",
    "high",
    "n_people",
    "n",
)
NO_REPEATS = (
    "no human ceiling: no person answered the same item in two different episodes, so "
    "within-person (test-retest) consistency cannot be measured"
)


@dataclass(frozen=True, eq=False)
class HumanCeiling:
    """Within-person consistency per task, and each arm's accuracy as a share of it.

    ``consistency[task]``: share of agreeing pairs among a person's repeated answers to the
    same item, pooled over people (interval clustered by person; CR2 t below 100 people).
    ``relative`` (:data:`CEILING_COLUMNS`): per (task, simulator, condition), ``accuracy`` on
    the trials of the repeated (person, item) cells, the task's ``ceiling``, ``share`` =
    accuracy / ceiling with a percentile interval ``low`` / ``high`` from one bootstrap over
    people of both, and the people and trials behind it. ``n_people`` and ``n_cells`` count
    the people with repeats and the repeated (person, item) cells.
    """

    consistency: Mapping[str, Estimate]
    relative: pd.DataFrame
    n_people: int
    n_cells: int

    def to_dict(self) -> dict[str, Any]:
        from behaviorlab.analysis._report import records

        return {
            "consistency": {t: e.to_dict() for t, e in self.consistency.items()},
            "relative": records(self.relative),
            "n_people": self.n_people,
            "n_cells": self.n_cells,
        }


def _repeats(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (task, person, item) answered in two or more episodes: the number of answer pairs
    and of agreeing pairs."""
    keys = ["task", "person_id", "item_id"]
    answers = frame.loc[frame["human_answer"].notna(), [*keys, "episode_id", "human_answer"]]
    answers = answers.astype({"human_answer": str}).drop_duplicates([*keys, "episode_id"])
    counts = answers.groupby([*keys, "human_answer"], sort=False).size()
    same = (counts * (counts - 1) / 2).groupby(level=keys).sum()
    m = counts.groupby(level=keys).sum()
    cells = pd.DataFrame({"pairs": m * (m - 1) / 2, "agree": same})
    return cells.loc[cells["pairs"] > 0].reset_index()


def _relative_row(
    arm: pd.DataFrame,
    people: pd.Index,
    person_stats: np.ndarray,
    ceiling: float,
    settings: dict[str, Any],
) -> dict[str, Any] | None:
    correct = pd.to_numeric(arm["correct"], errors="coerce").astype(float)
    by_person = (
        pd.DataFrame({"p": arm["person_id"].astype(str), "c": correct, "n": 1.0})
        .groupby("p")[["c", "n"]]
        .sum()
        .reindex(people, fill_value=0.0)
    )
    joint = np.column_stack([person_stats, by_person.to_numpy()])
    if joint[:, 3].sum() == 0:
        return None

    def share(agg: np.ndarray) -> np.ndarray:
        return ratio(ratio(agg[..., 2], agg[..., 3]), ratio(agg[..., 0], agg[..., 1]))

    reps = bootstrap_replicates(
        joint, share, n_resamples=settings["n_resamples"], seed=settings["seed"]
    )
    low, high = percentile_interval(reps, settings["level"])
    total = joint.sum(axis=0)
    accuracy = float(total[2] / total[3])
    return {
        "accuracy": accuracy,
        "ceiling": ceiling,
        "share": float(share(total)),
        "low": low,
        "high": high,
        "n_people": int(np.count_nonzero(joint[:, 3])),
        "n": int(total[3]),
    }


def human_ceiling(
    frame: pd.DataFrame,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> HumanCeiling | None:
    """Within-person consistency and each arm's accuracy as a share of it, or None when no
    person answered the same item in two episodes (see the module docstring)."""
    require(frame, "task", "simulator", "condition", "person_id", "item_id", "human_answer")
    require(frame, "episode_id", "error", "correct")
    frame = frame.astype({"task": str, "person_id": str, "item_id": str})
    cells = _repeats(frame)
    if cells.empty:
        return None
    settings: dict[str, Any] = {"n_resamples": n_resamples, "seed": seed, "level": level}
    consistency: dict[str, Estimate] = {}
    rows: list[dict[str, Any]] = []
    valid = valid_rows(frame)
    for task, task_cells in cells.groupby("task", sort=True):
        per_person = task_cells.groupby("person_id")[["agree", "pairs"]].sum()
        values = per_person.to_numpy(dtype=float)
        stats = ClusterStats(
            per_person.index.to_numpy(dtype=object), values, int(values[:, 1].sum())
        )
        est = mean_estimate(
            stats,
            lambda agg: ratio(agg[..., 0], agg[..., 1]),
            values[:, 0],
            values[:, 1],
            interval=interval,
            bounds=(0.0, 1.0),
            **settings,
        )
        consistency[str(task)] = est
        repeated = task_cells[["person_id", "item_id"]]
        trials = valid.loc[valid["task"] == task].merge(repeated, on=["person_id", "item_id"])
        for (sim, cond), arm in trials.groupby(["simulator", "condition"], sort=True):
            row = _relative_row(arm, per_person.index, values, est.value, settings)
            if row is not None:
                rows.append(
                    {"task": str(task), "simulator": str(sim), "condition": str(cond)} | row
                )
    relative = pd.DataFrame.from_records(rows, columns=list(CEILING_COLUMNS))
    return HumanCeiling(
        consistency=consistency,
        relative=relative,
        n_people=int(cells["person_id"].nunique()),
        n_cells=len(cells),
    )


def ceiling_note(ceiling: HumanCeiling | None) -> str:
    """One sentence for the report's yardstick notes."""
    if ceiling is None:
        return NO_REPEATS
    parts = [
        f"{task}: {est.value:.2f} [{est.low:.2f}, {est.high:.2f}]"
        if math.isfinite(est.low)
        else f"{task}: {est.value:.2f}"
        for task, est in ceiling.consistency.items()
    ]
    return (
        f"human ceiling: {ceiling.n_people} people answered the same item more than once "
        f"({ceiling.n_cells} person-item pairs); within-person consistency {'; '.join(parts)}; "
        "each simulator's accuracy on those trials is shown as a share of it (normalised "
        "accuracy)"
    )
