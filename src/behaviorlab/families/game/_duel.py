"""Two parties play a game: ``player_1`` against ``player_2`` (an LLM against another LLM, or
against itself, or against any simulator), from a spec's ``parties:``.

Each round both players are asked at the same time, each from its own side: it sees the rules
and the earlier rounds as *it* played them ("you played X, your partner played Y"), is asked
(``predict: true``) which move the other will play, then which move it plays; neither sees the
other's move of this round. Options are shuffled per player and question with a recorded seed.
The trial's scripted partner (from the ``games`` data) is not used: the other party is the
partner. A failed move is a forfeit, as against a scripted partner: the forfeiting player
scores the game's lowest payoff and the other player the best its move could earn this round
(both forfeit: both the lowest).

Every turn is stored with its speaker (``meta["turns"]``) and scored per turn: a move turn
with ``payoff``, ``best_reply`` (against the move the other actually played) and, in the
prisoner's dilemma, ``cooperate``; a prediction turn with ``prediction_correct``. So
``Run.to_pandas(per="turn")`` and the gap report's per-role table give each player's payoff,
best-reply rate and prediction accuracy. The trial's scores are per player
(``payoff_player_1``, ...) and of the pair (``joint_payoff``; in the prisoner's dilemma
``mutual_cooperation``); the per-round records are in ``answer_json["rounds"]``, with
``answer_json["roles"]`` set (the one-party tables of the game family leave these out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from behaviorlab.data._records import Step
from behaviorlab.families.game._history import round_step
from behaviorlab.families.game._rules import Game, make_game

if TYPE_CHECKING:
    from behaviorlab.families.game._task import GameTask
    from behaviorlab.simulators._base import Answer, Simulator
    from behaviorlab.simulators._parties import TurnLog
    from behaviorlab.tasks._base import Trial

ROLES = ("player_1", "player_2")


def _other(role: str) -> str:
    return ROLES[1] if role == ROLES[0] else ROLES[0]


async def _ask(log: TurnLog, role: str, trial_input: Any) -> tuple[str | None, str | None, int]:
    """(move, error, turn index): the role's answer read as one of the options."""
    answer = await log.ask(role, trial_input)
    turn = len(log.turns) - 1
    codes = trial_input.observation.option_codes()
    if answer.error is not None:
        return None, answer.error, turn
    if answer.choice not in codes:
        why = f"answer {answer.choice!r} is not one of the moves {codes}"
        log.fail(turn, why)  # the turn is stored as failed, not as a move played
        return None, why, turn
    return answer.choice, None, turn


def _payoffs(game: Game, moves: Mapping[str, str | None]) -> dict[str, float]:
    out: dict[str, float] = {}
    for role in ROLES:
        mine, theirs = moves[role], moves[_other(role)]
        if mine is None:
            out[role] = game.worst
        elif theirs is None:
            out[role] = max(game.payoff(mine, m) for m in game.moves)
        else:
            out[role] = game.payoff(mine, theirs)
    return out


