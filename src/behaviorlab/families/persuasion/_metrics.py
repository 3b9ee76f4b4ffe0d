"""Persuasion metrics: did the twin change its mind when, and how, the person did?

Each is a function of additive per-person sums of the task's per-trial scores (the
``scores`` of :meth:`PersuasionTask.score`), so its interval is clustered by person: the
analysis package's own (``estimate_valid``, as in the gap table), which for the means
(change accuracy, direction accuracy, Brier, the change rates) is the small-sample CR2 t
interval below 100 people and the percentile bootstrap from there on, clipped to [0, 1]; for
``change_over_base`` and ``strength_change_r`` the bootstrap over people. They apply only
to ``persuasion`` rows.

* ``change_accuracy``: share of trials where the twin changed its stance exactly when the
  person did (change vs no change);
* ``change_over_base``: ``change_accuracy`` minus the base rate (the share of the majority
  class: most people do not move, so always predicting "no change" already scores it); 0 is
  no better than the majority guess;
* ``direction_accuracy``: among the trials where the person changed, the share where the
  twin moved the same way along the scale (a twin that stayed counts as wrong, so this is
  partly recall of change);
* ``direction_both_changed``: among the trials where both changed, the share that moved the
  same way (direction alone);
* ``strength_change_r``: Pearson correlation, across trials, of the twin's and the person's
  change in strength from the prior (a ratio of pooled sums);
* ``change_brier``: Brier score of the probability of change (the option probabilities' mass
  on another stance; simulators that score options) against whether the person changed.

:func:`persuasion_table` gives them per (simulator, condition) with the people's own change
rate; :func:`calibration_table` bins the probability of change against the observed rate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats, Estimate
from behaviorlab.analysis._frame import SupportsToPandas, as_frame, require, valid_rows
from behaviorlab.analysis._metrics import MeanMetric, estimate_valid, metric, ratio
from behaviorlab.families.persuasion._task import ARM_ARGUMENTS, ARM_RETEST, PERSUASION

PERSUASION_METRICS = (
    "change_accuracy",
    "change_over_base",
    "direction_accuracy",
    "direction_both_changed",
    "strength_change_r",
    "change_brier",
)
"""The persuasion metrics in display order."""


def is_persuasion(frame: pd.DataFrame) -> bool:
    return (
        "task" in frame.columns
        and len(frame) > 0
        and bool((frame["task"].astype(str) == PERSUASION).all())
    )


def score_column(frame: pd.DataFrame, key: str) -> np.ndarray:
    """One per-trial score of ``frame`` (NaN where the trial has none)."""
    cells = frame["scores"].tolist() if "scores" in frame.columns else [None] * len(frame)
    return np.array(
        [float(c.get(key, math.nan)) if isinstance(c, dict) else math.nan for c in cells],
        dtype=float,
    )


class _ScoreMean(MeanMetric):
    """The mean of one per-trial score (``key``) over the trials that have it."""

    tasks: tuple[str, ...] = (PERSUASION,)
    key = ""
    bounds: tuple[float, float] | None = (0.0, 1.0)

    def applicable(self, frame: pd.DataFrame) -> bool:
        return is_persuasion(frame) and super().applicable(frame)

    def score(self, frame: pd.DataFrame) -> pd.Series:
        return pd.Series(score_column(frame, self.key), index=frame.index)


@metric("change_accuracy")
class ChangeAccuracy(_ScoreMean):
    """Share of trials where the twin changed its stance exactly when the person did."""

    key = "change_correct"
    requires = "persuasion trials"


@metric("direction_accuracy")
class DirectionAccuracy(_ScoreMean):
    """Among people who changed: share where the twin moved the same way."""

    key = "direction_correct"
    requires = "persuasion trials where the person changed their stance"


@metric("direction_both_changed")
class DirectionBothChanged(_ScoreMean):
    """Among trials where both the person and the twin changed: share where they moved the
    same way (direction alone, apart from whether the twin changed)."""

    key = "direction_both"
    requires = "persuasion trials where the person and the twin both changed their stance"


@metric("change_brier")
class ChangeBrier(_ScoreMean):
    """Brier score of the probability of change against the person's change."""

    higher_is_better = False
    requires = "persuasion trials with option probabilities (answer: score, or the logit)"

    def score(self, frame: pd.DataFrame) -> pd.Series:
        p, y = score_column(frame, "p_change"), score_column(frame, "human_changed")
        return pd.Series((p - y) ** 2, index=frame.index)


