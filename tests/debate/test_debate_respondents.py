"""Real survey respondents as debate identities (issue 18 §1-2): each agent sees a
respondent's persona (never the answer it is measured against), and its first report is
compared with that person's own answer (identity fidelity at round 0)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import behaviorlab as bl
from behaviorlab.data import load_dataset
from behaviorlab.families.debate import (
    DebateTask,
    debate_reports,
    debate_topics,
    identity_fidelity,
)
from behaviorlab.report import write_report
from behaviorlab.simulators import Answer
from behaviorlab.tasks import Trial, TrialInput

IDEOLOGY = {
    "id": "ideology",
    "statement": "Where do you place yourself, from extremely liberal to extremely conservative?",
    "scale": {"min": 1, "max": 7, "labels": {1: "extremely liberal", 7: "extremely conservative"}},
}
RESPONDENTS = {
    "source": "anes96",
    "options": {"target": "selfLR", "people": 8, "seed": 0},
    "question": "selfLR",
}


def _own_answers() -> dict[str, float]:
    data = load_dataset("anes96", target="selfLR", people=8, seed=0)
    return {
        f"respondent {ep.person_id}": float(str(ep.steps[0].action.value)) for ep in data.episodes
    }


def _spec(roles: dict[str, Any], **respondents: Any) -> dict[str, Any]:
    return {
        "name": "debate-respondents",
        "task": "debate",
        "task_options": {"agents": 2, "rounds": 1},
        "data": {
            "source": "debate_topics",
            "options": {"topics": [IDEOLOGY], "respondents": {**RESPONDENTS, **respondents}},
            "split": {"test": 1.0},
        },
        "parties": [{"label": "agents", "roles": roles}],
        "conditions": ["full"],
        "cache": False,
    }


def test_respondents_bring_their_persona_and_keep_their_answer_in_the_target() -> None:
    data = debate_topics(topics=[IDEOLOGY], respondents=RESPONDENTS)
    trials = DebateTask(agents=2).trials(data, seed=0)
    assert len(trials) == 4  # 8 respondents, 2 per debate
    own = _own_answers()
    for t in trials:
        labels = list(t.input.meta["identities"].values())
        assert all(x.startswith("respondent ") for x in labels)
        personas = t.input.meta["personas"]
        assert all("years old" in personas[x] for x in labels)
        # the answer measured against is in the target only, never in what agents see
        assert "own_answers" not in t.input.meta
        assert "place yourself as" not in " ".join(personas.values())
        assert t.target.attributes["own_answers"] == {x: own[x] for x in labels}


def test_agents_starting_at_the_own_answer_are_faithful_and_others_are_not(
    tmp_path: Path,
) -> None:
    own = _own_answers()
    faithful = {"name": "stubborn_agent", "start": own}
    spec = _spec({"agent_1": faithful, "agent_2": faithful})
    spec["parties"].append(
        {
            "label": "midpoint",
            "roles": {
                r: {"name": "stubborn_agent", "start": dict.fromkeys(own, 4)}
                for r in ("agent_1", "agent_2")
            },
        }
    )
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    table = identity_fidelity(debate_reports(frame), n_resamples=200).set_index("simulator")
    good, mid = table.loc["agents"], table.loc["midpoint"]
    assert good["agents"] == 8 and good["mae"].value == 0.0 and good["exact"].value == 1.0
    assert good["correlation"].value == pytest.approx(1.0)
    truth = sum(abs(4 - h) for h in own.values()) / len(own)
    # the midpoint twin's error equals the midpoint baseline's, and it is above 0
    assert mid["mae"].value == pytest.approx(truth) == pytest.approx(good["midpoint_mae"].value)
    assert truth > 0
    # the per-trial score and the per-turn score carry it too
    assert (
        frame.loc[frame["simulator"] == "agents", "scores"].map(lambda s: s["own_answer_error"])
        == 0
    ).all()
    turns = run.to_pandas(per="turn")
    assert turns["own_answer_error"].notna().sum() == 2 * 8
    md = Path(write_report(run, n_resamples=200).markdown).read_text(encoding="utf-8")
    assert "Identity fidelity at round 0" in md
    assert "| agents | full | ideology | 8 | 0.00 " in md


class _Recorder:
    """A party that records what it was shown and answers the scale's midpoint."""

    label = "recorder"

    def __init__(self) -> None:
        self.seen: list[TrialInput] = []

    def fit(self, train: Sequence[Trial]) -> None:
        return None

    async def answer(self, trial: TrialInput) -> Answer:
        self.seen.append(trial)
        return Answer(value={"attitude": 4, "reason": "r", "speech": "s"})

    def identity(self) -> dict[str, Any]:
        return {}


def test_each_agent_is_shown_its_respondents_persona_and_not_the_answer() -> None:
    data = debate_topics(topics=[IDEOLOGY], respondents=RESPONDENTS)
    task = DebateTask(agents=2, rounds=1)
    trial = task.trials(data, seed=0)[0]
    parties = {"agent_1": _Recorder(), "agent_2": _Recorder()}
    answer = asyncio.run(task.play_parties(trial, parties))
    personas = trial.input.meta["personas"]
    for role, party in parties.items():
        label = trial.input.meta["identities"][role]
        assert {x.persona.description for x in party.seen if x.persona} == {personas[label]}
        assert all("own_answers" not in x.meta for x in party.seen)
    reports = answer.value["reports"] if answer.value else []
    own = trial.target.attributes["own_answers"]
    assert [r["own_answer"] for r in reports if r["round"] == 0] == [
        own[trial.input.meta["identities"][r]] for r in ("agent_1", "agent_2")
    ]


