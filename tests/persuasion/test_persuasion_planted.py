"""Planted dependence: when the generator makes change depend on the arguments against the
prior side and on the prior strength, ``persuasion_logit`` recovers the signs and sizes
within its intervals (a bug in its features or its prior would not); with two argument time
points, the second trial's prior is the person's answer at the first."""

from __future__ import annotations

from behaviorlab.data import load_dataset
from behaviorlab.families.persuasion import PersuasionLogit, PersuasionTask

PLANTED = (-0.5, 0.9, 0.7)  # logit P(change) = a + b * against - c * strength


def test_the_logit_recovers_a_planted_dependence_on_arguments_and_strength() -> None:
    data = load_dataset(
        "persuasion_synthetic", people=300, items=4, seed=2, change_logit=list(PLANTED)
    )
    assert data.meta["planted"]["change_logit"] == list(PLANTED)
    trials = [t for t in PersuasionTask().trials(data, seed=0) if not t.input.meta["retest"]]
    logit = PersuasionLogit()
    logit.fit(trials)
    a, b, c = PLANTED
    want = {"const": a, "against": b, "along": 0.0, "prior_strength": -c}
    for name, value in want.items():
        low, high = logit.intervals[name]
        assert low <= value <= high, (name, logit.coefficients[name], (low, high))
    got = logit.coefficients
    assert got["against"] > 0.4 and got["prior_strength"] < -0.2  # the signs, clearly
    # and the default data (change independent of both) gives intervals around zero
    flat = load_dataset("persuasion_synthetic", people=300, items=4, seed=2)
    plain = PersuasionLogit()
    plain.fit([t for t in PersuasionTask().trials(flat, seed=0) if not t.input.meta["retest"]])
    low, high = plain.intervals["against"]
    assert low <= 0.0 <= high and not low <= b <= high


def test_two_argument_time_points_start_from_the_first_ones_answer() -> None:
    data = load_dataset("persuasion_synthetic", people=30, items=2, seed=4, rounds=2)
    by_episode = {e.episode_id: e for e in data.episodes}
    assert all(len(e.steps) == 4 for e in data.episodes)  # t0, t1 and t2 with arguments, t3
    trials = PersuasionTask().trials(data, seed=0)
    second = [t for t in trials if t.input.meta["time"] == 2]
    assert len(second) == 60 and not any(t.input.meta["retest"] for t in second)
    moved = 0
    for t in second:
        steps = by_episode[t.episode_id].steps
        assert t.input.meta["prior"] == steps[1].action.value  # the t1 answer, not t0
        moved += steps[1].action.value != steps[0].action.value
    assert moved > 0  # so a prior taken from t0 would have been caught
    assert all(t.input.meta["retest"] for t in trials if t.input.meta["time"] == 3)