class _Sums:
    """A metric of pooled per-person sums of some scores (rows with all of them)."""

    tasks: tuple[str, ...] = (PERSUASION,)
    higher_is_better = True
    keys: tuple[str, ...] = ()

    def _rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        valid = valid_rows(frame)
        cols = np.column_stack([score_column(valid, k) for k in self.keys])
        keep = np.isfinite(cols).all(axis=1)
        return valid["person_id"].to_numpy()[keep], cols[keep]

    def applicable(self, frame: pd.DataFrame) -> bool:
        return is_persuasion(frame) and len(self._rows(frame)[1]) > 0


@metric("change_over_base")
class ChangeOverBase(_Sums):
    """Change accuracy minus the base rate (the majority class's share)."""

    keys = ("change_correct", "human_changed")
    requires = "persuasion trials"

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        people, cols = self._rows(frame)
        return ClusterStats.from_rows(people, np.column_stack([cols, np.ones(len(cols))]))

    def value(self, agg: np.ndarray) -> np.ndarray:
        # from the counts, so "no better than the base" is exactly 0 (a difference of two
        # ratios left float noise: 0.00 [-0.00, 0.00])
        changed, n = agg[..., 1], agg[..., 2]
        gain: np.ndarray = ratio(agg[..., 0] - np.maximum(changed, n - changed), n)
        return gain


@metric("strength_change_r")
class StrengthChangeR(_Sums):
    """Pearson r of the twin's and the person's strength change (pooled sums)."""

    keys = ("strength_change_twin", "strength_change_human")
    requires = "persuasion trials on a scale with a strength"
    interval = "percentile"

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        people, cols = self._rows(frame)
        x, y = cols[:, 0], cols[:, 1]
        rows = np.column_stack([x, y, x * x, y * y, x * y, np.ones(len(x))])
        return ClusterStats.from_rows(people, rows)

    def value(self, agg: np.ndarray) -> np.ndarray:
        n = agg[..., 5]
        mx, my = ratio(agg[..., 0], n), ratio(agg[..., 1], n)
        vx = ratio(agg[..., 2], n) - mx**2
        vy = ratio(agg[..., 3], n) - my**2
        cov = ratio(agg[..., 4], n) - mx * my
        den = np.sqrt(np.clip(vx, 0.0, None) * np.clip(vy, 0.0, None))
        r: np.ndarray = ratio(cov, np.where(den > 1e-12, den, 0.0))
        return r


# -- tables ---------------------------------------------------------------------------------


class _Share(_ScoreMean):
    """The mean of one per-trial score, for the table's change rates."""

    requires = "persuasion trials"

    def __init__(self, key: str) -> None:
        self.key = key


def _estimate(m: Any, valid: pd.DataFrame, n_resamples: int) -> Estimate | None:
    """The analysis package's estimate, as the gap table computes it: for a mean metric the
    small-sample CR2 t interval below 100 people (else the percentile bootstrap), clipped to
    the metric's bounds; for the others their own bootstrap interval."""
    return estimate_valid(m, valid, n_resamples=n_resamples, seed=0, level=0.95)


TABLE_METRICS: dict[str, Any] = {
    "change_accuracy": ChangeAccuracy(),
    "change_over_base": ChangeOverBase(),
    "direction_accuracy": DirectionAccuracy(),
    "direction_both_changed": DirectionBothChanged(),
    "strength_change_r": StrengthChangeR(),
    "change_brier": ChangeBrier(),
}


