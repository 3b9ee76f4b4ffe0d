"""Game metrics: partner-prediction accuracy and payoff against the best response (issue 6).

Every metric here applies only to rows of the ``game`` task (``tasks``), one row per game,
clustered by ``person_id`` = the game (the unit of independence: a game × partner × repeat;
seeds of the same game are one cluster). Each is the mean over games of a per-game score the
task stored in ``scores`` (see :class:`behaviorlab.families.game._task.GameTask`):

* ``prediction_accuracy``: share of rounds in which the agent predicted the partner's move
  (literal theory of mind; a failed prediction counts as wrong).
* ``mean_payoff``: the agent's payoff per round (a forfeited round scores the game's lowest
  payoff).
* ``regret``: the best response's payoff per round minus the agent's (functional theory of
  mind: 0 = as well as any player knowing the partner's strategy; lower is better).
* ``payoff_share``: (payoff - lowest payoff) / (best-response payoff - lowest payoff) per
  round: 1 = the best response, 0 = the worst result possible in every round; comparable
  across games (``mean_payoff`` and ``regret`` are in each game's own units: read them per
  game when a run mixes games).
* ``best_reply_rate``: share of rounds whose move was a best reply to the partner's actual move.
* ``payoff_learning`` / ``prediction_learning``: the late half of the game minus the early half
  (positive: the agent adapted).
* ``forfeit_rate``: share of rounds whose move failed or was not a valid move (lower is better).

Per-round records (``answer_json["rounds"]``) give :func:`game_rounds` (one row per round)
and :func:`learning_curves` (the mean per round over games, with intervals clustered by game).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats
from behaviorlab.analysis._frame import failure_counts, require, valid_rows
from behaviorlab.analysis._metrics import MeanMetric, metric
from behaviorlab.analysis._small_sample import mean_estimate
from behaviorlab.families.game._task import GAME

GAME_METRICS = (
    "prediction_accuracy",
    "mean_payoff",
    "regret",
    "payoff_share",
    "best_reply_rate",
    "payoff_learning",
    "prediction_learning",
    "forfeit_rate",
)
"""The game metrics in display order."""
ROUND_VALUES = ("payoff", "br_payoff", "regret", "prediction_correct", "best_reply", "forfeit")
"""Per-round values :func:`learning_curves` can average."""


def is_game(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has rows and all of them are game trials."""
    return (
        "task" in frame.columns
        and len(frame) > 0
        and bool((frame["task"].astype(str) == GAME).all())
    )


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class GameMean(MeanMetric):
    """The mean over games of one per-game score (``scores[key]``)."""

    tasks: tuple[str, ...] = (GAME,)
    key = ""
    requires = "game trials"

    def applicable(self, frame: pd.DataFrame) -> bool:
        return is_game(frame) and super().applicable(frame)

    def score(self, frame: pd.DataFrame) -> pd.Series:
        cells = frame["scores"].tolist() if "scores" in frame.columns else [None] * len(frame)
        values = [_as_dict(c).get(self.key) if is_game(frame) else None for c in cells]
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        return pd.Series(numbers.to_numpy(dtype=float), index=frame.index)


@metric("prediction_accuracy")
class PredictionAccuracy(GameMean):
    """Share of rounds where the agent predicted the partner's move (literal theory of mind)."""

    key = "prediction_accuracy"
    requires = "game trials with predictions (task_options.predict: true)"
    bounds = (0.0, 1.0)


@metric("mean_payoff")
class MeanPayoff(GameMean):
    """The agent's payoff per round (forfeits score the game's lowest payoff)."""

    key = "payoff"


@metric("regret")
class Regret(GameMean):
    """Best-response payoff per round minus the agent's (functional theory of mind)."""

    key = "regret"
    higher_is_better = False


@metric("payoff_share")
class PayoffShare(GameMean):
    """Where the payoff lies between the game's lowest payoff (0) and the best response's (1);
    comparable across games, unlike the payoff itself."""

    key = "payoff_share"


@metric("best_reply_rate")
class BestReplyRate(GameMean):
    """Share of rounds whose move was a best reply to the partner's actual move."""

    key = "best_reply_rate"
    bounds = (0.0, 1.0)


@metric("payoff_learning")
class PayoffLearning(GameMean):
    """Mean payoff in the late half of the game minus the early half."""

    key = "payoff_learning"


@metric("prediction_learning")
class PredictionLearning(GameMean):
    """Prediction accuracy in the late half of the game minus the early half."""

    key = "prediction_learning"
    requires = "game trials with predictions (task_options.predict: true)"
    bounds = (-1.0, 1.0)


@metric("forfeit_rate")
class ForfeitRate(GameMean):
    """Share of rounds whose move failed or was not a valid move."""

    key = "forfeit_rate"
    higher_is_better = False
    bounds = (0.0, 1.0)


# -- per-round tables ------------------------------------------------------------------------


