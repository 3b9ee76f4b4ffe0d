"""The choice task (shuffled options with a recorded seed) and the conditional logit."""

from __future__ import annotations

import asyncio
import math
import random

import numpy as np
import pytest

from behaviorlab.data import Action, Dataset, Episode, Observation, Option, Person, Step
from behaviorlab.families.choice._baselines import LogitSimulator
from behaviorlab.families.choice._task import ChoiceTask
from behaviorlab.simulators import simulators
from behaviorlab.tasks import tasks


def dataset(
    chosen: list[str],
    *,
    costs: list[dict[str, float]] | None = None,
    incomes: list[float] | None = None,
) -> Dataset:
    """One choice situation per person; options a/b/c (those in costs, or a and b)."""
    persons, episodes = {}, []
    for i, pick in enumerate(chosen):
        pid = f"p{i:03d}"
        cost = costs[i] if costs else {"a": 1.0, "b": 1.0}
        persons[pid] = Person(
            person_id=pid,
            attributes={"income": incomes[i]} if incomes else {},
            description=f"Person {i}.",
        )
        obs = Observation(
            kind="question",
            content="Pick one.",
            options=[Option(code=c, label=f"{c.upper()}: costs {v}") for c, v in cost.items()],
            meta={
                "question_id": "pick",
                "situation_id": "1",
                "option_attributes": {c: {"cost": v} for c, v in cost.items()},
            },
        )
        step = Step(
            index=0,
            step_id=f"{pid}:1",
            observation=obs,
            action=Action(action_type="answer", value=pick),
        )
        episodes.append(Episode(episode_id=f"e:{pid}", person_id=pid, kind="choice", steps=[step]))
    return Dataset(name="toy", persons=persons, episodes=episodes)


def test_registered() -> None:
    assert tasks.get("choice") is ChoiceTask
    assert simulators.get("logit") is LogitSimulator


def test_options_shuffled_per_trial_with_recorded_seed() -> None:
    costs = [{"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}] * 30
    data = dataset(["a"] * 30, costs=costs)
    trials = ChoiceTask().trials(data, seed=7)
    orders = [t.input.meta["shown_order"] for t in trials]
    assert len({tuple(o) for o in orders}) > 5  # not one fixed order
    for t in trials:
        expected = ["a", "b", "c", "d"]
        random.Random(t.input.meta["option_order_seed"]).shuffle(expected)
        assert t.input.observation.option_codes() == expected == t.input.meta["shown_order"]
        assert t.input.item_id == "pick" and t.input.meta["situation_id"] == "1"
        assert t.input.answer_schema["properties"]["answer"]["enum"] == expected
    again = ChoiceTask().trials(data, seed=7)
    assert [t.input.meta["shown_order"] for t in again] == orders
    fixed = ChoiceTask(shuffle_options=False).trials(data, seed=7)
    assert all(t.input.observation.option_codes() == ["a", "b", "c", "d"] for t in fixed)


def test_constants_only_logit_reproduces_training_shares() -> None:
    # the conditional logit with only alternative-specific constants fits the sample shares:
    # 3 of 4 chose a, so p(a) = 0.75
    train = ChoiceTask().trials(dataset(["a", "a", "a", "b"]), seed=0)
    sim = LogitSimulator(attributes=[], chooser=[])
    sim.fit(train)
    probs = sim.probabilities(train[0].input)
    assert probs["a"] == pytest.approx(0.75, abs=1e-4)
    assert sim.coefficients["asc_b"] == pytest.approx(math.log(1 / 3), abs=1e-3)
    answer = asyncio.run(sim.answer(train[0].input))
    assert answer.choice == "a" and answer.value == {"answer": "a"}
    assert sum((answer.probabilities or {}).values()) == pytest.approx(1.0)


def test_logit_recovers_a_cost_coefficient_and_uses_test_attributes() -> None:
    rng = np.random.default_rng(0)
    n, beta = 600, -1.5
    costs, chosen = [], []
    for _ in range(n):
        cost = {c: float(rng.uniform(0, 3)) for c in "abc"}
        u = {c: beta * v + rng.gumbel() for c, v in cost.items()}
        costs.append(cost)
        chosen.append(max(u, key=lambda c: u[c]))
    trials = ChoiceTask().trials(dataset(chosen, costs=costs), seed=0)
    sim = LogitSimulator(attributes=["cost"], chooser=[], constants=False)
    sim.fit(trials)
    assert sim.coefficients["cost"] == pytest.approx(beta, abs=0.25)
    test = ChoiceTask().trials(dataset(["a"], costs=[{"a": 0.0, "b": 1.0, "c": 2.0}]), seed=0)
    probs = sim.probabilities(test[0].input)
    b = sim.coefficients["cost"]
    denom = 1 + math.exp(b) + math.exp(2 * b)  # softmax by hand over costs 0, 1, 2
    assert probs["a"] == pytest.approx(1 / denom)
    assert probs["c"] == pytest.approx(math.exp(2 * b) / denom)


def test_chooser_attributes_and_no_persona() -> None:
    # income decides: the rich choose b, the poor a
    incomes = [10.0, 12.0, 14.0, 50.0, 55.0, 60.0, 11.0, 58.0]
    chosen = ["a", "a", "b", "b", "b", "a", "a", "b"]
    trials = ChoiceTask().trials(dataset(chosen, incomes=incomes), seed=0)
    sim = LogitSimulator(attributes=[], chooser=["income"])
    sim.fit(trials)
    assert sim.coefficients["income:b"] > 0
    poor = next(t for t in trials if t.person.attributes["income"] == 10.0).input
    rich = next(t for t in trials if t.person.attributes["income"] == 60.0).input
    assert sim.probabilities(poor)["b"] < sim.probabilities(rich)["b"]
    # no persona: income at its training mean, said in the answer's raw text
    blind = poor.model_copy(update={"persona": None})
    mean_income = sum(incomes) / len(incomes)
    at_mean = poor.model_copy(
        update={"persona": poor.persona.model_copy(update={"attributes": {"income": mean_income}})}  # type: ignore[union-attr]
    )
    assert sim.probabilities(blind) == pytest.approx(sim.probabilities(at_mean))
    assert "training means" in asyncio.run(sim.answer(blind)).raw


def test_logit_errors() -> None:
    trials = ChoiceTask().trials(dataset(["a", "b"]), seed=0)
    with pytest.raises(ValueError, match="attribute 'time' is not a numeric option attribute"):
        LogitSimulator(attributes=["time"]).fit(trials)
    with pytest.raises(ValueError, match="no training choices"):
        LogitSimulator().fit([])
    sim = LogitSimulator(chooser=[])
    sim.fit(trials)  # cost is 1 for every option: it cannot be estimated
    assert sim.notes == [
        "cost left out: it does not vary between the options of any training situation"
    ]
    assert sim.coefficients["cost"] == 0.0
    other = ChoiceTask().trials(dataset(["a"], costs=[{"a": 1.0, "z": 2.0}]), seed=0)
    answer = asyncio.run(sim.answer(other[0].input))
    assert answer.error_kind == "invalid" and "['z'] were never offered" in (answer.error or "")
