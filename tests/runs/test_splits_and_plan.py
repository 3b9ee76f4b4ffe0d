"""Splits by person / by the data's own split / by time, per-simulator subsets, and the plan
estimate (counts, cache hits, prompt tokens, time from a mock backend's delay)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import behaviorlab as bl
from behaviorlab.data import load_dataset, make_synthetic_opera
from behaviorlab.families.next_action import NextActionTask
from behaviorlab.families.next_action._plan import full_scope as full_split_spec
from behaviorlab.models._cache import CallCache
from behaviorlab.runs import SpecError, load_spec
from behaviorlab.runs._estimate import estimate_plan, measure, throughput_from_run
from behaviorlab.runs._planning import plan
from behaviorlab.runs._split import split_trials
from behaviorlab.simulators._prompts import structured_prompt
from behaviorlab.tasks import char_counter


@pytest.fixture(scope="module")
def opera_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_opera(tmp_path_factory.mktemp("opera"), users=6, sessions_per_user=3)


def opera_spec(path: Path, by: str = "data", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "op",
        "task": "next_action",
        "task_options": {"budget": 800},
        "data": {"source": "opera", "options": {"path": str(path)}, "split": {"by": by}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "generate"},
            {"name": "markov", "conditions": ["full"]},
        ],
        "conditions": ["full", "no_history"],
        "cache": False,
    }
    base.update(over)
    return base


def test_split_by_data_keeps_sessions_apart_and_is_recorded(
    opera_dir: Path, tmp_path: Path
) -> None:
    spec = load_spec(opera_spec(opera_dir))
    ds = load_dataset("opera", path=str(opera_dir))
    trials = NextActionTask(budget=800).trials(ds, seed=0)
    train, test = split_trials(spec.data.split, ds, trials, set())
    assert train and test
    assert not {t.episode_id for t in test} & {t.episode_id for t in train}
    assert {t.input.meta["split"] for t in test} == {"test"}
    assert {t.input.meta["split"] for t in train} == {"train"}
    # the synthetic split is by time: every shopper is on both sides, which by: data allows
    assert {t.person_id for t in test} == {t.person_id for t in train}
    p = plan(spec, None)
    assert {j.trial.episode_id for j in p.jobs} == {t.episode_id for t in test}
    assert p.test_ids == {t.person_id for t in test}
    run = bl.run(spec, out=tmp_path / "runs", progress=False)
    manifest = run.manifest
    assert manifest["split"]["by"] == "data"
    assert manifest["split"]["test_trials"] == len(test)
    assert manifest["split"]["train_trials"] == len(train)
    assert manifest["spec"]["data"]["split"]["by"] == "data"
    # the task's own wording is hashed into the manifest (next_action's history format)
    assert manifest["task"]["name"] == "next_action"
    assert manifest["task"]["prompting"].endswith(".NextActionPrompting")
    assert manifest["task"]["template_hash"] == NextActionTask.prompting.template_hash()
    assert sorted(run.persons()["person_id"]) == sorted(p.test_ids)


def test_split_by_person_puts_no_person_on_both_sides(opera_dir: Path) -> None:
    spec = load_spec(opera_spec(opera_dir, by="person"))
    p = plan(spec, None)
    ds = p.dataset
    trials = NextActionTask(budget=800).trials(ds, seed=0)
    train, test = split_trials(spec.data.split, ds, trials, p.test_ids)
    assert train and test
    assert not {t.person_id for t in train} & {t.person_id for t in test}
    assert p.split["by"] == "person" and p.split["test_people"] == len(p.test_ids)


def test_split_by_time_holds_out_each_persons_latest_sessions(opera_dir: Path) -> None:
    spec = load_spec(
        opera_spec(opera_dir, by="time")
        | {
            "data": {
                "source": "opera",
                "options": {"path": str(opera_dir)},
                "split": {"by": "time", "test": 0.34},
            }
        }
    )
    ds = load_dataset("opera", path=str(opera_dir))
    trials = NextActionTask(budget=800).trials(ds, seed=0)
    train, test = split_trials(spec.data.split, ds, trials, set())
    starts = {e.episode_id: e.started_at for e in ds.episodes if e.started_at is not None}
    for person in ds.persons:
        tr = [starts[t.episode_id] for t in train if t.person_id == person]
        te = [starts[t.episode_id] for t in test if t.person_id == person]
        assert tr and te
        assert max(tr) < min(te)
        assert len({t.episode_id for t in test if t.person_id == person}) == 1  # 3 x 0.34


def test_split_by_data_without_split_info_is_a_clear_error() -> None:
    spec = {
        "name": "s",
        "data": {"source": "synthetic-test", "split": {"by": "data"}},
        "simulators": [{"name": "majority"}],
    }
    with pytest.raises(SpecError, match=r"records no split; use split: \{by: person\}"):
        plan(load_spec(spec), None)


def test_subset_slices_test_trials_per_condition(opera_dir: Path) -> None:
    sims = [
        {
            "name": "llm",
            "backend": "mock",
            "answer": "generate",
            "subset": {"people": 2, "max_steps": 4, "max_steps_by_condition": {"no_history": 2}},
        },
        {"name": "markov", "conditions": ["full"]},
    ]
    p = plan(load_spec(opera_spec(opera_dir, simulators=sims)), None)
    llm = [j for j in p.jobs if j.simulator.label == "llm:mock-1"]
    full = [j for j in llm if j.condition == "full"]
    nohist = [j for j in llm if j.condition == "no_history"]
    assert len({j.trial.person_id for j in full}) == 2
    per_ep: dict[str, int] = {}
    for j in full:
        per_ep[j.trial.episode_id] = per_ep.get(j.trial.episode_id, 0) + 1
    assert max(per_ep.values()) == 4
    # no_history answers a prefix of full's trials, so differences stay paired
    assert {j.trial.key for j in nohist} < {j.trial.key for j in full}
    assert len(nohist) == sum(min(2, n) for n in per_ep.values())
    markov = [j for j in p.jobs if j.simulator.label == "markov"]
    assert len(markov) == p.split["test_trials"]
    full_spec = full_split_spec(p.spec)
    assert full_spec is not None and all(s.subset is None for s in full_spec.simulators)


def test_estimate_counts_calls_cache_hits_tokens_and_stored(
    opera_dir: Path, tmp_path: Path
) -> None:
    cache_file = tmp_path / "calls.sqlite"
    raw = opera_spec(opera_dir, cache=str(cache_file), conditions=["full"])
    spec = load_spec(raw)
    cache = CallCache(cache_file)
    p = plan(spec, cache)
    est = asyncio.run(estimate_plan(p))
    n = p.split["test_trials"]
    cells = {(c.simulator, c.condition): c for c in est.cells}
    llm = cells[("llm:mock-1", "full")]
    assert llm.trials == llm.calls == llm.to_call == n and llm.cached == 0
    assert cells[("markov", "full")].calls == 0 and est.llm == {"llm:mock-1"}
    count = char_counter(3.0)
    expected = sum(
        count("\n".join(m.content for m in structured_prompt(j.trial.input).messages))
        for j in p.jobs
        if j.simulator.label == "llm:mock-1"
    )
    assert llm.prompt_tokens == expected
    assert est.seconds() is None and "not measured" in est.line()
    cache.close()
    # answer 5 trials: they are stored for this run, and their calls are cached for another
    bl.run(raw, out=tmp_path / "runs", progress=False, limit=5)
    from behaviorlab.store import ResultStore

    cache = CallCache(cache_file)
    store = ResultStore(tmp_path / "runs" / "op" / "results.sqlite", readonly=True)
    p = plan(spec, cache)
    est = asyncio.run(estimate_plan(p, store=store))
    stored = sum(c.stored for c in est.cells)
    assert stored == 5 and est.trials == 2 * n
    other = plan(load_spec(raw | {"name": "other"}), cache)
    est2 = asyncio.run(estimate_plan(other))
    llm2 = next(c for c in est2.cells if c.simulator == "llm:mock-1")
    done_llm = sum(
        1
        for j in p.jobs
        if j.simulator.label == "llm:mock-1" and j.trial_id in store.done_ids(spec.run_id())
    )
    assert llm2.cached == done_llm and llm2.to_call == n - done_llm
    store.close()
    cache.close()


def test_measured_time_extrapolates_calls_times_seconds(opera_dir: Path, tmp_path: Path) -> None:
    delay = 0.05
    sims = [
        {
            "name": "llm",
            "backend": "mock",
            "answer": "generate",
            "backend_options": {"delay_s": delay},
        },
        {"name": "markov", "conditions": ["full"]},
    ]
    spec = load_spec(opera_spec(opera_dir, simulators=sims, conditions=["full", "no_history"]))
    p = plan(spec, None)
    tp = asyncio.run(measure(p, 3))
    llm_tp = tp["llm:mock-1"]
    assert llm_tp.n == 3 and llm_tp.per == "call"
    assert delay <= llm_tp.seconds < delay + 0.1
    assert tp["markov"].per == "trial" and tp["markov"].seconds < delay
    est = asyncio.run(estimate_plan(p, throughput=tp))
    calls = sum(c.to_call for c in est.cells)
    assert calls == 2 * p.split["test_trials"]
    expected = (
        llm_tp.startup_s + calls * llm_tp.seconds + p.split["test_trials"] * tp["markov"].seconds
    )
    assert est.seconds() == pytest.approx(expected)
    assert "measured: 3 trials on mock/mock-1" in "\n".join(est.lines())
    # the same from a stored run's latencies
    bl.run(spec, out=tmp_path / "runs", progress=False, limit=6)
    stored = throughput_from_run("op", out=tmp_path / "runs")
    assert delay <= stored["llm:mock-1"].seconds < delay + 0.1
    assert stored["llm:mock-1"].source.startswith("from run op-")


def _games_spec(sims: list[dict[str, object]]) -> dict[str, object]:
    return {
        "name": "games-all",
        "task": "game",
        "data": {
            "source": "games",
            "options": {"games": ["rps"], "partners": ["fixed", "cycle"], "rounds": 3},
            "split": {"test": 1.0},
        },
        "simulators": sims,
    }


def test_test_share_one_tests_everyone_when_nothing_learns_from_people(tmp_path: Path) -> None:
    from behaviorlab.runs._planning import plan
    from behaviorlab.runs._spec import load_spec

    p = plan(load_spec(_games_spec([{"name": "first_move"}])), None)
    assert p.test_ids == set(p.dataset.persons)  # every game is played
    assert len(p.jobs) == len(p.dataset.persons)


def test_test_share_one_refuses_a_simulator_that_learns_from_people() -> None:
    from behaviorlab.runs._planning import plan
    from behaviorlab.runs._spec import SpecError, load_spec

    with pytest.raises(SpecError, match="'majority' learns from training people"):
        plan(load_spec(_games_spec([{"name": "first_move"}, {"name": "majority"}])), None)


def test_a_run_stores_what_its_task_measured_on_the_test_trials(
    opera_dir: Path, tmp_path: Path
) -> None:
    import behaviorlab as bl
    from behaviorlab.families.next_action._survival import measure_survival

    spec = opera_spec(opera_dir, simulators=[{"name": "markov"}], conditions=["full"])
    p = plan(load_spec(spec), None)
    test = [j.trial for j in p.jobs]
    expected = measure_survival(test, 800)
    got = p.task_info["target_survival"]
    assert got["targets"] == expected.targeted and got["in_view"] == expected.in_view
    assert got["budget"] == 800 and 0 < got["share"] < 1  # the demo budget cuts targets
    run = bl.run(spec, out=tmp_path, progress=False)
    assert run.manifest["task_info"] == p.task_info
    # a task without the hook records nothing
    survey = {"name": "s", "data": {"source": "anes96"}, "simulators": [{"name": "majority"}]}
    assert plan(load_spec(survey), None).task_info == {}