def game_rounds(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per round of every valid game trial: simulator, condition, seed, person_id
    (the game), game, partner, round and the round's values (:data:`ROUND_VALUES`, booleans
    as 0/1; ``prediction_correct`` NaN when no prediction was asked)."""
    require(frame, "task", "simulator", "condition", "person_id")
    games = frame.loc[frame["task"].astype(str) == GAME]
    games = valid_rows(games) if len(games) else games
    rows: list[dict[str, Any]] = []
    answers = games["answer_json"].tolist() if "answer_json" in games.columns else []
    metas = games["meta"].tolist() if "meta" in games.columns else [None] * len(games)
    seeds = games["seed"].tolist() if "seed" in games.columns else [0] * len(games)
    for (_, g), value, meta, seed in zip(games.iterrows(), answers, metas, seeds, strict=True):
        body = _as_dict(value)
        if "roles" in body:  # two parties played: their rounds are per role (the turns)
            continue
        low, high = _payoff_range(body)
        for r in body.get("rounds", []):
            correct = r.get("prediction_correct")
            rows.append(
                {
                    "simulator": str(g["simulator"]),
                    "condition": str(g["condition"]),
                    "seed": seed,
                    "person_id": str(g["person_id"]),
                    "game": str(body.get("game", "")),
                    "partner": str(_as_dict(meta).get("partner_kind", body.get("partner", ""))),
                    "round": int(r["round"]),
                    "payoff": float(r["payoff"]),
                    "br_payoff": float(r["br_payoff"]),
                    "regret": float(r["br_payoff"]) - float(r["payoff"]),
                    "prediction_correct": math.nan if correct is None else float(bool(correct)),
                    "best_reply": float(bool(r.get("best_reply"))),
                    "forfeit": float(bool(r.get("forfeit"))),
                    "payoff_min": low,
                    "payoff_max": high,
                }
            )
    columns = ["simulator", "condition", "seed", "person_id", "game", "partner", "round"]
    return pd.DataFrame(rows, columns=[*columns, *ROUND_VALUES, "payoff_min", "payoff_max"])


def _payoff_range(body: dict[str, Any]) -> tuple[float, float]:
    """The lowest and highest payoff of the game a stored answer was played in."""
    from behaviorlab.families.game._rules import GameConfigError, make_game

    try:
        table = make_game(str(body.get("game")), body.get("payoffs")).table.values()
    except GameConfigError:
        return -math.inf, math.inf
    return min(table), max(table)


def _bounds(value: str, g: pd.DataFrame) -> tuple[float, float] | None:
    """The range of a per-round value, to clip its interval."""
    if value in ("payoff", "br_payoff"):
        return float(g["payoff_min"].min()), float(g["payoff_max"].max())
    if value == "regret":
        spread = float((g["payoff_max"] - g["payoff_min"]).max())
        return -spread, spread
    return 0.0, 1.0


CURVE_COLUMNS = ["simulator", "condition", "game", "round", "value", "low", "high", "n_games"]


def learning_curves(
    frame: pd.DataFrame,
    value: str = "payoff",
    *,
    by: Sequence[str] = ("simulator", "condition", "game"),
    level: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The mean of a per-round ``value`` (:data:`ROUND_VALUES`) per round, over games, with
    an interval clustered by game (the CR2 t interval below 100 games, a bootstrap above;
    clipped to the value's range), for each group of ``by``. Columns: ``by``, round, value,
    low, high, n_games."""
    if value not in ROUND_VALUES:
        raise ValueError(f"learning_curves: value must be one of {ROUND_VALUES}, not {value!r}")
    rounds = game_rounds(frame)
    keys = [*by, "round"]
    out: list[dict[str, Any]] = []
    for key, g in rounds.groupby(keys, sort=True):
        g = g.loc[np.isfinite(g[value].to_numpy(dtype=float))]
        if g.empty:
            continue
        stats = ClusterStats.from_rows(
            g["person_id"].to_numpy(), np.column_stack([g[value].to_numpy(), np.ones(len(g))])
        )
        est = mean_estimate(
            stats,
            lambda agg: agg[..., 0] / agg[..., 1],
            stats.values[:, 0],
            stats.values[:, 1],
            n_resamples=n_resamples,
            seed=seed,
            level=level,
            bounds=_bounds(value, g),
        )
        out.append(
            {
                **dict(zip(keys, key, strict=True)),
                "value": est.value,
                "low": est.low,
                "high": est.high,
                "n_games": stats.n_clusters,
            }
        )
    return pd.DataFrame(out, columns=[*by, "round", "value", "low", "high", "n_games"])


def game_failures(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (simulator, condition): games, failed games (every move failed), invalid games,
    and the failed moves and failed predictions summed over the games that were played."""
    require(frame, "task", "simulator", "condition", "error", "error_kind")
    games = frame.loc[frame["task"].astype(str) == GAME]
    out: list[dict[str, Any]] = []
    for (sim, cond), g in games.groupby(["simulator", "condition"], sort=True):
        failed, invalid = failure_counts(g)
        metas = g["meta"].tolist() if "meta" in g.columns else []
        out.append(
            {
                "simulator": str(sim),
                "condition": str(cond),
                "games": len(g),
                "failed_games": failed,
                "invalid_games": invalid,
                "rounds": sum(int(_as_dict(m).get("rounds_played", 0)) for m in metas),
                "failed_moves": sum(int(_as_dict(m).get("failed_moves", 0)) for m in metas),
                "failed_predictions": sum(
                    int(_as_dict(m).get("failed_predictions", 0)) for m in metas
                ),
            }
        )
    columns = ["simulator", "condition", "games", "failed_games", "invalid_games", "rounds"]
    return pd.DataFrame(out, columns=[*columns, "failed_moves", "failed_predictions"])
