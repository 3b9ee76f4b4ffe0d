"""The persuasion task: the twin starts from the person's own prior answer, reads the same
arguments in the same order, and the person's new answer never reaches the input."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd
import pytest

from behaviorlab.data import load_dataset
from behaviorlab.data._records import Dataset
from behaviorlab.families.persuasion import (
    AttitudeScale,
    NoChange,
    PersuasionLogit,
    PersuasionMapping,
    PersuasionTask,
    Stance,
    TowardMajority,
    persuasion_from_frame,
    retest_yardstick,
)
from behaviorlab.families.persuasion._report import yardstick_text
from behaviorlab.runs._conditions import conditions
from behaviorlab.simulators import Answer
from behaviorlab.tasks import Trial


def data(people: int = 20, **planted: float) -> Dataset:
    return load_dataset("persuasion_synthetic", people=people, items=2, seed=1, **planted)


def test_prior_is_the_persons_own_and_arguments_keep_their_order() -> None:
    dataset = data()
    trials = [t for t in PersuasionTask().trials(dataset, seed=0) if not t.input.meta["retest"]]
    assert len(trials) == 20 * 2  # time 1; time 2 (nothing shown) is a retest trial
    by_episode = {e.episode_id: e for e in dataset.episodes}
    for t in trials:
        ep = by_episode[t.episode_id]
        prior, now = ep.steps[t.step_index - 1], ep.steps[t.step_index]
        assert t.input.meta["prior"] == prior.action.value
        texts = [a["text"] for a in now.observation.meta["arguments"]]
        content = t.input.observation.content
        positions = [content.index(f"{i}. {text}") for i, text in enumerate(texts, 1)]
        assert positions == sorted(positions)
        assert t.target.value == now.action.value
        assert sorted(t.input.meta["shown_order"]) == sorted(
            o.code for o in now.observation.options or []
        )


def _with_answer(dataset: Dataset, code: str) -> Dataset:
    """The dataset with every time-1 answer replaced by ``code``."""
    episodes = []
    for ep in dataset.episodes:
        steps = list(ep.steps)
        steps[1] = steps[1].model_copy(
            update={"action": steps[1].action.model_copy(update={"value": code})}
        )
        episodes.append(ep.model_copy(update={"steps": steps}))
    return dataset.model_copy(update={"episodes": episodes})


def test_the_new_answer_never_reaches_the_input() -> None:
    dataset = data()
    a = PersuasionTask().trials(_with_answer(dataset, "strongly_against/1"), seed=0)
    b = PersuasionTask().trials(_with_answer(dataset, "strongly_in_favour/3"), seed=0)
    # the time-1 trials (the time-2 retest trials show the time-1 answer as their prior)
    a, b = ([t for t in x if t.step_index == 1] for x in (a, b))
    assert [t.input for t in a] == [t.input for t in b]
    assert [t.target.value for t in a] != [t.target.value for t in b]


def _answer(code: str, probs: dict[str, float] | None = None) -> Answer:
    return Answer(choice=code, probabilities=probs)


def test_scores_change_direction_strength_and_p_change() -> None:
    trial = PersuasionTask().trials(data(), seed=0)[0]
    prior = trial.input.meta["prior_stance"]
    codes = trial.input.meta["scale"]["stances"]
    order = [s["code"] for s in codes]
    i = order.index(prior)
    up, down = order[i + 1], order[i - 1]
    k = int(trial.input.meta["prior_strength"])
    human = trial.model_copy(
        update={"target": trial.target.model_copy(update={"value": f"{up}/{k - 1}"})}
    )
    task = PersuasionTask()
    s = task.score(human, _answer(f"{up}/{k}", {f"{up}/{k}": 0.6, f"{prior}/{k}": 0.4}))
    assert s["human_changed"] == s["twin_changed"] == s["change_correct"] == 1.0
    assert s["direction_correct"] == 1.0 and s["correct"] == 0.0
    assert s["strength_change_human"] == -1.0 and s["strength_change_twin"] == 0.0
    assert s["p_change"] == pytest.approx(0.6)
    wrong_way = task.score(human, _answer(f"{down}/{k}"))
    assert wrong_way["direction_correct"] == 0.0 and wrong_way["change_correct"] == 1.0
    stayed = task.score(human, _answer(f"{prior}/{k}"))
    assert stayed["change_correct"] == 0.0 and stayed["direction_correct"] == 0.0
    same = trial.model_copy(
        update={"target": trial.target.model_copy(update={"value": f"{prior}/{k}"})}
    )
    assert "direction_correct" not in task.score(same, _answer(f"{prior}/{k}"))


def test_no_arguments_withholds_them_and_shuffled_persona_keeps_the_own_prior() -> None:
    trials = [t for t in PersuasionTask().trials(data(), seed=0) if not t.input.meta["retest"]]
    withheld = conditions.get("no_arguments")(trials, seed=0)
    for before, after in zip(trials, withheld, strict=True):
        assert after.input.meta["n_supports"] == after.input.meta["n_attacks"] == 0
        assert "read these arguments" not in after.input.observation.content
        assert "nothing was shown" in after.input.observation.content
        assert after.input.meta["prior"] == before.input.meta["prior"]
        assert after.target == before.target
    shuffled = conditions.get("shuffled_persona")(trials, seed=0)
    assert all(s.input.persona != t.input.persona for s, t in zip(shuffled, trials, strict=True))
    assert [s.input.observation for s in shuffled] == [t.input.observation for t in trials]


def _answers(sim: object, trials: list[Trial]) -> list[Answer]:
    async def go() -> list[Answer]:
        return [await sim.answer(t.input) for t in trials]  # type: ignore[attr-defined]

    return asyncio.run(go())


def test_baselines_stay_move_toward_the_majority_and_fit_a_logit() -> None:
    trials = PersuasionTask().trials(data(people=80), seed=0)
    trials = [t for t in trials if not t.input.meta["retest"]]
    train, test = trials[:100], trials[100:]
    stay = _answers(NoChange(), test)
    assert [a.choice for a in stay] == [t.input.meta["prior"] for t in test]
    task = PersuasionTask()
    toward = _answers(TowardMajority(), test)
    for t, a in zip(test, toward, strict=True):
        s = task.score(t, a)
        assert s["twin_changed"] == 1.0  # the synthetic priors are inside the scale
    logit = PersuasionLogit()
    logit.fit(train)
    got = _answers(logit, test)
    p = [task.score(t, a)["p_change"] for t, a in zip(test, got, strict=True)]
    assert all(0.0 < x < 1.0 for x in p)
    assert abs(sum(p) / len(p) - 0.3) < 0.15  # about the planted rate
    assert set(logit.coefficients) == {"const", "against", "along", "prior_strength"}


def test_retest_yardstick_counts_pairs_with_nothing_shown() -> None:
    trials = PersuasionTask().trials(data(people=30, retest_change=0.0), seed=0)
    info = retest_yardstick(trials, n_resamples=200)
    assert info["pairs"] == 60 and info["people"] == 30
    assert info["same_stance"]["value"] == 1.0
    moved = PersuasionTask().trials(data(people=30, retest_change=1.0), seed=0)
    assert retest_yardstick(moved, n_resamples=200)["same_stance"]["value"] == 0.0


def _pre_post(control: int = 10, treated: int = 10) -> Dataset:
    """A pre/post design: control people answer twice with nothing shown, treated people read
    one argument before their second answer."""
    rows: list[dict[str, Any]] = []
    for i in range(control + treated):
        pid, shown = f"p{i:02d}", i >= control
        rows.append(
            {
                "person": pid,
                "time": 0,
                "stance": "con",
                "argument_id": None,
                "argument_text": None,
                "argument_side": None,
            }
        )
        rows.append({"person": pid, "time": 1, "stance": "pro" if i % 3 == 0 else "con",
                     "argument_id": "a1" if shown else None,
                     "argument_text": "It funds schools." if shown else None,
                     "argument_side": "supports" if shown else None})  # fmt: skip
    scale = AttitudeScale(stances=[Stance(code="con", label="against"),
                                   Stance(code="pro", label="for")])  # fmt: skip
    return persuasion_from_frame(pd.DataFrame(rows), PersuasionMapping(scale=scale))


def test_people_never_shown_arguments_get_retest_trials_and_the_yardstick() -> None:
    dataset = _pre_post()
    task = PersuasionTask()
    trials = task.trials(dataset, seed=0)
    retest = [t for t in trials if t.input.meta["retest"]]
    assert len(trials) == 20 and len(retest) == 10
    assert {t.person_id for t in retest} == {f"p{i:02d}" for i in range(10)}
    assert all("nothing was shown" in t.input.observation.content for t in retest)
    info = task.plan_info(trials)["retest"]
    assert info["pairs"] == 10 and info["people"] == 10
    # p00, p03, p06, p09 moved: 6 of 10 kept their stance
    assert info["same_stance"]["value"] == pytest.approx(0.6)
    score = task.score(retest[0], _answer("con"))
    assert score["retest_trial"] == 1.0
    assert "retest_trial" not in task.score(trials[-1], _answer("con"))


def test_a_pair_across_a_missed_time_point_is_no_retest_pair() -> None:
    none = {"argument_id": None, "argument_text": None, "argument_side": None}
    shown = {"argument_id": "a", "argument_text": "It funds schools.", "argument_side": "supports"}
    rows = [{"person": "full", "time": t, "stance": "con", **none} for t in (0, 1, 2, 3)]
    rows += [
        {"person": "gap", "time": 0, "stance": "con", **none},
        {"person": "gap", "time": 1, "stance": "pro", **shown},
        {"person": "gap", "time": 3, "stance": "pro", **none},  # missed time 2
    ]
    scale = AttitudeScale(stances=[Stance(code="con", label="against"),
                                   Stance(code="pro", label="for")])  # fmt: skip
    dataset = persuasion_from_frame(pd.DataFrame(rows), PersuasionMapping(scale=scale))
    task = PersuasionTask()
    trials = task.trials(dataset, seed=0)
    by_person = {
        p: [t.input.meta["time"] for t in trials if t.person_id == p] for p in ("full", "gap")
    }
    assert by_person == {"full": [1, 2, 3], "gap": [1]}  # gap's 1 -> 3 is not a trial
    info = task.plan_info(trials)["retest"]
    assert info["pairs"] == 3 and info["people"] == 1 and info["gap_pairs"] == 1
    text = yardstick_text({"retest": info})
    assert "1 pairs with nothing shown that skip a time point" in text
