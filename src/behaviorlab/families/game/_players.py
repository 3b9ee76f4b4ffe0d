"""Reference players for the ``game`` task: non-LLM yardsticks that answer the same per-round
questions as an LLM, reading the earlier rounds from ``TrialInput.history``.

- ``best_responder``: a frequency-counting player. It predicts the partner's next move as the
  partner's most frequent move after rounds like the last one (the same pair of moves; backing
  off to the same partner move, then to all of the partner's moves; ``conditional: false``
  uses all of its moves at once); ties go to the move seen most recently, and before any round
  it predicts the game's first move (rock / cooperate). Its own move is the best reply to that
  prediction (ties: the first in the game's order). It is myopic: in the prisoner's dilemma it
  always defects.
- ``random_move``: a move (and a prediction) drawn uniformly from the options, seeded by the
  question (reproducible).
- ``scripted_partner``: one of the scripted partners (``partner: tit_for_tat``) as a party of a
  two-party game (a spec's ``parties:``), playing as it plays against a simulator.
- ``first_move``: always the first option shown. Options are shuffled per question, so this is
  the position-bias yardstick, not a fixed strategy.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from behaviorlab.data._records import Step, stable_hash
from behaviorlab.families.game._rules import (
    PARTNER_KINDS,
    GameConfigError,
    draws,
    make_game,
    parse_partner,
    partner_move,
)
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput

NOT_A_GAME = "{who} plays the game task only: this trial has no game rules (meta['game'])"


def _most_frequent(moves: Sequence[str]) -> str:
    """The most frequent move; ties go to the one seen most recently."""
    counts = Counter(moves)
    last_seen = {m: i for i, m in enumerate(moves)}
    return max(counts, key=lambda m: (counts[m], last_seen[m]))


def predict_partner(history: Sequence[Step], first: str, *, conditional: bool = True) -> str:
    """The partner's next move predicted from the earlier rounds (see the module docstring)."""
    rounds = [(s.action.value, str(s.action.attributes["partner_move"])) for s in history]
    if not rounds:
        return first
    theirs = [p for _, p in rounds]
    if conditional:
        last = rounds[-1]
        after_pair = [theirs[i + 1] for i in range(len(rounds) - 1) if rounds[i] == last]
        if after_pair:
            return _most_frequent(after_pair)
        after_move = [theirs[i + 1] for i in range(len(rounds) - 1) if theirs[i] == last[1]]
        if after_move:
            return _most_frequent(after_move)
    return _most_frequent(theirs)


class _Player:
    """No training and nothing to record beyond the name."""

    label: str

    def fit(self, train: Sequence[Trial]) -> None:
        """Nothing to learn from other games."""

    def identity(self) -> dict[str, Any]:
        return {"simulator": self.label}


@simulator("best_responder")
class BestResponder(_Player):
    """Predicts the partner's most frequent move (after rounds like the last) and plays the
    best reply to it."""

    def __init__(self, conditional: bool = True, label: str | None = None) -> None:
        self.conditional = conditional
        self.label = label or "best_responder"

    def identity(self) -> dict[str, Any]:
        return {"simulator": "best_responder", "conditional": self.conditional}

    async def answer(self, trial: TrialInput) -> Answer:
        meta = trial.meta
        if "game" not in meta:
            return Answer(error=NOT_A_GAME.format(who=self.label), error_kind="invalid")
        try:
            game = make_game(str(meta["game"]), meta.get("payoffs"))
        except GameConfigError as exc:
            return Answer(error=str(exc), error_kind="invalid")
        predicted = predict_partner(trial.history, game.moves[0], conditional=self.conditional)
        choice = predicted if meta.get("question") == "predict" else game.best_reply(predicted)
        if choice not in trial.observation.option_codes():
            return Answer(error=f"move {choice!r} is not among the options", error_kind="invalid")
        return Answer(
            choice=choice,
            value={"answer": choice},
            raw=f"partner predicted to play {predicted} after {len(trial.history)} rounds",
        )


