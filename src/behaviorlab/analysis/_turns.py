"""Multi-party trials read per turn and per role.

A multi-party trial (a spec's ``parties:``) stores its turns in ``meta["turns"]``, each with
its speaker role, the simulator playing it, what it saw and answered, tokens, cost and the
scores the task gave that turn (see :class:`behaviorlab.tasks.Turn`). :func:`turns` gives one
row per turn; :func:`role_table` the per-role rows of the gap report: for each (task,
simulator, condition, role) the share of valid turns and the mean of every per-turn score,
with intervals clustered by person (the CR2 t interval below 100 people, else the cluster
bootstrap), and the role's tokens and cost.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats
from behaviorlab.analysis._frame import SupportsToPandas, as_frame, require
from behaviorlab.analysis._metrics import ratio
from behaviorlab.analysis._small_sample import IntervalChoice, mean_estimate
from behaviorlab.tasks._parties import TRIAL_ERROR, TRIAL_KEYS, TURN_FIELDS, turn_rows

ROLE_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "role",
    "role_simulator",
    "metric",
    "value",
    "low",
    "high",
    "n_turns",
    "n_people",
    "method",
    "tokens_in",
    "tokens_out",
    "cost",
    "failed_trials",
)
WHOLE_TRIAL = "(trial)"
"""The ``role`` of the rows holding a multi-party trial's own scores (not one role's)."""
VALID_TURN = "valid_turn"
"""The per-role metric every multi-party trial has: the share of turns without an error."""


def turns(results: pd.DataFrame | SupportsToPandas) -> pd.DataFrame:
    """One row per turn of every multi-party trial in ``results``: the trial's keys
    (:data:`TRIAL_KEYS`), the turn's fields (:data:`TURN_FIELDS`) and one column per score
    the task gave turns (NaN where a turn has none). Trials of one party have no rows."""
    frame = as_frame(results)
    require(frame, "meta")
    return turn_rows(frame)


def _estimate(
    people: np.ndarray, values: np.ndarray, bounds: tuple[float, float] | None, settings: Any
) -> tuple[float, float, float, int, str]:
    keep = np.isfinite(values)
    if not keep.any():
        return math.nan, math.nan, math.nan, 0, ""
    stats = ClusterStats.from_rows(
        people[keep], np.column_stack([values[keep], np.ones(int(keep.sum()))])
    )
    est = mean_estimate(
        stats,
        lambda agg: ratio(agg[..., 0], agg[..., 1]),
        stats.values[:, 0],
        stats.values[:, 1],
        bounds=bounds,
        **settings,
    )
    return est.value, est.low, est.high, stats.n_clusters, est.method


def role_table(
    results: pd.DataFrame | SupportsToPandas,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    interval: IntervalChoice = "auto",
) -> pd.DataFrame:
    """Per (task, simulator, condition, role) and metric: the mean over the role's turns
    with a person-clustered interval (columns :data:`ROLE_COLUMNS`). The metrics are
    :data:`VALID_TURN` and every per-turn score the task gave (a mean over the turns that
    have it; a score whose every value is 0 or 1 is a share, its interval within [0, 1]).
    ``valid_turn`` counts every turn, failed trials' included (a party that never played is
    what it shows); the task's scores count only the trials that succeeded; ``failed_trials``
    is the arm's number of failed trials. A score whose every value lies in [0, 1] is read
    as a share (its interval stays inside). The trial scores of the multi-party trials that
    succeeded follow, with ``role`` ``"(trial)"`` (a
    game's joint payoff, each player's payoff). Empty, with its columns, when no trial had
    several parties."""
    frame = as_frame(results)
    per_turn = turns(frame)
    if per_turn.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROLE_COLUMNS})
    settings = {"n_resamples": n_resamples, "seed": seed, "level": level, "interval": interval}
    multi = set(per_turn["trial_id"])
    skip = (*TRIAL_KEYS, *TURN_FIELDS, TRIAL_ERROR)
    score_names = [c for c in per_turn.columns if c not in skip]
    keys = ["task", "simulator", "condition", "role"]
    # valid_turn is read over every turn, failed trials included (a party that never played
    # is what it shows); the task's scores only over the trials that succeeded (a failed
    # trial is not a result); failed_trials counts the arm's failed trials
    failed = per_turn[TRIAL_ERROR].notna()
    arm_keys = keys[:3]
    n_failed = per_turn.loc[failed].groupby(arm_keys, dropna=False)["trial_id"].nunique()
    per_turn = per_turn.assign(
        **{VALID_TURN: per_turn["error"].isna().astype(float)},
        person_id=per_turn["person_id"].astype(str),
    )
    for name in score_names:  # NaN on the turns of failed trials
        per_turn.loc[failed, name] = np.nan
    out: list[dict[str, Any]] = []
    for key, g in per_turn.groupby(keys, sort=True, dropna=False):
        people = g["person_id"].to_numpy()
        usage = {
            "role_simulator": ", ".join(sorted(set(map(str, g["role_simulator"])))),
            "tokens_in": int(pd.to_numeric(g["tokens_in"]).sum()),
            "tokens_out": int(pd.to_numeric(g["tokens_out"]).sum()),
            "cost": float(pd.to_numeric(g["cost"]).sum()),
            "failed_trials": int(n_failed.get(key[:3], 0)),
        }
        for name in [VALID_TURN, *score_names]:
            values = pd.to_numeric(g[name], errors="coerce").to_numpy(dtype=float)
            value, low, high, n_people, method = _estimate(
                people, values, _bounds(name, values), settings
            )
            if not n_people:
                continue
            out.append(
                {
                    **dict(zip(keys, map(str, key), strict=True)),
                    **usage,
                    "metric": name,
                    "value": value,
                    "low": low,
                    "high": high,
                    "n_turns": int(np.isfinite(values).sum()),
                    "n_people": n_people,
                    "method": method,
                }
            )
    out += _trial_rows(frame, multi, n_failed, settings)
    return pd.DataFrame(out, columns=list(ROLE_COLUMNS))


def _bounds(name: str, values: np.ndarray) -> tuple[float, float] | None:
    """[0, 1] for valid_turn and for a score whose every value lies in [0, 1] (a share, a
    rate: cooperate, mutual_cooperation, best_reply_rate): its interval stays inside; other
    scores' bounds are unknown."""
    finite = values[np.isfinite(values)]
    if name == VALID_TURN or (finite.size and bool(((finite >= 0) & (finite <= 1)).all())):
        return (0.0, 1.0)
    return None


