"""The shares task: one trial per item (and group), the item as the cluster, the people's
distribution kept out of what the simulator sees."""

from __future__ import annotations

import json

import pandas as pd

from behaviorlab.families.shares import SharesTask, shares_from_frame
from behaviorlab.simulators import Answer


def _data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": ["q1"] * 6 + ["q2"] * 3,
            "option": ["1", "2", "3"] * 3,
            "count": [10, 30, 60, 50, 25, 25, 1, 1, 8],
            "group": ["a", "a", "a", "b", "b", "b", "a", "a", "a"],
            "question": ["How?"] * 6 + ["Why?"] * 3,
        }
    )


def test_trials_cluster_by_item_and_hide_the_shares() -> None:
    data = shares_from_frame(_data(), {"group": ["group"]})
    trials = SharesTask().trials(data, seed=0)
    assert len(trials) == 3
    assert {t.person_id for t in trials} == {"q1", "q2"}  # groups nested in their item
    assert {t.item_id for t in trials} == {"q1 | a", "q1 | b", "q2 | a"}
    t = next(t for t in trials if t.item_id == "q1 | b")
    assert t.input.persona is not None and t.input.persona.description == "group: b"
    assert "member of the group" in t.input.instructions
    seen = json.dumps(t.input.model_dump(mode="json"))
    # the people's answer stays outside: no shares, no n, no mode
    assert "0.25" not in seen and '"shares":' not in seen and "100" not in seen
    assert sorted(t.input.meta["shown_order"]) == ["1", "2", "3"]
    task = SharesTask()
    meta = task.result_meta(t)
    assert meta["human_shares"] == {"1": 0.5, "2": 0.25, "3": 0.25}
    assert meta["human_n"] == 100 and meta["group"] == {"group": "b"}
    assert task.human_answer(t) == "1"
    assert task.score(t, Answer(choice="1", value={"answer": "1"})) == {"correct": 1.0}


def test_option_order_is_seeded_per_trial() -> None:
    data = shares_from_frame(_data(), {"group": ["group"]})
    one = [t.input.meta["shown_order"] for t in SharesTask().trials(data, seed=0)]
    again = [t.input.meta["shown_order"] for t in SharesTask().trials(data, seed=0)]
    flat = [
        t.input.meta["shown_order"] for t in SharesTask(shuffle_options=False).trials(data, seed=0)
    ]
    assert one == again
    assert flat == [["1", "2", "3"]] * 3


def test_shuffled_group_swaps_groups_within_the_item() -> None:
    from behaviorlab.runs import conditions

    frame = _data()
    frame = pd.concat([frame, frame.iloc[6:9].assign(group="b")], ignore_index=True)
    trials = SharesTask().trials(shares_from_frame(frame, {"group": ["group"]}), seed=0)
    shuffled = conditions.get("shuffled_group")(trials, seed=0)
    for before, after in zip(trials, shuffled, strict=True):
        assert after.person_id == before.person_id and after.item_id == before.item_id
        donor = after.input.meta["persona_of"]
        assert donor != before.item_id and donor.split(" | ")[0] == before.person_id
        assert after.input.persona is not None and after.input.persona.person_id == donor
        assert after.target == before.target  # scored against its own group's people


def test_shuffled_group_needs_two_groups_per_item() -> None:
    import pytest

    from behaviorlab.runs import conditions

    trials = SharesTask().trials(shares_from_frame(_data(), {"group": ["group"]}), seed=0)
    with pytest.raises(ValueError, match="shuffled_group: item 'q2' has 1 group"):
        conditions.get("shuffled_group")(trials, seed=0)