def test_bad_respondent_options_name_what_to_fix() -> None:
    with pytest.raises(ValueError, match="respondents has no question"):
        debate_topics(topics=[IDEOLOGY], respondents={"source": "anes96"})
    with pytest.raises(ValueError, match="not both"):
        debate_topics(topics=[IDEOLOGY], identities=[["a", "b"]], respondents=RESPONDENTS)
    two = [IDEOLOGY, {**IDEOLOGY, "id": "other"}]
    with pytest.raises(ValueError, match="several topics"):
        debate_topics(topics=two, respondents=RESPONDENTS)
    small = {**IDEOLOGY, "scale": {"min": 1, "max": 5}}
    with pytest.raises(
        ValueError, match=r"with code '\d', which is not a point of topic 'ideology'"
    ):
        debate_topics(
            topics=[small],
            respondents={**RESPONDENTS, "options": {"target": "selfLR", "people": 40}},
        )
    with pytest.warns(UserWarning, match="1 respondents left out"):
        debate_topics(
            topics=[IDEOLOGY],
            respondents={
                **RESPONDENTS,
                "per_debate": 3,
                "options": {"target": "selfLR", "people": 7},
            },
        )


def test_a_partial_points_map_names_the_unmapped_code_and_the_fix() -> None:
    # the people answer 3, 4, 5 and 6: a map without 6 must not pass 6 through as a point
    partial = {"3": 3, "4": 4, "5": 5}
    with pytest.raises(ValueError, match=r"'selfLR' with code '6'.*points.*'6': null"):
        debate_topics(topics=[IDEOLOGY], respondents={**RESPONDENTS, "points": partial})


def test_a_code_mapped_to_null_drops_the_answer_but_keeps_the_respondent() -> None:
    dont_know = {"3": 3, "4": 4, "5": 5, "6": None}
    with pytest.warns(UserWarning, match=r"3 respondents' own answers dropped"):
        data = debate_topics(topics=[IDEOLOGY], respondents={**RESPONDENTS, "points": dont_know})
    trials = DebateTask(agents=2).trials(data, seed=0)
    assert len(trials) == 4  # every respondent still holds an identity
    own = _own_answers()
    kept = {x: v for x, v in own.items() if v != 6}
    assert len(own) - len(kept) == 3
    for t in trials:
        labels = list(t.input.meta["identities"].values())
        assert set(t.input.meta["personas"]) == set(labels)
        assert t.target.attributes["own_answers"] == {x: kept[x] for x in labels if x in kept}
    t = next(t for t in trials if any(own[x] == 6 for x in t.input.meta["identities"].values()))
    answer = asyncio.run(
        DebateTask(agents=2, rounds=1).play_parties(
            t, {"agent_1": _Recorder(), "agent_2": _Recorder()}
        )
    )
    first = [r for r in (answer.value or {})["reports"] if r["round"] == 0]
    assert [r.get("own_answer") for r in first] == [
        kept.get(str(t.input.meta["identities"][r])) for r in ("agent_1", "agent_2")
    ]


class _Scored:
    """A party giving a probability per scale point: 0.6 on its respondent's own answer and
    0.4 on the next point, so its expected point is never the own answer."""

    label = "scored"

    def __init__(self, own_by_persona: dict[str, float]) -> None:
        self.own = own_by_persona

    def fit(self, train: Sequence[Trial]) -> None:
        return None

    async def answer(self, trial: TrialInput) -> Answer:
        if trial.meta["debate"]["question"] == "speech":
            return Answer(value={"speech": "s"})
        p = int(self.own[str(trial.persona.description if trial.persona else "")])
        q = p + 1 if p < 7 else p - 1
        return Answer(choice=str(p), probabilities={str(p): 0.6, str(q): 0.4})

    def identity(self) -> dict[str, Any]:
        return {}


def test_fidelity_of_scored_reports_takes_the_most_likely_point_as_exact() -> None:
    import pandas as pd

    data = debate_topics(topics=[IDEOLOGY], respondents=RESPONDENTS)
    task = DebateTask(agents=2, rounds=1)
    rows = []
    for t in task.trials(data, seed=0):
        personas = t.input.meta["personas"]
        own = t.target.attributes["own_answers"]
        party = _Scored({personas[x]: own[x] for x in own})
        answer = asyncio.run(task.play_parties(t, {"agent_1": party, "agent_2": party}))
        value = answer.value or {}
        for r in value["reports"]:
            assert r["attitude"] == pytest.approx(0.6 * r["mode"] + 0.4 * (r["mode"] + 1))
            assert r["sd"] == pytest.approx((0.6 * 0.4) ** 0.5)  # two points one apart
        rows.append(
            {
                "task": "debate",
                "simulator": "scored",
                "condition": "full",
                "person_id": t.person_id,
                "trial_id": t.key,
                "item_id": t.item_id,
                "answer_json": value,
                "meta": t.input.meta,
            }
        )
    reports = debate_reports(pd.DataFrame(rows))
    assert reports["mode"].notna().all() and reports["sd"].notna().all()
    (fid,) = identity_fidelity(reports, n_resamples=100).to_dict(orient="records")
    assert fid["exact"].value == 1.0  # the most likely point is the own answer
    assert fid["mae"].value == pytest.approx(0.4)  # the expected point is 0.4 off


def test_unscored_reports_store_no_mode_or_spread() -> None:
    data = debate_topics(topics=[IDEOLOGY], respondents=RESPONDENTS)
    task = DebateTask(agents=2, rounds=1)
    trial = task.trials(data, seed=0)[0]
    answer = asyncio.run(task.play_parties(trial, {"agent_1": _Recorder(), "agent_2": _Recorder()}))
    for r in (answer.value or {})["reports"]:
        assert "mode" not in r and "sd" not in r and "probabilities" not in r