def _trial_rows(
    frame: pd.DataFrame, multi: set[str], n_failed: pd.Series, settings: dict[str, Any]
) -> list[dict[str, Any]]:
    """The trial-level scores of the multi-party trials that succeeded (a game's joint
    payoff, each player's payoff), one row per arm and score, ``role`` :data:`WHOLE_TRIAL`."""
    if "scores" not in frame.columns or "trial_id" not in frame.columns:
        return []
    rows = frame.loc[frame["trial_id"].isin(multi)]
    if "error" in rows.columns:
        rows = rows.loc[rows["error"].isna()]
    out: list[dict[str, Any]] = []
    arm = ["task", "simulator", "condition"]
    for key, g in rows.groupby(arm, sort=True, dropna=False):
        scores = pd.DataFrame([s if isinstance(s, dict) else {} for s in g["scores"]])
        people = g["person_id"].astype(str).to_numpy()
        for name in scores.columns:
            values = pd.to_numeric(scores[name], errors="coerce").to_numpy(dtype=float)
            value, low, high, n_people, method = _estimate(
                people, values, _bounds(str(name), values), settings
            )
            if not n_people:
                continue
            out.append(
                {
                    **dict(zip(arm, map(str, key), strict=True)),
                    "role": WHOLE_TRIAL,
                    "role_simulator": "(all)",
                    "metric": str(name),
                    "value": value,
                    "low": low,
                    "high": high,
                    "n_turns": 0,
                    "n_people": n_people,
                    "method": method,
                    "tokens_in": int(pd.to_numeric(g["tokens_in"]).sum()),
                    "tokens_out": int(pd.to_numeric(g["tokens_out"]).sum()),
                    "cost": float(pd.to_numeric(g["cost"]).sum()),
                    "failed_trials": int(n_failed.get(key, 0)),
                }
            )
    return out
