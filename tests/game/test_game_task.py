"""The game task: trials from the games source, what each round shows, playing a whole game
against stub simulators (records, payoffs, forfeits, failures), and the per-game scores."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.game._task import GameTask
from behaviorlab.runs._conditions import conditions
from behaviorlab.simulators import Answer
from behaviorlab.tasks import Trial, TrialInput, tasks


class Stub:
    """Answers every question with ``policy(trial_input)``; records what it was shown."""

    label = "stub"

    def __init__(self, policy: Callable[[TrialInput], Answer]) -> None:
        self.policy = policy
        self.seen: list[TrialInput] = []

    def fit(self, train: Sequence[Trial]) -> None:
        pass

    def identity(self) -> dict[str, Any]:
        return {}

    async def answer(self, trial: TrialInput) -> Answer:
        self.seen.append(trial)
        return self.policy(trial)


def _trial(partner: str, game: str = "ipd", rounds: int = 4, **task: Any) -> tuple[GameTask, Trial]:
    ds = load_dataset("games", games=[game], partners=[partner], rounds=rounds)
    t = GameTask(**task)
    (trial,) = t.trials(ds, seed=0)
    return t, trial


def _play(t: GameTask, trial: Trial, sim: Stub) -> Answer:
    return asyncio.run(t.play(trial, sim))


def choose(move: str, prediction: str = "cooperate") -> Callable[[TrialInput], Answer]:
    def policy(inp: TrialInput) -> Answer:
        c = prediction if inp.meta["question"] == "predict" else move
        return Answer(choice=c, value={"answer": c}, tokens_in=10, calls=1, cache_hits=1)

    return policy


def test_games_source_and_trials() -> None:
    ds = load_dataset("games", partners={"rps": ["fixed:paper"], "ipd": ["wsls"]}, repeats=2)
    assert len(ds.persons) == 4
    # opaque game ids: neither the partner nor the cell (game x partner) is readable, so
    # repeats against the same partner share nothing but the game
    assert all(pid.split("-")[0] in ("rps", "ipd") and len(pid) == 14 for pid in ds.persons)
    assert len({pid.split("-")[1] for pid in ds.persons}) == 4
    trials = tasks.get("game")().trials(ds, seed=3)
    assert [t.person_id for t in trials] == [e.episode_id for e in ds.episodes]
    first = trials[0]
    assert first.item_id == "rps" and first.person_id.startswith("rps-")
    assert {t.item_id for t in trials} == {"rps", "ipd"}  # never the cell
    assert first.input.observation.option_codes() == ["rock", "paper", "scissors"]
    # the partner lives in the target (hidden from the simulator), not in the person
    target = trials[2].target.attributes
    assert target["partner_spec"] == "wsls:cooperate" and target["partner"] == "wsls"
    assert (target["cell"], target["repeat"]) == ("ipd-01", 0)
    assert all(set(p.attributes) == {"game"} for p in ds.persons.values())
    with pytest.raises(ValueError, match="listed twice"):
        load_dataset("games", partners=["fixed", "fixed:rock"], games=["rps"])


PARTNER_WORDS = ("fixed", "cycle", "tit_for_tat", "wsls", "biased", "partner_spec", "cell")


def test_nothing_shown_or_fitted_per_person_names_the_partner() -> None:
    ds = load_dataset("games", games=["rps", "ipd"], rounds=2, repeats=2)
    t = GameTask(persona="You are cautious.")
    trials = t.trials(ds, seed=0)
    sims = []
    for trial in trials:
        sim = Stub(choose("rock") if trial.item_id == "rps" else choose("cooperate"))
        answer = _play(t, trial, sim)
        assert answer.meta["partner_kind"] == trial.target.attributes["partner"]
        assert answer.meta["cell"] == trial.target.attributes["cell"]  # stored, not shown
        sims.append(sim)
    for trial, sim in zip(trials, sims, strict=True):
        for shown in (trial.input, *sim.seen):
            text = shown.model_dump_json()
            assert not [w for w in PARTNER_WORDS if w in text], text
        assert not [w for w in PARTNER_WORDS if w in trial.person.model_dump_json()]
    # shuffled_persona hands over the donor's shown persona, not its record
    shuffled = conditions.get("shuffled_persona")(trials, seed=0)
    for trial in shuffled:
        text = trial.input.model_dump_json()
        assert not [w for w in PARTNER_WORDS if w in text]
        assert trial.input.persona is not None
        assert trial.input.persona.description == "You are cautious."
    with pytest.raises(ValueError, match="game task's trials show no persona"):
        conditions.get("shuffled_persona")(GameTask().trials(ds, seed=0), seed=0)


def test_games_source_errors_name_the_option() -> None:
    with pytest.raises(ValueError, match="partner 'fixed:paper' for game 'ipd'"):
        load_dataset("games", partners=["fixed:paper"])
    with pytest.raises(ValueError, match=r"partners names games \['rps'\] but not 'ipd'"):
        load_dataset("games", partners={"rps": ["fixed"]})
    with pytest.raises(ValueError, match="rounds"):
        load_dataset("games", rounds=0)


def test_play_records_every_round_against_tit_for_tat() -> None:
    t, trial = _trial("tit_for_tat")
    ans = _play(t, trial, Stub(choose("defect", prediction="cooperate")))
    assert ans.ok and ans.calls == 8 and ans.tokens_in == 80 and ans.cache_hits == 8
    rounds = ans.value["rounds"]  # type: ignore[index]
    assert [r["partner_move"] for r in rounds] == ["cooperate", "defect", "defect", "defect"]
    assert [r["payoff"] for r in rounds] == [5, 1, 1, 1]
    assert [r["partner_payoff"] for r in rounds] == [0, 1, 1, 1]
    assert [r["prediction_correct"] for r in rounds] == [True, False, False, False]
    assert [r["br_payoff"] for r in rounds] == [3, 3, 3, 5]
    scores = t.score(trial, ans)
    assert scores["payoff"] == pytest.approx(2.0)
    assert scores["br_payoff"] == pytest.approx(3.5)
    assert scores["regret"] == pytest.approx(1.5)
    assert scores["prediction_accuracy"] == scores["correct"] == pytest.approx(0.25)
    assert scores["payoff_learning"] == pytest.approx(1.0 - 3.0)  # late (1, 1) − early (5, 1)
    assert scores["prediction_learning"] == pytest.approx(0.0 - 0.5)
    assert scores["payoff_share"] == pytest.approx(2.0 / 3.5)  # worst payoff S = 0
    assert scores["best_reply_rate"] == 1.0 and scores["forfeit_rate"] == 0.0
    assert ans.meta["partner"] == "tit_for_tat:cooperate" and ans.meta["failed_moves"] == 0


def test_each_round_shows_history_and_shuffled_options() -> None:
    t, trial = _trial("cycle", game="rps", rounds=3, persona="You are cautious.")
    sim = Stub(choose("rock", prediction="paper"))
    _play(t, trial, sim)
    assert [(s.meta["round"], s.meta["question"]) for s in sim.seen] == [
        (1, "predict"),
        (1, "move"),
        (2, "predict"),
        (2, "move"),
        (3, "predict"),
        (3, "move"),
    ]
    last = sim.seen[-1]
    assert [s.action.value for s in last.history] == ["rock", "rock"]
    assert [s.action.attributes["partner_move"] for s in last.history] == ["rock", "paper"]
    assert last.history[1].action.attributes["payoff"] == -1
    assert "Round 2: you played rock, your partner played paper; you scored -1" in (
        last.observation.content
    )
    assert "Round 3 of 3: which move do you play?" in last.observation.content
    assert last.persona is not None and last.persona.description == "You are cautious."
    orders = {tuple(s.observation.option_codes()) for s in sim.seen}
    assert len(orders) > 1 and all(sorted(o) == ["paper", "rock", "scissors"] for o in orders)
    assert last.answer_schema["properties"]["answer"]["enum"] == last.observation.option_codes()
    # a condition applied to the template reaches every round
    (no_persona,) = conditions.get("no_persona")([trial], seed=0)
    sim2 = Stub(choose("rock"))
    _play(t, no_persona, sim2)
    assert all(s.persona is None for s in sim2.seen)


def test_failures_are_forfeits_and_never_raise() -> None:
    t, trial = _trial("tit_for_tat", rounds=4)

    def flaky(inp: TrialInput) -> Answer:
        r, q = inp.meta["round"], inp.meta["question"]
        if r == 2 and q == "move":
            return Answer(error="backend down", error_kind="backend", calls=1)
        if r == 3 and q == "move":
            raise RuntimeError("simulator bug")
        if r == 4 and q == "predict":
            return Answer(choice="maybe")  # not a move: an invalid prediction
        c = "defect" if q == "move" else "cooperate"
        return Answer(choice=c, value={"answer": c}, calls=1)

    ans = _play(t, trial, Stub(flaky))
    assert ans.ok
    rounds = ans.value["rounds"]  # type: ignore[index]
    assert [r["move"] for r in rounds] == ["defect", None, None, "defect"]
    assert [r["forfeit"] for r in rounds] == [False, True, True, False]
    assert [r["payoff"] for r in rounds] == [5, 0, 0, 1]  # forfeit: S = 0
    # tit-for-tat copies the last valid move through the forfeits
    assert [r["partner_move"] for r in rounds] == ["cooperate", "defect", "defect", "defect"]
    assert "simulator bug" in rounds[2]["error"] and rounds[3]["prediction"] is None
    assert ans.meta["failed_moves"] == 2 and ans.meta["failed_predictions"] == 1
    scores = t.score(trial, ans)
    assert scores["forfeit_rate"] == 0.5 and scores["prediction_failure_rate"] == 0.25
    assert scores["prediction_accuracy"] == 0.25  # round 1 only


def test_a_game_with_no_valid_move_is_a_failed_trial() -> None:
    t, trial = _trial("fixed", rounds=2, predict=False)
    ans = _play(t, trial, Stub(lambda inp: Answer(error="off", error_kind="invalid")))
    assert not ans.ok and ans.error_kind == "invalid"
    assert "every move of the 2 rounds failed" in (ans.error or "")


def test_without_predictions_correct_is_the_best_reply_rate() -> None:
    t, trial = _trial("fixed", game="rps", rounds=2, predict=False)
    sim = Stub(choose("paper"))
    ans = _play(t, trial, sim)
    assert all(s.meta["question"] == "move" for s in sim.seen) and ans.calls == 2
    scores = t.score(trial, ans)
    assert "prediction_accuracy" not in scores and scores["correct"] == 1.0
    assert scores["payoff"] == 1.0 and scores["regret"] == 0.0 and scores["payoff_share"] == 1.0
