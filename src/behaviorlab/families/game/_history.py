"""The earlier rounds of a game as a player reads them: one history step per round, and the
round in words (from the player's own side)."""

from __future__ import annotations

from typing import Any

from behaviorlab.data._records import Action, Observation, Option, Step
from behaviorlab.families.game._rules import Game


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def round_line(step: Step) -> str:
    """One earlier round in words, as the agent reads it."""
    a = step.action
    r = step.index + 1
    theirs = a.attributes["partner_move"]
    if a.value is None:
        played = "gave no valid move either" if theirs is None else f"played {theirs}"
        return (
            f"Round {r}: you gave no valid move (a forfeit: you scored "
            f"{_n(a.attributes['payoff'])}); your partner {played}."
        )
    mine = a.value
    if theirs is None:  # another party that forfeited
        return (
            f"Round {r}: you played {mine}, your partner gave no valid move; you scored "
            f"{_n(a.attributes['payoff'])}."
        )
    return (
        f"Round {r}: you played {mine}, your partner played {theirs}; you scored "
        f"{_n(a.attributes['payoff'])}, your partner {_n(a.attributes['partner_payoff'])}."
    )


def round_step(t: int, game: Game, record: dict[str, Any]) -> Step:
    """Round ``t`` (0-based) as a history step: your move (None: forfeit), the partner's,
    both payoffs and your prediction in ``action.attributes``."""
    return Step(
        index=t,
        step_id=f"round-{t + 1}",
        observation=Observation(
            kind="game_round",
            content=f"round {t + 1}",
            options=[Option(code=m, label=m) for m in game.moves],
        ),
        action=Action(
            action_type="move",
            value=record["move"],
            attributes={
                "partner_move": record["partner_move"],
                "payoff": record["payoff"],
                "partner_payoff": record["partner_payoff"],
                "prediction": record["prediction"],
            },
        ),
    )
