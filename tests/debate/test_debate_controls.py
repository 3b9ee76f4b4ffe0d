"""The debate controls (issue 18 §3): identities shuffled across agents, the speaking order
reversed, the topic paraphrased; and convergence vs polarization as a change in spread with
an interval paired by debate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.families.debate import (
    DebateConfigError,
    DebateTask,
    debate_reports,
    debate_topics,
    spread_change,
)
from behaviorlab.families.debate._conditions import paraphrased_topic, shuffled_identities

Spec = Callable[..., dict[str, Any]]
START = {"a Democrat": 2, "a Republican": 6, "an independent": 4}
PINNED_TRIAL_IDS = {  # full, model_default, paraphrased_topic (its debate), before issue 18 s8
    "123563633d747755b15503a6",
    "195554bc2b576c35f8642834",
    "05d8528d6a3f59c3b1b75975",
}


def test_shuffled_identities_move_every_identity_to_another_agent(
    tmp_path: Path, make_spec: Spec
) -> None:
    lineup = ["a Democrat", "a Republican", "an independent"]
    spec = make_spec(
        {"name": "stubborn_agent", "start": START},
        agents=3,
        rounds=1,
        lineup=lineup,
        conditions=["full", "shuffled_identities"],
    )
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    by = {c: g["answer_json"].tolist() for c, g in frame.groupby("condition")}
    for full, moved in zip(by["full"], by["shuffled_identities"], strict=True):
        before, after = full["identities"], moved["identities"]
        assert sorted(before.values()) == sorted(after.values())
        assert all(before[r] != after[r] for r in before)  # a derangement
        # the agents start where their new identity starts (scripted by identity)
        start = {r["role"]: r["attitude"] for r in moved["reports"] if r["round"] == 0}
        assert start == {r: float(START[after[r]]) for r in after}


def test_shuffling_one_identity_is_refused_and_repeats_keep_the_most_moved() -> None:
    data = debate_topics(identities=[["a Democrat", "a Democrat"]])
    trials = DebateTask(agents=2).trials(data, seed=0)
    with pytest.raises(DebateConfigError, match="one identity for every agent"):
        shuffled_identities(trials, seed=0)
    data = debate_topics(identities=[["a", "b", "a", "b"]])
    (t, *_) = shuffled_identities(DebateTask(agents=4).trials(data, seed=0), seed=3)
    moved = t.input.meta["identities"]
    assert all(moved[r] != v for r, v in zip(moved, ["a", "b", "a", "b"], strict=True))


def test_reversed_order_opens_with_the_last_speaker(tmp_path: Path, make_spec: Spec) -> None:
    spec = make_spec(
        {"name": "stubborn_agent"},
        agents=3,
        rounds=2,
        lineup=["a", "b", "c"],
        repeats=1,
        conditions=["full", "reversed_order"],
    )
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    got: dict[str, Any] = dict(zip(frame["condition"], frame["answer_json"], strict=True))
    full, rev = got["full"], got["reversed_order"]
    assert [s["role"] for s in full["speeches"]] == ["agent_1", "agent_2", "agent_3"] * 2
    assert [s["role"] for s in rev["speeches"]] == ["agent_3", "agent_2", "agent_1"] * 2
    assert rev["order"] == ["agent_3", "agent_2", "agent_1"]


def test_the_paraphrased_topic_is_what_the_agents_read(tmp_path: Path, make_spec: Spec) -> None:
    spec = make_spec(
        {"name": "llm", "backend": "mock", "answer": "generate"},
        agents=2,
        rounds=1,
        lineup=["a", "b"],
        repeats=1,
        conditions=["paraphrased_topic"],
    )
    wording = "The centres of cities ought to be car-free."
    spec["data"]["options"]["topics"][0]["paraphrases"] = [wording]
    run = bl.run(spec, out=tmp_path, progress=False)
    turns = run.to_pandas(per="turn")
    shown = " ".join(str(x) for x in turns["seen"].tolist())
    assert wording in shown and "ban cars from their centres" not in shown
    # the topic keeps its id (its default is asked in the same paraphrase: see below)
    assert run.to_pandas()["answer_json"].iloc[0]["topic"] == "t"


def test_a_topic_without_paraphrases_is_refused_naming_it() -> None:
    data = debate_topics(topics=[{"id": "wage", "statement": "Raise it.", "scale": {"max": 5}}])
    trials = DebateTask(agents=2).trials(data, seed=0)
    with pytest.raises(DebateConfigError, match=r"topic 'wage' has no paraphrases"):
        paraphrased_topic(trials, seed=0)
    builtin = DebateTask(agents=2).trials(debate_topics(), seed=0)
    out = paraphrased_topic(builtin, seed=0)
    debates = [p for p in out if p.input.meta["arm"] == "debate"]
    defaults = [p for p in out if p.input.meta["arm"] == "model_default"]
    assert all(
        t.input.observation.content != p.input.observation.content
        for t, p in zip(builtin, debates, strict=True)
    )
    # beside each debate, the model's default asked in the same wording
    assert [p.input.meta["topic"] for p in defaults] == [p.input.meta["topic"] for p in debates]
    assert [p.key for p in debates] == [t.key for t in builtin]


def test_degroot_agents_converge_and_stubborn_agents_do_not(
    tmp_path: Path, make_spec: Spec
) -> None:
    start = {"a Democrat": 2.0, "a Republican": 6.0}
    spec = make_spec({"name": "degroot_agent", "start": start}, rounds=3, repeats=3)
    spec["parties"].append(
        {
            "label": "stubborn",
            "roles": {
                f"agent_{i}": {"name": "stubborn_agent", "start": start} for i in (1, 2, 3, 4)
            },
        }
    )
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    table = spread_change(debate_reports(frame), n_resamples=200, seed=0).set_index("simulator")
    # DeGroot with 4 agents: the spread shrinks by a factor 1/3 per round: 2 -> 2/27
    degroot = table.loc["agents"]
    assert degroot["verdict"] == "converges"
    assert degroot["change"].value == pytest.approx(2 / 27 - 2.0)
    stubborn = table.loc["stubborn"]
    assert stubborn["verdict"] == "no clear change" and stubborn["change"].value == 0.0
    assert degroot["debates"] == 3


def test_option_scoring_gives_a_probability_per_scale_point(
    tmp_path: Path, make_spec: Spec
) -> None:
    llm = {"name": "llm", "backend": "mock", "answer": "score", "open_answers": "generate"}
    spec = make_spec(
        llm,
        agents=2,
        rounds=1,
        lineup=["a", "b"],
        repeats=1,
        conditions=["full", "model_default"],
        attitude_options=True,
    )
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    assert frame["error"].isna().all()
    for value in frame["answer_json"]:
        for report in value["reports"]:
            probs = report["probabilities"]
            assert sorted(probs, key=int) == [str(p) for p in range(1, 8)]
            assert sum(probs.values()) == pytest.approx(1.0)
            expected = sum(int(k) * v for k, v in probs.items())
            assert report["attitude"] == pytest.approx(expected)
    debate = frame.loc[frame["condition"] == "full", "answer_json"].iloc[0]
    assert all(s["speech"] for s in debate["speeches"])  # written, not refused


def test_a_scoring_party_without_open_answers_fails_its_speeches(
    tmp_path: Path, make_spec: Spec
) -> None:
    llm = {"name": "llm", "backend": "mock", "answer": "score"}
    spec = make_spec(llm, agents=2, rounds=1, lineup=["a", "b"], repeats=1, attitude_options=True)
    turns = bl.run(spec, out=tmp_path, progress=False).to_pandas(per="turn")
    failed = turns.loc[turns["error"].notna(), "error"]
    assert len(failed) == 2 and failed.str.contains("open_answers: generate").all()


def test_every_role_moves_when_no_identity_is_held_by_more_than_half() -> None:
    from itertools import product

    from behaviorlab.families.debate._conditions import _derangement

    for n in (2, 3, 4, 5, 6):
        roles = [f"agent_{i}" for i in range(1, n + 1)]
        for lineup in product("ABC", repeat=n):
            if max(lineup.count(x) for x in set(lineup)) * 2 > n:
                continue
            held = dict(zip(roles, lineup, strict=True))
            for seed in range(3):
                moved = _derangement(roles, held, seed, "k")
                assert sorted(moved.values()) == sorted(lineup)
                assert all(moved[r] != held[r] for r in roles), (lineup, seed)


def test_one_debate_gives_no_convergence_reading() -> None:
    import pandas as pd

    rows = [
        {
            "simulator": "s",
            "condition": "full",
            "topic": "t",
            "person_id": "d1",
            "trial_id": "x",
            "arm": "debate",
            "role": f"agent_{i}",
            "round": r,
            "attitude": a,
        }
        for r, atts in ((0, (2.0, 6.0)), (1, (3.0, 5.0)))
        for i, a in enumerate(atts, start=1)
    ]
    (verdict,) = spread_change(pd.DataFrame(rows), n_resamples=100)["verdict"].tolist()
    assert str(verdict).startswith("too few debates")


def _report_rows(debates: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    """Reports of debates given as {person_id: [(start, end) per agent]} (NaN: invalid)."""
    return pd.DataFrame(
        [
            {
                "simulator": "s",
                "condition": "full",
                "topic": "t",
                "person_id": pid,
                "trial_id": f"x-{pid}",
                "arm": "debate",
                "role": f"agent_{i}",
                "round": r,
                "attitude": pair[r],
            }
            for pid, agents in debates.items()
            for i, pair in enumerate(agents, start=1)
            for r in (0, 1)
        ]
    )


def test_a_debates_spread_change_is_over_the_agents_valid_at_both_ends() -> None:
    nan = float("nan")
    reports = _report_rows(
        {
            # agent_3's end report is invalid: its start must not widen the start spread
            "d1": [(2.0, 2.0), (4.0, 4.0), (6.0, nan)],
            "d2": [(2.0, 3.0), (4.0, 4.0), (6.0, 5.0)],
            "d3": [(2.0, 3.0), (4.0, 4.0), (6.0, 5.0)],
            # only one agent valid at both ends: no spread to compare, the debate is dropped
            "d4": [(2.0, nan), (nan, 4.0), (6.0, 5.0)],
        }
    )
    (row,) = spread_change(reports, n_resamples=100, seed=0).to_dict(orient="records")
    full = float(np.std([3.0, 4.0, 5.0]) - np.std([2.0, 4.0, 6.0]))
    # d1 compares agents 1-2 at both ends (no change); d2, d3 every agent
    assert row["change"].value == pytest.approx((0.0 + 2 * full) / 3)
    assert row["debates"] == 3 and row["dropped_debates"] == 1
    assert row["dropped_agents"] == 1 + 2  # d1's agent_3, d4's agent_1 and agent_2
    assert row["start_spread"].value == pytest.approx((1.0 + 2 * float(np.std([2, 4, 6]))) / 3)


def test_the_paraphrased_arm_asks_its_default_in_its_own_wording(
    tmp_path: Path, make_spec: Spec
) -> None:
    spec = make_spec(
        {"name": "llm", "backend": "mock", "answer": "generate"},
        agents=2,
        rounds=1,
        lineup=["a", "b"],
        repeats=1,
        conditions=["full", "model_default", "paraphrased_topic"],
    )
    wording = "The centres of cities ought to be car-free."
    spec["data"]["options"]["topics"][0]["paraphrases"] = [wording]
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    arms = sorted(
        zip(frame["condition"], frame["answer_json"].map(lambda v: v["arm"]), strict=True)
    )
    assert arms == [
        ("full", "debate"),
        ("model_default", "model_default"),
        ("paraphrased_topic", "debate"),
        ("paraphrased_topic", "model_default"),
    ]
    # the trial ids of the arms that existed before are unchanged (recorded before the fix)
    assert set(PINNED_TRIAL_IDS) <= set(frame["trial_id"])
    turns = run.to_pandas(per="turn")
    para = turns.loc[turns["condition"] == "paraphrased_topic"]
    assert para["seen"].map(lambda s: wording in str(s)).all()
    assert not para["seen"].map(lambda s: "ban cars from their centres" in str(s)).any()
    reports = debate_reports(frame)
    by = reports.groupby(["condition", "arm"])["wording"].unique().map(list).to_dict()
    original = "Cities should ban cars from their centres."
    assert by[("paraphrased_topic", "model_default")] == [wording]
    assert by[("paraphrased_topic", "debate")] == [wording]
    assert by[("model_default", "model_default")] == [original]
    assert by[("full", "debate")] == [original]


def _drift_rows(
    condition: str, wording: str, start: float, end: float, default: float
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for g in range(4):
        common = {
            "simulator": "s",
            "condition": condition,
            "topic": "t",
            "role_simulator": "x",
            "wording": wording,
            "threshold": 0.5,
            "identity": "i",
            "agents": 1,
            "seed": 0,
        }
        for r, a in ((0, start), (1, end)):
            rows.append(
                {
                    **common,
                    "person_id": f"p{g}",
                    "trial_id": f"{condition}-d{g}",
                    "arm": "debate",
                    "role": "agent_1",
                    "round": r,
                    "ask": 0,
                    "attitude": a,
                }
            )
        for k in range(2):
            rows.append(
                {
                    **common,
                    "person_id": f"p{g}",
                    "trial_id": f"{condition}-m{g}",
                    "arm": "model_default",
                    "role": "agent_1",
                    "round": 0,
                    "ask": k,
                    "attitude": default,
                }
            )
    return rows


def test_the_paraphrased_arm_drifts_against_its_own_wordings_default() -> None:
    from behaviorlab.families.debate import drift_table

    wording = "Another wording."
    reports = pd.DataFrame(
        # the original wording's default is 4; the paraphrase's is 2
        _drift_rows("full", "Original.", 6.0, 5.0, 4.0)
        + _drift_rows("paraphrased_topic", wording, 6.0, 4.0, 2.0)
    )
    reports.loc[
        (reports["condition"] == "full") & (reports["arm"] == "model_default"), "condition"
    ] = "model_default"
    table = drift_table(reports, n_resamples=100, seed=0)
    share = {str(c): e.value for c, e in zip(table["condition"], table["share"], strict=True)}
    assert share["full"] == pytest.approx(0.5)  # (6 - 5) / (6 - 4)
    # the paraphrase closes (6 - 4) of its gap (6 - 2) to its own wording's default
    assert share["paraphrased_topic"] == pytest.approx(0.5)


def test_a_paraphrase_equal_to_the_statement_is_refused_naming_the_topic() -> None:
    topic = {
        "id": "wage",
        "statement": "Raise  the wage.",
        "scale": {"max": 5},
        "paraphrases": ["Wages ought to go up.", " raise the WAGE. "],
    }
    trials = DebateTask(agents=2).trials(debate_topics(topics=[topic]), seed=0)
    with pytest.raises(DebateConfigError, match=r"topic 'wage'.* the statement itself"):
        paraphrased_topic(trials, seed=0)
