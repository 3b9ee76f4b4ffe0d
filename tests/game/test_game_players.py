"""Reference players: the frequency-counting best responder's predictions and replies on a
known history, and the random and first-option players."""

from __future__ import annotations

import asyncio

from behaviorlab.data import load_dataset
from behaviorlab.data._records import Action, Observation, Step
from behaviorlab.families.game._players import predict_partner
from behaviorlab.families.game._rules import make_game
from behaviorlab.families.game._task import GameTask
from behaviorlab.simulators import simulators
from behaviorlab.tasks import TrialInput


def _history(pairs: list[tuple[str | None, str]]) -> list[Step]:
    return [
        Step(
            index=i,
            step_id=f"round-{i + 1}",
            observation=Observation(kind="game_round", content=""),
            action=Action(action_type="move", value=mine, attributes={"partner_move": theirs}),
        )
        for i, (mine, theirs) in enumerate(pairs)
    ]


def test_prediction_on_a_known_history() -> None:
    h = _history([("rock", "paper"), ("rock", "scissors"), ("paper", "paper"), ("rock", "paper")])
    # unconditional: paper 3, scissors 1
    assert predict_partner(h, "rock", conditional=False) == "paper"
    # after (rock, paper) the partner played scissors (round 2): the pair decides
    assert predict_partner(h, "rock") == "scissors"
    # the last pair (scissors, paper) is new: back off to what followed the partner's paper:
    # scissors (after round 1) and paper (after round 3), a tie won by the more recent
    h2 = _history(
        [("rock", "paper"), ("rock", "scissors"), ("paper", "paper"), ("scissors", "paper")]
    )
    assert predict_partner(h2, "rock") == "paper"
    # ties go to the most recent; no history: the game's first move
    assert predict_partner(
        _history([("rock", "rock"), ("rock", "paper")]), "x", conditional=False
    ) == ("paper")
    assert predict_partner([], "cooperate") == "cooperate"
    # forfeits (no move) still count as rounds of the partner's
    assert predict_partner(_history([(None, "defect")]), "cooperate") == "defect"


def _inputs(
    game: str, partner: str, question: str, pairs: list[tuple[str | None, str]]
) -> TrialInput:
    ds = load_dataset("games", games=[game], partners=[partner], rounds=6)
    task = GameTask()
    (trial,) = task.trials(ds, seed=0)
    from behaviorlab.families.game._task import round_step

    g = make_game(game)
    history = [
        round_step(
            i,
            g,
            {
                "move": m,
                "partner_move": p,
                "payoff": 0.0,
                "partner_payoff": 0.0,
                "prediction": None,
            },
        )
        for i, (m, p) in enumerate(pairs)
    ]
    return task.round_input(trial.input, g, history, len(pairs), question, trial.key)  # type: ignore[arg-type]


def test_best_responder_answers_round_inputs() -> None:
    sim = simulators.get("best_responder")()
    pairs: list[tuple[str | None, str]] = [("rock", "scissors"), ("rock", "scissors")]
    predicted = asyncio.run(sim.answer(_inputs("rps", "fixed", "predict", pairs)))
    move = asyncio.run(sim.answer(_inputs("rps", "fixed", "move", pairs)))
    assert predicted.choice == "scissors" and move.choice == "rock"
    ipd = asyncio.run(sim.answer(_inputs("ipd", "fixed", "move", [("cooperate", "cooperate")])))
    assert ipd.choice == "defect"  # myopic: defect is the best reply to anything
    # a trial that is not a game is refused as invalid, not guessed
    survey = _inputs("rps", "fixed", "move", []).model_copy(update={"meta": {}})
    refused = asyncio.run(sim.answer(survey))
    assert refused.error_kind == "invalid" and "game task only" in (refused.error or "")


def test_random_and_first_option_players() -> None:
    rand = simulators.get("random_move")()
    first = simulators.get("first_move")()
    inputs = [_inputs("rps", "cycle", "move", [("rock", "rock")] * k) for k in range(6)]
    a = [asyncio.run(rand.answer(i)).choice for i in inputs]
    assert a == [asyncio.run(rand.answer(i)).choice for i in inputs]  # seeded
    other = simulators.get("random_move")(seed=1)
    assert a != [asyncio.run(other.answer(i)).choice for i in inputs]
    assert set(a) <= {"rock", "paper", "scissors"} and len(set(a)) > 1
    for i in inputs:
        assert asyncio.run(first.answer(i)).choice == i.observation.option_codes()[0]
