"""The PacifAIst and difference-awareness adapters on the real files (skipped without them)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from behaviorlab.analysis import estimate
from behaviorlab.data import Dataset, load_dataset
from behaviorlab.families.scenario._data import ScenarioDataError
from behaviorlab.families.scenario._metrics import awareness_table, scenario_table
from behaviorlab.families.scenario._task import ScenarioTask
from behaviorlab.simulators import Answer
from behaviorlab.tasks import Trial, TrialInput


def _steps(ds: Dataset) -> list:  # type: ignore[type-arg]
    return [s for ep in ds.episodes for s in ep.steps]


def test_pacifaist_counts_position_trap_and_licence(
    pacifaist_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="behaviorlab.families.scenario._adapters"):
        ds = load_dataset("pacifaist", path=str(pacifaist_dir))
    assert "NON-COMMERCIAL" in caplog.text and "NON-COMMERCIAL" in ds.license
    steps = _steps(ds)
    kinds = Counter(s.observation.meta["item_kind"] for s in steps)
    assert kinds == {"choice": 351, "open": 349}  # the README's 351 MC, 349 generative
    desired = Counter(s.action.value for s in steps if s.observation.options)
    assert desired == {"A": 328, "C": 13, "B": 5, "D": 5}  # the position trap, as published
    assert Counter(s.action.attributes["categories"]["subcategory"] for s in steps) == {
        "EP1": 250,
        "EP2": 250,
        "EP3": 200,
    }
    open_item = next(s for s in steps if not s.observation.options)
    assert open_item.action.attributes["extra"]["ideal_response_profile"]
    assert len(ds.persons) == 700  # each PacifAIst scenario is its own cluster


def test_pacifaist_slices(pacifaist_dir: Path) -> None:
    ds = load_dataset(
        "pacifaist", path=str(pacifaist_dir), task_types=["multiple_choice"], limit=10
    )
    assert len(_steps(ds)) == 10 and all(s.observation.options for s in _steps(ds))
    with pytest.raises(ScenarioDataError, match=r"unknown subcategories \['EP9'\]"):
        load_dataset("pacifaist", path=str(pacifaist_dir), subcategories=["EP9"])


def test_adapters_say_where_to_get_the_data(tmp_path: Path) -> None:
    with pytest.raises(ScenarioDataError, match=r"github\.com/PacifAIst/PacifAIst"):
        load_dataset("pacifaist")
    with pytest.raises(ScenarioDataError, match=r"Angelina-Wang/difference_awareness"):
        load_dataset("diffaware")
    with pytest.raises(FileNotFoundError, match=r"no PacifAIst_dataset\.csv"):
        load_dataset("pacifaist", path=str(tmp_path))


def test_diffaware_clusters_and_equal_items(diffaware_dir: Path) -> None:
    ds = load_dataset("diffaware", path=str(diffaware_dir), benchmarks=["D3", "N2"])
    cats = {ep.person_id: ep.steps[0].action.attributes["categories"] for ep in ds.episodes}
    clusters = Counter((c["benchmark"], c["condition"]) for c in cats.values())
    # cluster and item ids are opaque: the condition (which decides the answer) is unreadable
    assert all(pid.startswith("da-") and "equal" not in pid for pid in ds.persons)
    # the README's unique ids: D3 66 and 66; N2 1,000 per condition
    assert clusters == {
        ("D3", "different"): 66,
        ("D3", "equal"): 66,
        ("N2", "different"): 1000,
        ("N2", "equal"): 1000,
    }
    steps = _steps(ds)
    assert len(steps) == 4000
    equal = [s for s in steps if s.action.attributes["categories"]["condition"] == "equal"]
    # on equal items the desired answer is (c), whatever `answer` says ...
    assert {s.action.value for s in equal} == {"c"}
    # ... which on the normative N2 is 0 or 1 (the wrong option naming the marginalized group)
    n2_equal = [s for s in equal if s.action.attributes["categories"]["benchmark"] == "N2"]
    assert {s.action.attributes["extra"]["answer_field"] for s in n2_equal} == {0, 1}
    different = [s for s in steps if s.action.attributes["categories"]["condition"] == "different"]
    assert {s.action.value for s in different} == {"a", "b"}
    first = steps[0].observation
    assert [o.code for o in first.options or []] == ["a", "b", "c"]
    assert "(a)" not in first.content  # options are split out of the question


def test_diffaware_parses_numbered_first_option(diffaware_dir: Path) -> None:
    # N3 writes "(1)" for the first option in about half of its rows
    ds = load_dataset("diffaware", path=str(diffaware_dir), benchmarks=["N3"], limit=50)
    assert all(len(s.observation.options or []) == 3 for s in _steps(ds))
    steps = _steps(ds)
    assert Counter(s.action.attributes["categories"]["condition"] for s in steps) == {
        "different": 50,
        "equal": 50,
    }
    assert not any("(1)" in s.observation.content or "(b)" in s.observation.content for s in steps)


def test_diffaware_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "D9.jsonl"
    path.write_text(
        '{"scenario": "D9", "condition": "different", "question": "Q? (a) x (b) y (c) z", '
        '"answer": 0, "id": 1}\n'
        '{"scenario": "D9", "condition": "different", "question": "Q? (a) x (b) y (c) z", '
        '"answer": 2, "id": 2}\n'
    )
    with pytest.raises(ScenarioDataError, match=r"D9.jsonl: line 2, field 'answer': 2"):
        load_dataset("diffaware", path=str(path))


class _Policy:
    """Answers ``pick`` (a code), or the first option shown when ``pick`` is None."""

    label = "policy"

    def __init__(self, pick: str | None) -> None:
        self.pick = pick

    def fit(self, train: Sequence[Trial]) -> None:
        del train

    def identity(self) -> dict[str, Any]:
        return {}

    async def answer(self, trial: TrialInput) -> Answer:
        return Answer(choice=self.pick or trial.observation.option_codes()[0])


async def _play(task: ScenarioTask, trials: list[Trial], sim: _Policy) -> list[Answer]:
    return [await task.play(t, sim) for t in trials]


def _policy_frame(ds: Dataset, pick: str | None = None, shuffle: bool = True) -> pd.DataFrame:
    """Results rows of a fixed policy on every choice trial: answer ``pick`` (a code), or the
    first option shown when ``pick`` is None."""
    task = ScenarioTask(shuffle_options=shuffle, items="choice")
    trials = task.trials(ds, seed=0)
    answers = asyncio.run(_play(task, trials, _Policy(pick)))
    rows = []
    for t, answer in zip(trials, answers, strict=True):
        codes = t.input.observation.option_codes()
        scores = task.score(t, answer)
        rows.append(
            {
                "task": "scenario",
                "simulator": "policy",
                "condition": "full",
                "seed": 0,
                "person_id": t.person_id,
                "item_id": t.item_id,
                "episode_id": t.episode_id,
                "step_index": t.step_index,
                "options": codes,
                "human_answer": task.human_answer(t),
                "answer": answer.choice,
                "correct": scores["correct"],
                "scores": scores,
                "error": None,
                "error_kind": None,
                "meta": {**t.input.meta, **answer.meta},  # as the runner stores it
            }
        )
    return pd.DataFrame(rows)


def test_pacifaist_always_a_reproduces_the_published_trap(pacifaist_dir: Path) -> None:
    ds = load_dataset("pacifaist", path=str(pacifaist_dir), task_types=["multiple_choice"])
    always_a = _policy_frame(ds, pick="A")
    est = estimate(always_a, "p_score", n_resamples=200)
    assert est is not None and est.value == pytest.approx(328 / 351)  # 93.4%
    table = scenario_table(always_a, n_resamples=200).set_index(["simulator", "group"])
    # by hand from the data: EP1 123/126, EP2 123/125, EP3 82/100
    assert table.loc[("policy", "EP1"), "p_score"].value == pytest.approx(123 / 126)
    assert table.loc[("policy", "EP3"), "p_score"].value == pytest.approx(82 / 100)
    unshuffled = _policy_frame(ds, shuffle=False)
    assert estimate(unshuffled, "always_first", n_resamples=200).value == pytest.approx(328 / 351)


def test_diffaware_metrics_on_real_d3(diffaware_dir: Path) -> None:
    ds = load_dataset("diffaware", path=str(diffaware_dir), benchmarks=["D3"])
    always_a = _policy_frame(ds, pick="a")
    # D3: `answer` is 0 on 493 of the 1,000 different rows; (a) is wrong on all 1,000 equal rows
    diff = estimate(always_a, "diff_aware", n_resamples=200)
    ctxt = estimate(always_a, "ctxt_aware", n_resamples=200)
    assert diff is not None and diff.value == pytest.approx(493 / 1000)
    assert ctxt is not None and ctxt.value == pytest.approx(493 / (493 + 1000))
    # 66 unique ids on the different rows, not 2,000 rows, and not the 66 equal-item clusters
    # too (they do not enter DiffAware's denominator)
    assert diff.n_clusters == 66 and diff.n == 1000
    assert ctxt.n_clusters == 132
    always_c = awareness_table(_policy_frame(ds, pick="c"), n_resamples=200)
    row = always_c[~always_c["reference"]].iloc[0]
    assert row["diff_aware"].value == 0.0 and (row["C"], row["F"]) == (1000, 1000)
