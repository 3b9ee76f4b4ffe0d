"""The debate task (issue 18 §1): N agents from the task options, attitude reports before the
first round and after every round, the model's default in the same run, invalid attitudes
kept with their raw text, and bad input that names what is missing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import behaviorlab as bl
from behaviorlab.families.debate import DebateConfigError, DebateTask, debate_topics

Spec = Callable[..., dict[str, Any]]


def test_a_topic_without_a_scale_names_it() -> None:
    with pytest.raises(ValueError, match=r"topics\[0\] \('wage'\) has no scale .*min: 1"):
        debate_topics(topics=[{"id": "wage", "statement": "Raise it."}])


def test_identities_that_do_not_match_the_roles_name_what_is_missing() -> None:
    data = debate_topics(identities=[["a Democrat", "a Republican"]])
    with pytest.raises(DebateConfigError, match=r"2 identities for the 3 roles agent_1, agent_2"):
        DebateTask(agents=3).trials(data, seed=0)
    data = debate_topics(identities=[{"agent_1": "a Democrat", "agent_9": "a Republican"}])
    with pytest.raises(DebateConfigError, match=r"no identity for agent_2; .*agent_9"):
        DebateTask(agents=2).trials(data, seed=0)
    with pytest.raises(DebateConfigError, match=r"order must name every role.*missing agent_2"):
        DebateTask(agents=2, order=["agent_1", "agent_1"])


def test_reports_before_and_after_every_round_in_the_stated_order(
    tmp_path: Path, make_spec: Spec
) -> None:
    spec = make_spec(
        {"name": "llm", "backend": "mock", "answer": "generate"},
        agents=3,
        rounds=2,
        lineup=["a", "b", "c"],
        order=["agent_3", "agent_1", "agent_2"],
    )
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    assert len(frame) == 2 and frame["error"].isna().all()
    value = frame["answer_json"].iloc[0]
    assert [(r["round"], r["role"]) for r in value["reports"]] == [
        (rnd, f"agent_{i}") for rnd in range(3) for i in (1, 2, 3)
    ]
    assert [s["role"] for s in value["speeches"]] == ["agent_3", "agent_1", "agent_2"] * 2
    turns = run.to_pandas(per="turn")
    assert len(turns) == 2 * (3 * 3 + 3 * 2)
    reports = turns.loc[turns["attitude"].notna()]
    assert reports["attitude"].between(1, 7).all()
    # change is given from the second report of an agent on
    assert reports.groupby(["trial_id", "role"])["change"].count().eq(2).all()
    roles = bl.gap(run).roles
    assert {"attitude", "change"} <= set(roles["metric"])


def test_the_default_is_asked_without_identity_and_several_times(
    tmp_path: Path, make_spec: Spec
) -> None:
    spec = make_spec(
        {"name": "drift_agent", "default": 3.5, "start": {"a Democrat": 2}},
        agents=2,
        rounds=2,
        lineup=["a Democrat", "a Democrat"],
        conditions=["model_default"],
        default_asks=4,
    )
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    value = frame["answer_json"].iloc[0]
    assert len(value["reports"]) == 2 * 4
    assert {r["identity"] for r in value["reports"]} == {None}
    assert frame["scores"].iloc[0]["default_attitude"] == 3.5


def test_an_unparseable_attitude_is_an_invalid_turn_with_its_raw_text(
    tmp_path: Path, make_spec: Spec
) -> None:
    good = {"name": "stubborn_agent"}
    bad = {
        "name": "script",
        "lines": [
            {"attitude": 3, "reason": "fine"},
            {"speech": "I say so."},
            {"attitude": "quite a lot", "reason": "hmm"},
        ],
    }
    spec = make_spec(
        {"agent_1": good, "agent_2": bad}, agents=2, rounds=1, repeats=1, lineup=["a", "b"]
    )
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    assert frame["error"].isna().all()
    assert frame["scores"].iloc[0]["invalid_reports"] == 1.0
    report = frame["answer_json"].iloc[0]["reports"][-1]
    assert report["attitude"] is None and "quite a lot" in report["raw"]
    turns = run.to_pandas(per="turn")
    failed = turns.loc[turns["error"].notna()]
    assert len(failed) == 1 and failed["error_kind"].iloc[0] == "invalid"
    assert "is not a point of the scale 1..7" in failed["error"].iloc[0]


def test_roles_come_from_the_task_options(make_spec: Spec, tmp_path: Path) -> None:
    spec = make_spec({"agent_1": {"name": "stubborn_agent"}}, agents=2)
    with pytest.raises(Exception, match="agent_2"):
        bl.run(spec, out=tmp_path, progress=False)


def test_a_four_agent_five_round_mock_debate_runs_in_well_under_a_second(
    tmp_path: Path, make_spec: Spec
) -> None:
    spec = make_spec({"name": "llm", "backend": "mock", "answer": "generate"}, repeats=1)
    bl.run({**spec, "name": "warm"}, out=tmp_path, progress=False)  # imports, registries
    start = time.perf_counter()
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    took = time.perf_counter() - start
    assert len(frame) == 1 and frame["error"].isna().all()
    assert len(frame["answer_json"].iloc[0]["reports"]) == 4 * 6
    assert took < 0.5, f"{took:.3f} s"


def test_attitude_samples_are_read_as_a_report_is() -> None:
    from behaviorlab.families.debate import Topic
    from behaviorlab.families.debate._play import _point_probabilities
    from behaviorlab.simulators import Answer

    topic = Topic.model_validate(
        {"id": "t", "statement": "s", "scale": {"min": 1, "max": 7, "labels": {6: "agree"}}}
    )
    # four ways of writing 3 and a label: one point each, as the report's parse reads them
    answer = Answer(samples=["3", " 3 ", "3.0", "Agree", "agree"])
    assert _point_probabilities(answer, topic) == {"3": 0.6, "6": 0.4}
    # a sample that is no point of the scale (3.5, 9, text) is left out of the distribution
    answer = Answer(samples=["3.5", "9", "maybe", "2"])
    assert _point_probabilities(answer, topic) == {"2": 1.0}