@simulator("random_move")
class RandomMove(_Player):
    """A uniformly random option, seeded by the question (game, round, question, order)."""

    def __init__(self, seed: int = 0, label: str | None = None) -> None:
        self.seed = seed
        self.label = label or "random_move"

    def identity(self) -> dict[str, Any]:
        return {"simulator": "random_move", "seed": self.seed}

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        if not codes:
            return Answer(error="random_move: the trial has no options", error_kind="invalid")
        key = stable_hash(
            "random-move",
            self.seed,
            trial.person_id,
            trial.meta.get("round"),
            trial.meta.get("question"),
            trial.meta.get("option_order_seed"),
        )
        choice = random.Random(key).choice(sorted(codes))
        probs = {c: 1.0 / len(codes) for c in codes}
        return Answer(choice=choice, value={"answer": choice}, probabilities=probs, raw="random")


@simulator("first_move")
class FirstMove(_Player):
    """Always the first option shown (a position-bias yardstick under shuffled options)."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label or "first_move"

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        if not codes:
            return Answer(error="first_move: the trial has no options", error_kind="invalid")
        return Answer(choice=codes[0], value={"answer": codes[0]}, raw="first option shown")


@simulator("scripted_partner")
class ScriptedPartner(_Player):
    """One of the game's scripted partners (``partner: tit_for_tat``, ``wsls:defect``,
    ``biased:rock=0.5,...``; see :mod:`._rules`) as a party: it plays ``player_2`` (or
    ``player_1``) of a two-party game exactly as that partner plays against a simulator,
    reading the other player's earlier moves from its own history; asked to predict, it
    predicts as ``best_responder`` does. A biased partner's draws are seeded per game and
    spec seed (``seed`` and the game's trial key)."""

    def __init__(self, partner: str = "tit_for_tat", seed: int = 0, label: str | None = None):
        kind = partner.strip().partition(":")[0].strip()
        if kind not in PARTNER_KINDS:  # moves are checked against each game when it is played
            raise ValueError(
                f"scripted_partner: unknown partner {partner!r}; its kind is one of "
                f"{', '.join(PARTNER_KINDS)} (e.g. tit_for_tat, wsls:defect, biased:rock=0.5)"
            )
        self.partner = partner
        self.seed = seed
        self.label = label or f"partner:{partner}"

    def identity(self) -> dict[str, Any]:
        return {"simulator": "scripted_partner", "partner": self.partner, "seed": self.seed}

    async def answer(self, trial: TrialInput) -> Answer:
        meta = trial.meta
        if "game" not in meta:
            return Answer(error=NOT_A_GAME.format(who=self.label), error_kind="invalid")
        try:
            game = make_game(str(meta["game"]), meta.get("payoffs"))
            partner = parse_partner(self.partner, game)
        except GameConfigError as exc:
            return Answer(error=str(exc), error_kind="invalid")
        if meta.get("question") == "predict":
            choice = predict_partner(trial.history, game.moves[0])
            why = "predicted as best_responder does"
        else:
            # from this party's side: its own move is the step's action, the other's the
            # partner move; the scripted strategy reacts to the other's moves
            played = [
                (s.action.attributes["partner_move"], str(s.action.value or game.moves[0]))
                for s in trial.history
            ]
            rounds = int(meta.get("rounds", len(played) + 1))
            key = meta.get("draw_key", trial.person_id)  # the game's trial key: spec seed in
            drawn = draws(partner, game, rounds, stable_hash(self.seed, key))
            choice = partner_move(partner, game, played, len(played), drawn)
            why = f"{partner.label} after {len(played)} rounds"
        if choice not in trial.observation.option_codes():
            return Answer(error=f"move {choice!r} is not among the options", error_kind="invalid")
        return Answer(choice=choice, value={"answer": choice}, raw=why)
