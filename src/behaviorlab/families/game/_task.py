"""The ``game`` task: repeated games (rock-paper-scissors, the iterated prisoner's dilemma)
against scripted partners (rules, partners and best responses: :mod:`._game_rules`; the
records: the ``games`` dataset).

A trial is one whole game (game × partner × repeat × seed); its ``person_id`` is the (opaque)
game id, the unit of independence that intervals cluster over, and its ``item_id`` the game's
name (``rps`` / ``ipd``): never the game × partner cell, which a simulator fitted on other
games of the cell could map to the partner. The partner is read from the trial's target
(``target.attributes["partner_spec"]``) and stored with the result (``meta["partner"]``,
``meta["partner_kind"]``, ``meta["cell"]``), never shown. :meth:`GameTask.play` plays it: in each
round the partner's move is fixed first (from the earlier rounds only), then the simulator is
asked, with the earlier rounds in ``TrialInput.history`` (one :class:`Step` per round) and in
the question's text, first (``predict: true``) which move the partner will play, then which
move it plays. Options are shuffled per question with a recorded seed.

A failed or invalid answer never stops the game: a failed prediction counts as wrong; a
failed move is a **forfeit**: the round scores the game's lowest payoff (rps: the loss, ipd:
S), the partner still plays, and it sees no move from the agent (tit-for-tat copies the
agent's last valid move; win-stay, lose-shift counts the round as a win). Only a game in which
every move failed is stored as a failed trial.

Per game (:meth:`GameTask.score`): prediction accuracy (literal theory of mind), mean payoff
per round, the best response's mean payoff and the regret (best-response payoff minus payoff:
functional theory of mind, 0 = played as well as possible against this partner), the payoff
share (where the payoff lies between the game's lowest payoff, 0, and the best response's, 1:
comparable across games), the share of
rounds with a best reply to the partner's actual move, and the late half of the game minus
the early half (rounds ``1..n//2`` against the last ``n//2``; the middle round of an odd game is
in neither) for payoff and prediction accuracy (learning). ``correct`` is the prediction
accuracy (the best-reply rate when predictions are off). Per-round records are in the stored
answer (``answer_json["rounds"]``), for learning curves.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from behaviorlab.data._records import (
    Dataset,
    Observation,
    Option,
    Person,
    Step,
    stable_hash,
)
from behaviorlab.families.game._duel import ROLES, duel_scores, play_duel
from behaviorlab.families.game._history import round_line, round_step
from behaviorlab.families.game._rules import (
    Game,
    Round,
    best_response,
    draws,
    make_game,
    parse_partner,
    partner_move,
)
from behaviorlab.models._base import MissingExtraError
from behaviorlab.tasks._base import Trial, TrialInput, task, trial_key

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer, Simulator

GAME = "game"
Question = Literal["predict", "move"]
GAME_INSTRUCTIONS = "You are playing a repeated game. Choose one of the options."
QUESTIONS: dict[Question, str] = {
    "predict": "Round {r} of {n}: which move will your partner play this round?",
    "move": "Round {r} of {n}: which move do you play?",
}


def answer_schema(codes: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": codes}},
        "required": ["answer"],
    }


@dataclass
class _Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    cache_hits: int = 0
    cost: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)

    def add(self, answer: Answer) -> None:
        self.tokens_in += answer.tokens_in
        self.tokens_out += answer.tokens_out
        self.calls += answer.calls
        self.cache_hits += answer.cache_hits
        self.cost += answer.cost


def _share(payoff: float, best: float, worst: float) -> float:
    """Where ``payoff`` lies between the game's worst payoff (0) and the best response's (1)."""
    return (payoff - worst) / (best - worst) if best > worst else math.nan


def _halves(values: list[float]) -> tuple[float, float] | None:
    h = len(values) // 2
    if h == 0:
        return None
    return sum(values[:h]) / h, sum(values[-h:]) / h


@task(GAME)
class GameTask:
    """Repeated games against scripted partners: predict the partner's move, then move."""

    name = GAME
    roles = ROLES
    """A spec's ``parties:`` entry assigns both (two LLMs, an LLM against itself); under
    ``simulators:`` a simulator plays ``player_1`` against the trial's scripted partner."""

    def __init__(
        self,
        predict: bool = True,
        shuffle_options: bool = True,
        persona: str | None = None,
        instructions: str = GAME_INSTRUCTIONS,
    ) -> None:
        self.predict = predict
        self.shuffle_options = shuffle_options
        self.persona = persona
        self.instructions = instructions

    # -- trials ---------------------------------------------------------------------------

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out: list[Trial] = []
        for ep in dataset.episodes:
            if not ep.steps or ep.steps[0].observation.kind != "game":
                raise ValueError(
                    f"game task: episode {ep.episode_id!r} of dataset {dataset.name!r} is not a "
                    "game (expected one step with observation kind 'game'); use data source: "
                    "games"
                )
            step = ep.steps[0]
            person = dataset.persons[ep.person_id]
            for key in ("game", "rounds", "payoffs", "moves"):
                if key not in step.observation.meta:
                    raise ValueError(
                        f"game task: episode {ep.episode_id!r} lacks observation.meta[{key!r}]"
                    )
            if "partner_spec" not in step.action.attributes:
                raise ValueError(
                    f"game task: episode {ep.episode_id!r} lacks the partner "
                    "(step.action.attributes['partner_spec']); use data source: games"
                )
            persona = (
                Person(person_id=person.person_id, description=self.persona)
                if self.persona
                else None
            )
            obs = step.observation
            trial_input = TrialInput(
                task=self.name,
                item_id=str(obs.meta["game"]),  # never the cell: it would name the partner
                person_id=person.person_id,
                persona=persona,
                observation=obs,
                answer_schema=answer_schema(obs.option_codes()),
                instructions=self.instructions,
                meta=dict(obs.meta),
            )
            out.append(
                Trial(
                    key=trial_key(self.name, ep.episode_id, None, seed),
                    episode_id=ep.episode_id,
                    step_index=0,
                    input=trial_input,
                    target=step.action,
                    person=person,
                )
            )
        return out

    # -- playing --------------------------------------------------------------------------

    def round_input(
        self,
        template: TrialInput,
        game: Game,
        history: list[Step],
        t: int,
        question: Question,
        key: str,
    ) -> TrialInput:
        """What the simulator sees for one question of round ``t`` (0-based)."""
        rounds = int(template.meta["rounds"])
        options = [Option(code=m, label=m) for m in game.moves]
        order_seed = stable_hash("move-order", key, t, question)
        if self.shuffle_options:
            random.Random(order_seed).shuffle(options)
        past = ["Rounds so far:", *(round_line(s) for s in history)]
        text = "\n".join(
            [
                template.observation.content,
                "",
                *(past if history else ["This is the first round."]),
                "",
                QUESTIONS[question].format(r=t + 1, n=rounds),
            ]
        )
        return template.model_copy(
            update={
                "history": list(history),
                "observation": Observation(kind="question", content=text, options=options),
                "answer_schema": answer_schema([o.code for o in options]),
                "meta": {
                    **template.meta,
                    "round": t + 1,
                    "question": question,
                    "option_order_seed": order_seed,
                },
            }
        )

    async def _ask(
        self, simulator: Simulator, trial_input: TrialInput, usage: _Usage
    ) -> tuple[str | None, str | None]:
        """(the chosen move, None) or (None, the error); never raises for a model failure."""
        from behaviorlab.simulators._base import Answer

        try:
            answer = await simulator.answer(trial_input)
        except MissingExtraError:
            raise
        except Exception as exc:  # a simulator bug is a failed round, not a failed run
            answer = Answer(error=f"{type(exc).__name__}: {exc}", error_kind="backend")
        usage.add(answer)
        codes = trial_input.observation.option_codes()
        if answer.error is not None:
            usage.errors.append((answer.error_kind or "backend", answer.error))
            return None, answer.error
        if answer.choice not in codes:
            error = f"answer {answer.choice!r} is not one of the moves {codes}"
            usage.errors.append(("invalid", error))
            return None, error
        return answer.choice, None

    async def play(self, trial: Trial, simulator: Simulator) -> Answer:
        from behaviorlab.simulators._base import Answer

        template = trial.input
        meta = template.meta
        game = make_game(str(meta["game"]), meta["payoffs"])
        rounds = int(meta["rounds"])
        target = trial.target.attributes
        partner = parse_partner(str(target["partner_spec"]), game)
        draw_seed = stable_hash("partner-draws", trial.key)
        drawn = draws(partner, game, rounds, draw_seed)
        br_moves, br_payoffs = best_response(partner, game, rounds, drawn)
        usage = _Usage()
        played: list[Round] = []
        history: list[Step] = []
        records: list[dict[str, Any]] = []
        failed_moves = failed_predictions = 0
        for t in range(rounds):
            theirs = partner_move(partner, game, played, t, drawn)
            prediction = prediction_error = None
            if self.predict:
                asked = self.round_input(template, game, history, t, "predict", trial.key)
                prediction, prediction_error = await self._ask(simulator, asked, usage)
                failed_predictions += prediction is None
            asked = self.round_input(template, game, history, t, "move", trial.key)
            mine, move_error = await self._ask(simulator, asked, usage)
            failed_moves += mine is None
            record: dict[str, Any] = {
                "round": t + 1,
                "prediction": prediction,
                "prediction_correct": (prediction == theirs) if self.predict else None,
                "move": mine,
                "partner_move": theirs,
                "payoff": game.worst if mine is None else game.payoff(mine, theirs),
                "partner_payoff": None if mine is None else game.payoff(theirs, mine),
                "best_reply": mine in game.best_replies(theirs),
                "br_move": br_moves[t],
                "br_payoff": br_payoffs[t],
                "forfeit": mine is None,
                "error": move_error,
                "prediction_error": prediction_error,
            }
            records.append(record)
            history.append(round_step(t, game, record))
            played.append((mine, theirs))
        answer_meta = {
            "partner": partner.label,
            "partner_kind": partner.kind,
            "cell": target.get("cell"),
            "repeat": target.get("repeat"),
            "partner_draw_seed": draw_seed if partner.stochastic else None,
            "rounds_played": rounds,
            "failed_moves": failed_moves,
            "failed_predictions": failed_predictions,
        }
        result = Answer(
            value={
                "game": game.name,
                "partner": partner.label,
                "payoffs": dict(game.payoffs),
                "rounds": records,
            },
            raw=" ".join(r["move"] or "-" for r in records),
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            calls=usage.calls,
            cache_hits=usage.cache_hits,
            cost=usage.cost,
            meta=answer_meta,
        )
        if failed_moves == rounds:
            kind, first = usage.errors[-1] if usage.errors else ("backend", "no moves")
            result.error = f"every move of the {rounds} rounds failed; the last: {first}"
            result.error_kind = "invalid" if kind == "invalid" else "backend"
        return result

    async def play_parties(self, trial: Trial, parties: Mapping[str, Simulator]) -> Answer:
        """Two parties play each other (:mod:`._duel`)."""
        return await play_duel(self, trial, parties)

    # -- scoring --------------------------------------------------------------------------

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        if "roles" in (answer.value or {}):
            return duel_scores(answer.value or {})
        records: list[dict[str, Any]] = list((answer.value or {}).get("rounds", []))
        if not records:
            return {}
        n = len(records)
        payoffs = [float(r["payoff"]) for r in records]
        br = [float(r["br_payoff"]) for r in records]
        scores: dict[str, float] = {
            "payoff": sum(payoffs) / n,
            "br_payoff": sum(br) / n,
            "regret": (sum(br) - sum(payoffs)) / n,
            "best_reply_rate": sum(bool(r["best_reply"]) for r in records) / n,
            "forfeit_rate": sum(bool(r["forfeit"]) for r in records) / n,
        }
        share = _share(scores["payoff"], scores["br_payoff"], self._worst(answer))
        if math.isfinite(share):
            scores["payoff_share"] = share
        halves = _halves(payoffs)
        if halves is not None:
            scores.update(
                payoff_early=halves[0], payoff_late=halves[1], payoff_learning=halves[1] - halves[0]
            )
        if self.predict and all(r.get("prediction_correct") is not None for r in records):
            hits = [float(bool(r["prediction_correct"])) for r in records]
            scores["prediction_accuracy"] = sum(hits) / n
            scores["prediction_failure_rate"] = sum(r["prediction"] is None for r in records) / n
            ph = _halves(hits)
            if ph is not None:
                scores.update(
                    prediction_early=ph[0], prediction_late=ph[1], prediction_learning=ph[1] - ph[0]
                )
        scores["correct"] = scores.get("prediction_accuracy", scores["best_reply_rate"])
        return scores

    @staticmethod
    def _worst(answer: Answer) -> float:
        value = answer.value or {}
        return make_game(str(value["game"]), value.get("payoffs")).worst

    def human_answer(self, trial: Trial) -> str | None:
        return None