async def play_duel(task: GameTask, trial: Trial, parties: Mapping[str, Simulator]) -> Answer:
    """Play one game between the two parties (see the module docstring)."""
    from behaviorlab.simulators._parties import TurnLog

    template = trial.input
    meta = template.meta
    game = make_game(str(meta["game"]), meta["payoffs"])
    rounds = int(meta["rounds"])
    log = TurnLog(parties)
    history: dict[str, list[Step]] = {r: [] for r in ROLES}
    records: list[dict[str, Any]] = []
    failed = dict.fromkeys(ROLES, 0)
    last_error: dict[str, tuple[str, str]] = {}
    for t in range(rounds):
        moves: dict[str, str | None] = {}
        predictions: dict[str, str | None] = {}
        move_turns: dict[str, int] = {}
        predict_turns: dict[str, int] = {}
        errors: dict[str, str | None] = {}
        for role in ROLES:  # at the same time: each sees only the rounds before this one
            key = trial.key if role == ROLES[0] else f"{trial.key}:{role}"
            if task.predict:
                asked = task.round_input(template, game, history[role], t, "predict", key)
                predictions[role], _, predict_turns[role] = await _ask(log, role, asked)
            asked = task.round_input(template, game, history[role], t, "move", key)
            # a scripted party's random draws: seeded per game and spec seed (the trial key)
            asked.meta["draw_key"] = trial.key
            moves[role], errors[role], move_turns[role] = await _ask(log, role, asked)
            failed[role] += moves[role] is None
            if moves[role] is None:
                turn = log.turns[move_turns[role]]
                last_error[role] = (turn.error_kind or "backend", str(errors[role]))
        payoffs = _payoffs(game, moves)
        record: dict[str, Any] = {"round": t + 1}
        for role in ROLES:
            mine, theirs = moves[role], moves[_other(role)]
            best = mine is not None and theirs is not None and mine in game.best_replies(theirs)
            scores: dict[str, float] = {"payoff": payoffs[role], "best_reply": float(best)}
            if game.name == "ipd" and mine is not None:
                scores["cooperate"] = float(mine == game.moves[0])
            log.score(move_turns[role], **scores)
            if task.predict:
                hit = predictions[role] is not None and predictions[role] == theirs
                log.score(predict_turns[role], prediction_correct=float(hit))
            record[role] = {
                "move": mine,
                "prediction": predictions.get(role),
                "payoff": payoffs[role],
                "best_reply": best,
                "forfeit": mine is None,
                "error": errors[role],
            }
        records.append(record)
        for role in ROLES:
            other = _other(role)
            view = {
                "move": moves[role],
                "partner_move": moves[other],
                "payoff": payoffs[role],
                "partner_payoff": payoffs[other],
                "prediction": predictions.get(role),
            }
            history[role].append(round_step(t, game, view))
    answer = log.answer(
        value={
            "game": game.name,
            "payoffs": dict(game.payoffs),
            "roles": list(ROLES),
            "rounds": records,
        },
        raw=" | ".join(" ".join(str(r[role]["move"] or "-") for r in records) for role in ROLES),
        meta={
            "rounds_played": rounds,
            "failed_moves": sum(failed.values()),
            "failed_moves_by_role": failed,
        },
    )
    # a player that never made a valid move (a dead party: a script whose lines are not
    # moves, a model that never answers) makes the game a failed trial, naming the role
    dead = [role for role in ROLES if failed[role] == rounds]
    if dead:
        answer.error = "; ".join(
            f"role {role!r} ({parties[role].label}) made no valid move in the {rounds} rounds; "
            f"the last: {last_error[role][1]}"
            for role in dead
        )
        answer.error_kind = "invalid" if last_error[dead[0]][0] == "invalid" else "backend"
    return answer


def duel_scores(value: Mapping[str, Any]) -> dict[str, float]:
    """The trial's scores of a two-party game (see the module docstring)."""
    records = list(value.get("rounds", []))
    if not records:
        return {}
    n = len(records)
    out: dict[str, float] = {}
    for role in ROLES:
        out[f"payoff_{role}"] = sum(float(r[role]["payoff"]) for r in records) / n
        out[f"best_reply_rate_{role}"] = sum(bool(r[role]["best_reply"]) for r in records) / n
        preds = [r[role] for r in records if r[role].get("prediction") is not None]
        if preds:
            out[f"prediction_accuracy_{role}"] = (
                sum(bool(r[role]["prediction"] == r[_other(role)]["move"]) for r in records) / n
            )
    out["joint_payoff"] = out["payoff_player_1"] + out["payoff_player_2"]
    if value.get("game") == "ipd":
        both = [r["player_1"]["move"] == r["player_2"]["move"] == "cooperate" for r in records]
        out["mutual_cooperation"] = sum(both) / n
    return out