def persuasion_table(
    results: pd.DataFrame | SupportsToPandas, *, n_resamples: int = 2000
) -> pd.DataFrame:
    """Per (simulator, condition, arm): trials, people, the people's change rate and the
    twin's, and every persuasion metric, each an :class:`Estimate` (None where it does not
    apply). ``arm`` is ``"arguments"`` (the trials with arguments shown before them) or
    ``"retest"`` (the retest trials: nothing shown, so the twin should mostly stay; people who
    were never shown an argument have only these); failed trials are counted on the
    arguments row."""
    frame = as_frame(results)
    require(frame, "simulator", "condition", "person_id", "error", "correct")
    if "task" in frame.columns:
        frame = frame.loc[frame["task"].astype(str) == PERSUASION]
    out: list[dict[str, Any]] = []
    for (sim, cond), group in frame.groupby(["simulator", "condition"], sort=True):
        all_valid = valid_rows(group.assign(task=PERSUASION))
        retest = np.isfinite(score_column(all_valid, "retest_trial"))
        for arm, valid in ((ARM_ARGUMENTS, all_valid[~retest]), (ARM_RETEST, all_valid[retest])):
            if valid.empty:
                continue
            row = _table_row(valid, n_resamples)
            out.append({"simulator": str(sim), "condition": str(cond), "arm": arm, **row})
            if arm == ARM_ARGUMENTS:
                out[-1]["n_failed"] = int(len(group) - len(all_valid))
    return pd.DataFrame(out)


def _table_row(valid: pd.DataFrame, n_resamples: int) -> dict[str, Any]:
    people = valid["person_id"].to_numpy()
    row: dict[str, Any] = {
        "n": len(valid),
        "n_people": len(set(people)),
        "n_failed": 0,
        "human_change_rate": _estimate(_Share("human_changed"), valid, n_resamples),
        "twin_change_rate": _estimate(_Share("twin_changed"), valid, n_resamples),
    }
    for name, m in TABLE_METRICS.items():
        row[name] = _estimate(m, valid, n_resamples)
    return row


def calibration_table(
    results: pd.DataFrame | SupportsToPandas, *, bins: int = 5, n_resamples: int = 2000
) -> pd.DataFrame:
    """Per (simulator, condition) and bin of the probability of change (equal widths), over
    the trials with arguments: the trials, the people, the mean predicted probability, the
    share of people who changed (``observed``) and that share's 95% interval clustered by
    person (``observed_ci``, an :class:`Estimate` as the table's change rates get it)."""
    frame = as_frame(results)
    if "task" in frame.columns:
        frame = frame.loc[frame["task"].astype(str) == PERSUASION]
    rows: list[dict[str, Any]] = []
    for (sim, cond), group in frame.groupby(["simulator", "condition"], sort=True):
        valid = valid_rows(group.assign(task=PERSUASION))
        p, y = score_column(valid, "p_change"), score_column(valid, "human_changed")
        keep = np.isfinite(p) & np.isfinite(y) & ~np.isfinite(score_column(valid, "retest_trial"))
        if not keep.any():
            continue
        p, y, kept = p[keep], y[keep], valid.loc[keep]
        which = np.minimum((p * bins).astype(int), bins - 1)
        for b in range(bins):
            inside = which == b
            if inside.any():
                rows.append(
                    {
                        "simulator": str(sim),
                        "condition": str(cond),
                        "bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}",
                        "n": int(inside.sum()),
                        "n_people": int(kept.loc[inside, "person_id"].nunique()),
                        "predicted": float(p[inside].mean()),
                        "observed": float(y[inside].mean()),
                        "observed_ci": _estimate(
                            _Share("human_changed"), kept.loc[inside], n_resamples
                        ),
                    }
                )
    return pd.DataFrame(rows)
