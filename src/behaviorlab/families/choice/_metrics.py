"""Choice metrics: the aggregate choice shares against the people's, and McFadden's rho².

Accuracy (``accuracy``: the share of choice situations predicted, trial-weighted: every
situation counts once, so a person with more situations weighs more; its interval is clustered
by person), the log-loss (``log_loss``: minus the mean
log-likelihood of the people's choices, so the model's log-likelihood is ``-n * log_loss``)
and the Brier score (``brier``) are the generic metrics and apply to choice trials as they
are. This module adds:

* :func:`choice_shares`: per (simulator, condition) and option, the share of the people's
  choices and the simulated share, with intervals and their difference, from one bootstrap
  over people (the same draws for the three, so the difference's interval accounts for the
  pairing). The simulated share is the mean of the simulator's probabilities when every
  valid trial of the arm has them (``source="probabilities"``; a model's predicted market
  share), else the share of its answers (``source="answers"``); ``use=`` forces one, and a
  trial without it is left out of both shares. Failed and off-format trials are counted
  (``n_failed``, ``n_invalid``) and left out of both shares.
* ``rho_squared`` (registered metric, choice trials only): McFadden's (1974) likelihood-ratio
  index against equal shares, ``1 - sum log p(choice) / sum log(1 / J)`` with ``J`` the
  number of options shown; 0 is no better than a uniform guess, 1 a perfect fit.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats, bootstrap_replicates
from behaviorlab.analysis._frame import (
    SupportsToPandas,
    as_code,
    as_codes,
    as_frame,
    as_probs,
    column,
    decoded,
    failure_counts,
    require,
    valid_rows,
    with_columns,
)
from behaviorlab.analysis._metrics import PROB_FLOOR, metric, ratio
from behaviorlab.families.choice._task import CHOICE

ShareSource = Literal["auto", "probabilities", "answers"]
SHARE_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "option",
    "source",
    "n",
    "n_people",
    "n_failed",
    "n_invalid",
    "human",
    "human_low",
    "human_high",
    "simulated",
    "simulated_low",
    "simulated_high",
    "difference",
    "difference_low",
    "difference_high",
)


def is_choice(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has rows and all of them are choice trials."""
    return (
        "task" in frame.columns
        and len(frame) > 0
        and bool((frame["task"].astype(str) == CHOICE).all())
    )


def _codes(valid: pd.DataFrame) -> list[str]:
    found: set[str] = set()
    for opts in column(valid, "options"):
        found.update(as_codes(opts) or [])
    found.update(c for v in column(valid, "human_answer") if (c := as_code(v)) is not None)
    found.update(c for v in column(valid, "answer") if (c := as_code(v)) is not None)
    return sorted(found)


def _arm_shares(
    group: pd.DataFrame, use: ShareSource, n_resamples: int, seed: int, level: float
) -> pd.DataFrame | None:
    valid = valid_rows(group)
    humans = [as_code(v) for v in column(valid, "human_answer")]
    probs = [as_probs(p) for p in column(valid, "probabilities")]
    answers = [as_code(a) for a in column(valid, "answer")]
    source = use
    if use == "auto":
        source = "probabilities" if all(p is not None for p in probs) else "answers"
    has = probs if source == "probabilities" else answers
    # a trial counts when it has the person's choice and the simulated share's source
    keep = [h is not None and x is not None for h, x in zip(humans, has, strict=True)]
    valid = valid.loc[np.asarray(keep, dtype=bool)]
    if valid.empty:
        return None
    humans = [h for h, k in zip(humans, keep, strict=True) if k]
    probs = [p for p, k in zip(probs, keep, strict=True) if k]
    answers = [a for a, k in zip(answers, keep, strict=True) if k]
    codes = _codes(valid)
    index = {c: i for i, c in enumerate(codes)}
    k = len(codes)
    rows = np.zeros((len(valid), 2 * k + 1))
    for r, human in enumerate(humans):
        assert human is not None
        rows[r, index[human]] = 1.0
        rows[r, 2 * k] = 1.0
        p, a = probs[r], answers[r]
        if source == "probabilities" and p is not None:
            for code, mass in p.items():
                if code in index:
                    rows[r, k + index[code]] += mass
        elif a is not None:
            rows[r, k + index[a]] = 1.0
    stats = ClusterStats.from_rows(valid["person_id"].to_numpy(), rows)

    def shares(agg: np.ndarray) -> np.ndarray:
        n = agg[..., 2 * k : 2 * k + 1]
        human, sim = ratio(agg[..., :k], n), ratio(agg[..., k : 2 * k], n)
        return np.concatenate([human, sim, sim - human], axis=-1)

    point = shares(stats.values.sum(axis=0))
    reps = bootstrap_replicates(stats.values, shares, n_resamples=n_resamples, seed=seed)
    alpha = (1.0 - level) / 2.0
    low, high = np.nanquantile(reps, [alpha, 1.0 - alpha], axis=0)
    failed, invalid = failure_counts(group)
    return pd.DataFrame(
        {
            "option": codes,
            "source": source,
            "n": len(valid),
            "n_people": stats.n_clusters,
            "n_failed": failed,
            "n_invalid": invalid,
            "human": point[:k],
            "human_low": low[:k],
            "human_high": high[:k],
            "simulated": point[k : 2 * k],
            "simulated_low": low[k : 2 * k],
            "simulated_high": high[k : 2 * k],
            "difference": point[2 * k :],
            "difference_low": low[2 * k :],
            "difference_high": high[2 * k :],
        }
    )


