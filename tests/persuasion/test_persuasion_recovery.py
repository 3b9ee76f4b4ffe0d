"""On generated attitude data with known dynamics, the metrics recover the planted rates
within their person-clustered intervals: the share of people who changed their stance, the
share of changers who moved toward the arguments' majority side (what ``toward_majority``
predicts) and the test–retest agreement (the yardstick). Two settings, so a value that
happens to match one setting is caught by the other. (The same path through ``bl.run`` and
the report: ``test_persuasion_demo.py``.)"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pandas as pd
import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.persuasion import (
    NoChange,
    PersuasionLogit,
    PersuasionTask,
    TowardMajority,
    persuasion_table,
    retest_yardstick,
)
from behaviorlab.tasks import Trial

SETTINGS = [
    {"change_rate": 0.3, "toward_majority": 0.8, "retest_change": 0.1},
    {"change_rate": 0.15, "toward_majority": 0.6, "retest_change": 0.3},
]


def _split(planted: dict[str, float]) -> tuple[list[Trial], list[Trial]]:
    data = load_dataset("persuasion_synthetic", people=600, items=4, seed=5, **planted)
    trials = PersuasionTask().trials(data, seed=0)
    test_people = set(random.Random(0).sample(sorted(data.persons), 300))
    train = [t for t in trials if t.person_id not in test_people]
    return train, [t for t in trials if t.person_id in test_people]


def _frame(train: list[Trial], test: list[Trial]) -> pd.DataFrame:
    """The rows a run stores for the three baselines (what the metrics read)."""
    task, logit = PersuasionTask(), PersuasionLogit()
    logit.fit(train)
    rows: list[dict[str, Any]] = []

    async def answer_all() -> None:
        for sim in (NoChange(), TowardMajority(), logit):
            for t in test:
                a = await sim.answer(t.input)
                s = task.score(t, a)
                rows.append(
                    {
                        "task": "persuasion",
                        "simulator": sim.label,
                        "condition": "full",
                        "person_id": t.person_id,
                        "error": None,
                        "error_kind": None,
                        "correct": s["correct"],
                        "scores": s,
                    }
                )

    asyncio.run(answer_all())
    return pd.DataFrame(rows)


def _covers(estimate: Any, value: float) -> bool:
    return bool(estimate.low <= value <= estimate.high)


@pytest.mark.parametrize("planted", SETTINGS, ids=["setting-a", "setting-b"])
def test_planted_rates_fall_in_their_intervals(planted: dict[str, float]) -> None:
    train, test = _split(planted)
    table = persuasion_table(_frame(train, test), n_resamples=1000)
    table = table.loc[table["arm"] == "arguments"].set_index("simulator")
    stay, toward = table.loc["no_change"], table.loc["toward_majority"]
    assert stay["n_people"] == 300 and stay["n"] == 1200
    assert _covers(stay["human_change_rate"], planted["change_rate"])
    assert _covers(stay["change_accuracy"], 1.0 - planted["change_rate"])
    assert stay["change_over_base"].value == pytest.approx(0.0, abs=1e-9)  # it is the base
    assert _covers(toward["direction_accuracy"], planted["toward_majority"])
    other = SETTINGS[1 - SETTINGS.index(planted)]
    assert not _covers(stay["human_change_rate"], other["change_rate"])
    assert not _covers(toward["direction_accuracy"], other["toward_majority"])
    retest = retest_yardstick(test, n_resamples=1000)
    assert retest["pairs"] == 1200 and retest["people"] == 300
    same = retest["same_stance"]
    assert same["low"] <= 1.0 - planted["retest_change"] <= same["high"]
    other_same = 1.0 - other["retest_change"]
    assert not same["low"] <= other_same <= same["high"]
    # change does not depend on the arguments here, so the logit's P(change) is about the
    # planted rate and its Brier score about the variance of a Bernoulli(change_rate)
    rate = planted["change_rate"]
    brier = table.loc["persuasion_logit", "change_brier"]
    assert brier.value == pytest.approx(rate * (1 - rate), abs=0.03)