def choice_shares(
    results: pd.DataFrame | SupportsToPandas,
    *,
    use: ShareSource = "auto",
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Aggregate choice shares per (task, simulator, condition) and option: the people's,
    the simulated, and simulated minus human, each with a person-clustered bootstrap interval
    (columns :data:`SHARE_COLUMNS`). Only ``choice`` trials are used when the frame has a
    ``task`` column. ``use`` picks the simulated share's source (see the module docstring).
    """
    frame = as_frame(results)
    require(frame, "simulator", "condition", "person_id", "error", "correct", "human_answer")
    frame = decoded(with_columns(frame, "task", "answer", "probabilities", "options"))
    frame = frame.assign(task=frame["task"].fillna(CHOICE).astype(str))
    frame = frame.loc[frame["task"] == CHOICE]
    if "error_kind" not in frame.columns:
        frame = frame.assign(error_kind=None)
    parts = []
    for (task, sim, cond), group in frame.groupby(["task", "simulator", "condition"], sort=True):
        table = _arm_shares(group, use, n_resamples, seed, level)
        if table is not None:
            parts.append(table.assign(task=str(task), simulator=str(sim), condition=str(cond)))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SHARE_COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(SHARE_COLUMNS)]


@metric("rho_squared")
class RhoSquared:
    """McFadden's rho²: 1 - log-likelihood of the people's choices / that of equal shares
    over the options shown (choice trials with probabilities)."""

    tasks: tuple[str, ...] = (CHOICE,)
    higher_is_better = True
    requires = "choice trials with probabilities (option scoring or the logit)"

    def _logs(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(log p of the person's choice, log 1/J) per trial; NaN where not computable."""
        valid = valid_rows(frame)
        lp = np.full(len(valid), math.nan)
        l0 = np.full(len(valid), math.nan)
        triples = zip(
            column(valid, "probabilities"),
            column(valid, "human_answer"),
            column(with_columns(valid, "options"), "options"),
            strict=True,
        )
        for i, (raw, human, shown) in enumerate(triples):
            probs, code, opts = as_probs(raw), as_code(human), as_codes(shown)
            n_options = len(opts) if opts else len(probs or {})
            if probs is None or code is None or n_options < 2:
                continue
            lp[i] = math.log(min(max(probs.get(code, 0.0), PROB_FLOOR), 1.0))
            l0[i] = -math.log(n_options)
        return lp, l0

    def applicable(self, frame: pd.DataFrame) -> bool:
        if not is_choice(frame):
            return False
        lp, _ = self._logs(frame)
        return bool(np.isfinite(lp).any())

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        valid = valid_rows(frame)
        lp, l0 = self._logs(frame)
        keep = np.isfinite(lp)
        people = valid["person_id"].to_numpy()[keep]
        return ClusterStats.from_rows(people, np.column_stack([lp[keep], l0[keep]]))

    def value(self, agg: np.ndarray) -> np.ndarray:
        return 1.0 - ratio(-agg[..., 0], -agg[..., 1])
