"""Trials played by several parties (issue 12): roles assigned by a spec, every turn stored
with its speaker, per-turn and per-role results, ids, the plan estimate."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import behaviorlab as bl
from behaviorlab.analysis import gap, role_table
from behaviorlab.models._base import Backend
from behaviorlab.runs import SpecError, plan
from behaviorlab.runs._estimate import estimate_plan
from behaviorlab.runs._planning import trial_id

MOCK = {"name": "llm", "backend": "mock", "answer": "generate"}


def exchange_spec(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "exchange3",
        "plugins": ["bl_exchange"],
        "task": "exchange",
        "task_options": {
            "rounds": 2,
            "identities": {"debater_a": "You argue for the ban.", "debater_b": "You oppose it."},
        },
        "data": {"source": "anes96", "target": "vote", "people": 8, "split": {"test": 0.5}},
        "parties": [
            {
                "label": "scripted-3",
                "roles": {
                    "moderator": {"name": "script", "lines": ["Opening.", "Closing."]},
                    "debater_a": {**MOCK, "label": "llm-a"},
                    "debater_b": {"name": "script", "lines": ["No ban.", "Still no."]},
                },
            }
        ],
        "cache": False,
    }
    spec.update(over)
    return spec


def test_a_three_party_scripted_exchange_runs_from_a_spec(tmp_path: Path) -> None:
    run = bl.run(exchange_spec(), out=tmp_path, progress=False)
    frame = run.to_pandas()
    assert len(frame) == 4 and set(frame["simulator"]) == {"scripted-3"}
    assert frame["error"].isna().all()
    meta = frame["meta"].iloc[0]
    turns = meta["turns"]
    assert [t["role"] for t in turns] == ["moderator", "debater_a", "debater_b"] * 2
    assert [t["role_turn"] for t in turns] == [0, 0, 0, 1, 1, 1]
    assert meta["roles"] == {"moderator": "script", "debater_a": "llm-a", "debater_b": "script"}
    # the scripted parties said their lines, in order; the LLM saw what was said before it
    assert [t["text"] for t in turns if t["role"] == "debater_b"] == ["No ban.", "Still no."]
    assert turns[1]["seen"].splitlines()[:2] == [
        "Topic: Should cities ban cars from their centres?",
        "moderator: Opening.",
    ]
    assert "debater_b: No ban." in turns[3]["seen"] and turns[4]["prompt_hash"]
    # only the LLM's turns call a model; the trial's usage is the sum of its turns
    assert [t["calls"] for t in turns] == [0, 1, 0, 0, 1, 0]
    assert frame["calls"].tolist() == [2] * 4
    assert frame["tokens_in"].iloc[0] == sum(t["tokens_in"] for t in turns) > 0
    assert frame["scores"].iloc[0] == {"turns": 6.0, "failed_turns": 0.0}

    per_turn = run.to_pandas(per="turn")
    assert len(per_turn) == 24
    assert set(per_turn["role"]) == {"moderator", "debater_a", "debater_b"}
    assert set(per_turn.loc[per_turn["role"] == "debater_a", "role_simulator"]) == {"llm-a"}
    assert (per_turn.loc[per_turn["role"] == "moderator", "words"] == 1.0).all()
    with pytest.raises(ValueError, match="per must be"):
        run.to_pandas(per="round")  # type: ignore[arg-type]

    roles = gap(run, n_resamples=200).roles
    valid = roles.loc[roles["metric"] == "valid_turn"].set_index("role")
    assert set(valid.index) == {"moderator", "debater_a", "debater_b"}
    assert (valid["value"] == 1.0).all() and (valid["n_turns"] == 8).all()
    assert (valid["n_people"] == 4).all()
    words = roles.loc[roles["metric"] == "words"].set_index("role")["value"]
    assert words["moderator"] == 1.0 and words["debater_b"] == 2.0
    assert valid.loc["moderator", "tokens_in"] == 0
    assert valid["tokens_in"].to_dict()["debater_a"] > 0


def alone_spec() -> dict[str, Any]:
    return {
        "name": "alone",
        "data": {"source": "anes96", "target": "vote", "people": 6},
        "simulators": [{"name": "majority"}],
    }


def test_the_report_shows_the_per_role_rows(tmp_path: Path) -> None:
    from behaviorlab.report import gap_summary_lines, write_report

    run = bl.run(exchange_spec(), out=tmp_path, progress=False)
    files = write_report(run, tmp_path / "report", n_resamples=200)
    html = files.html.read_text()
    assert "Per role" in html and "debater_a" in html and "llm-a" in html
    from rich.console import Console

    from behaviorlab.report._terminal import render_roles

    report = gap(run, n_resamples=200)
    assert not [x for x in gap_summary_lines(report) if x.startswith("role ")]
    console = Console(width=80, record=True)
    console.print(render_roles(report))
    text = console.export_text()
    assert "scripted-3 · full" in text and max(len(x) for x in text.splitlines()) <= 80
    (moderator,) = [x for x in text.splitlines() if "moderator (script)" in x]
    assert "valid_turn" in moderator and "1.00 [1.00, 1.00]" in moderator
    assert render_roles(gap(bl.run(alone_spec(), out=tmp_path, progress=False))) is None


def test_a_failing_party_is_a_failed_turn_not_a_failed_trial(tmp_path: Path) -> None:
    spec = exchange_spec()
    spec["parties"][0]["roles"]["debater_b"] = {"name": "script", "lines": ["Only once."]}
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    assert frame["error"].isna().all()
    turns = frame["meta"].iloc[0]["turns"]
    assert turns[5]["error"] == (
        "script 'script' (role 'debater_b') has 1 lines; turn 2 asked for more"
    )
    assert frame["scores"].iloc[0]["failed_turns"] == 1.0
    roles = role_table(frame, n_resamples=200).set_index(["role", "metric"])
    assert roles.loc[("debater_b", "valid_turn"), "value"] == 0.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s["parties"][0]["roles"].pop("moderator"),
            r"parties\[0\] \('scripted-3'\) leaves the role 'moderator' of task 'exchange' "
            r"unassigned; its roles are moderator, debater_a, debater_b",
        ),
        (
            lambda s: s["parties"][0]["roles"].update(judge={"name": "majority"}),
            r"assigns 'judge', not a role of task 'exchange'",
        ),
        (
            lambda s: s.update(simulators=[MOCK]),
            r"played by several parties only: move simulators: into parties: entries",
        ),
        (
            lambda s: s["parties"][0].update(conditions=["nope"]),
            r"parties\[0\] \('scripted-3'\): unknown condition 'nope'; known: ",
        ),
        (
            lambda s: s.update(parties=[], simulators=[MOCK]),
            r"assign a simulator to each role under parties:",
        ),
    ],
)
def test_role_assignment_errors_name_the_role(change: Any, message: str) -> None:
    spec = exchange_spec()
    change(spec)
    with pytest.raises(SpecError, match=message):
        plan(bl.load_spec(spec), None)


def test_parties_on_a_task_without_roles_is_an_error() -> None:
    spec = {
        "name": "survey-parties",
        "data": {"source": "anes96", "target": "vote", "people": 6},
        "parties": [{"label": "x", "roles": {"a": MOCK}}],
    }
    with pytest.raises(SpecError, match="has no roles, so parties: does not apply"):
        plan(bl.load_spec(spec), None)
    spec.pop("parties")
    with pytest.raises(SpecError, match="no simulators: list at least one"):
        bl.load_spec(spec)


def test_the_role_assignment_enters_the_id_of_multi_party_trials_only() -> None:
    one = plan(bl.load_spec(exchange_spec()), None)
    spec = exchange_spec()
    spec["parties"][0]["roles"]["debater_a"] = {**MOCK, "label": "llm-a", "model": "mock-2"}
    other = plan(bl.load_spec(spec), None)
    assert {j.trial.key for j in one.jobs} == {j.trial.key for j in other.jobs}
    # same label, another model for one role: other trial ids (no stale results are reused)
    assert not {j.trial_id for j in one.jobs} & {j.trial_id for j in other.jobs}
    # the order the roles are written in does not matter
    spec = exchange_spec()
    spec["parties"][0]["roles"] = dict(reversed(list(spec["parties"][0]["roles"].items())))
    assert [j.trial_id for j in plan(bl.load_spec(spec), None).jobs] == [
        j.trial_id for j in one.jobs
    ]
    # a one-party trial's id is computed as it always was (pinned before parties existed)
    assert trial_id("survey", "llm", "full", 0, "k") == "a9ef997d2a4192e738bec8e8"
    alone = {"name": "x", "data": {"source": "anes96"}, "simulators": [MOCK]}
    assert bl.load_spec(alone).spec_hash() == bl.load_spec({**alone, "parties": []}).spec_hash()


def test_the_plan_estimate_counts_every_partys_calls() -> None:
    p = plan(bl.load_spec(exchange_spec()), None)
    est = asyncio.run(estimate_plan(p))
    (cell,) = est.cells
    assert (cell.simulator, cell.trials, cell.calls) == ("scripted-3", 4, 8)
    assert cell.prompt_tokens > 0


def test_a_script_replays_a_transcript_held_by_the_trial() -> None:
    from behaviorlab.data._records import Observation
    from behaviorlab.simulators import Script
    from behaviorlab.tasks import TrialInput

    held = {"patient": ["I slept badly.", "Maybe a little better."], "therapist": ["Hello."]}

    def turn(role: str, n: int) -> TrialInput:
        return TrialInput(
            task="t",
            item_id="i",
            person_id="p",
            persona=None,
            observation=Observation(kind="chat", content="..."),
            answer_schema={"type": "object", "properties": {"reply": {"type": "string"}}},
            meta={"transcript": held, "role": role, "role_turn": n},
        )

    replay = Script(field="transcript")
    got = asyncio.run(replay.answer(turn("patient", 1)))
    assert got.value == {"reply": "Maybe a little better."} and got.ok
    ran_out = asyncio.run(replay.answer(turn("therapist", 1)))
    assert ran_out.error == "script 'script' (role 'therapist') has 1 lines; turn 2 asked for more"
    missing = asyncio.run(replay.answer(turn("moderator", 0)))
    assert missing.error_kind == "invalid" and "for role 'moderator'" in (missing.error or "")
    with pytest.raises(ValueError, match="either lines"):
        Script()


def priced(label: str, inp: float, out: float, currency: str = "USD") -> dict[str, Any]:
    pricing = {"input_per_mtok": inp, "output_per_mtok": out, "currency": currency}
    return {**MOCK, "label": label, "pricing": pricing}


def test_each_party_is_priced_at_its_own_prices(tmp_path: Path) -> None:
    spec = exchange_spec()
    roles = spec["parties"][0]["roles"]
    roles["moderator"] = priced("llm-m", 10.0, 0.0)
    roles["debater_a"] = priced("llm-a", 2.0, 4.0)
    est = asyncio.run(estimate_plan(plan(bl.load_spec(spec), None)))
    (cell,) = est.cells
    (m_prompt, m_max), (a_prompt, a_max) = cell.by_party["moderator"], cell.by_party["debater_a"]
    assert m_prompt > 0 and a_prompt > 0 and m_prompt + a_prompt == cell.prompt_tokens
    out = est.output_tokens_for("scripted-3")[0]
    share = a_max / (m_max + a_max)
    expected = (m_prompt * 10.0 + a_prompt * 2.0 + out * share * 4.0) / 1e6
    assert est.cost_for("scripted-3") == pytest.approx(expected)
    # not the first priced party's prices applied to every party's tokens
    assert expected != pytest.approx((cell.prompt_tokens * 10.0) / 1e6)
    assert est.cost() == (pytest.approx(expected), "USD")
    line = est._budget_line("scripted-3")
    assert "moderator at 10 / 0 USD" in line and "debater_a at 2 / 4 USD" in line
    # parties priced in two currencies: the total says so, in the estimate and the run
    roles["moderator"] = priced("llm-m", 10.0, 0.0, "EUR")
    est = asyncio.run(estimate_plan(plan(bl.load_spec(spec), None)))
    assert est.cost() is not None and est.cost()[1] == "mixed"  # type: ignore[index]
    each = est.cost_by_currency()
    assert set(each) == {"USD", "EUR"} and each["USD"] > 0 and each["EUR"] > 0
    assert f"~{each['EUR']:.4f} EUR + ~{each['USD']:.4f} USD" in est.line()
    run = bl.run(spec, out=tmp_path, progress=False)
    assert run.summary is not None and run.summary.currency == "mixed"
    usage = run.manifest["totals"]
    assert usage["by_simulator"]["scripted-3"]["currency"] == "mixed"
    # the actual cost is each party's calls at its own prices
    turns = run.to_pandas()["meta"].iloc[0]["turns"]
    assert {t["role"] for t in turns if t["cost"] > 0} == {"moderator", "debater_a"}


def test_a_party_that_fails_every_turn_fails_the_trial_naming_the_role(tmp_path: Path) -> None:
    spec = exchange_spec()
    spec["parties"][0]["roles"]["debater_b"] = {"name": "script", "lines": []}
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    assert frame["error"].notna().all()
    assert frame["error"].iloc[0] == (
        "role 'debater_b' (script) failed all 2 of its turns; the first: script 'script' "
        "(role 'debater_b') has 0 lines; turn 1 asked for more"
    )
    # the turns that were played are kept with the failed trial
    assert len(frame["meta"].iloc[0]["turns"]) == 6


@pytest.mark.parametrize(
    ("role_spec", "message"),
    [
        ({"conditions": ["full"]}, r"role 'debater_a': conditions apply to a whole exchange"),
        ({"subset": {"max_steps": 1}}, r"role 'debater_a': subset apply to a whole exchange"),
        (
            {"throughput": {"latency_s": 1.0}},
            r"role 'debater_a': throughput is not configured per role",
        ),
    ],
)
def test_role_level_settings_that_would_be_ignored_are_refused(
    role_spec: dict[str, Any], message: str
) -> None:
    spec = exchange_spec()
    spec["parties"][0]["roles"]["debater_a"].update(role_spec)
    with pytest.raises(SpecError, match=message):
        plan(bl.load_spec(spec), None)


def test_measure_times_every_party_without_the_call_cache(tmp_path: Path) -> None:
    from behaviorlab.models._cache import CachedBackend, CallCache
    from behaviorlab.runs._throughput import measure

    spec = exchange_spec()
    spec["parties"][0]["roles"]["moderator"] = {**MOCK, "label": "llm-m", "model": "mock-m"}
    cache = CallCache(tmp_path / "cache")
    p = plan(bl.load_spec(spec), cache)
    (party_set,) = p.simulators
    members = list(party_set.parties.values())  # type: ignore[attr-defined]
    wrapped = [m.backend for m in members if isinstance(getattr(m, "backend", None), Backend)]
    assert len(wrapped) == 2 and all(isinstance(b, CachedBackend) for b in wrapped)
    seen: list[str] = []
    for b in wrapped:
        inner = b.inner
        original = inner.generate

        async def counted(request: Any, _orig: Any = original, _b: Any = inner) -> Any:
            seen.append(_b.model)
            return await _orig(request)

        inner.generate = counted  # type: ignore[method-assign]
    first = asyncio.run(measure(p, n=2))
    again = asyncio.run(measure(p, n=2))  # the same trials: a cache would answer them now
    assert seen.count("mock-m") == 2 * 2 * 2 and len(seen) == 2 * 2 * 2 * 2
    assert first["scripted-3"].per == "call" and again["scripted-3"].per == "call"
    assert "without the cache" in first["scripted-3"].source
    # the cache was put back in front of every party's model
    assert [m.backend for m in members if hasattr(m, "backend")] == wrapped


def test_the_estimate_of_a_rerun_sees_the_cached_exchange(tmp_path: Path) -> None:
    # later turns are built from earlier answers: the estimate answered every call with
    # empty text, so after a full run it still expected most calls to be made
    spec = exchange_spec(cache=str(tmp_path / "cache"))
    roles = spec["parties"][0]["roles"]
    roles["moderator"] = {**MOCK, "label": "llm-m", "model": "mock-m"}
    bl.run(spec, out=tmp_path / "runs", progress=False)
    from behaviorlab.models._cache import CallCache

    cache = CallCache(tmp_path / "cache")
    try:
        (cell,) = asyncio.run(estimate_plan(plan(bl.load_spec(spec), cache))).cells
    finally:
        cache.close()
    assert cell.calls == 16 and cell.cached == 16 and cell.to_call == 0
    assert cell.prompt_tokens == 0


def test_the_estimate_bounds_the_prompts_a_run_sends(tmp_path: Path) -> None:
    import json

    from behaviorlab.tasks._tokens import char_counter

    log = tmp_path / "calls.jsonl"
    said = json.dumps({"text": " ".join(["lorem"] * 30)})  # about 47 tokens, under 64
    llm = {
        "name": "llm",
        "backend": "logging_mock",
        "answer": "generate",
        "max_tokens": 64,
        "backend_options": {"log": str(log), "script": [said] * 12},
    }
    spec = exchange_spec(task_options={"rounds": 3})
    spec["parties"][0]["roles"] = {
        "moderator": {**llm, "label": "m"},
        "debater_a": {**llm, "label": "a", "model": "mock-a"},
        "debater_b": {"name": "script", "lines": ["No.", "No!", "Never."]},
    }
    (cell,) = asyncio.run(estimate_plan(plan(bl.load_spec(spec), None))).cells
    bl.run(spec, out=tmp_path / "runs", progress=False)
    count = char_counter(4.0)
    sent = [json.loads(json.loads(line)["prompt"]) for line in log.read_text().splitlines()]
    actual = sum(count("\n".join(m["content"] for m in r["messages"])) for r in sent)
    assert cell.calls == len(sent) == 4 * 3 * 2
    # an upper bound (every answer as long as max_tokens), not the empty-answer lower one
    assert actual <= cell.prompt_tokens <= 3 * actual


def test_parties_on_the_same_local_model_share_one_backend() -> None:
    local = {"name": "llm", "backend": "llamacpp", "model": "smollm2", "answer": "generate"}
    spec = exchange_spec()
    roles = spec["parties"][0]["roles"]
    roles["moderator"] = {**local, "label": "m", "temperature": 0.7}
    roles["debater_a"] = {**local, "label": "a"}
    roles["debater_b"] = {**local, "label": "b", "backend_options": {"kv_slots": 8}}
    spec["parties"].append(
        {"label": "again", "roles": {r: {**local, "label": f"x-{r}"} for r in roles}}
    )
    first, again = plan(bl.load_spec(spec), None).simulators
    parties = first.parties  # type: ignore[attr-defined]
    # the same weights and settings (a temperature is a request setting): one backend object
    assert parties["moderator"].backend is parties["debater_a"].backend
    # other backend settings: its own backend, with its own settings
    assert parties["debater_b"].backend is not parties["debater_a"].backend
    assert parties["debater_b"].backend.kv_slots == 8
    # across entries too
    assert {id(s.backend) for s in again.parties.values()} == {  # type: ignore[attr-defined]
        id(parties["debater_a"].backend)
    }


def test_other_backends_are_never_shared(tmp_path: Path) -> None:
    # a backend may keep state per object (a scripted mock): two roles with equal scripts
    # each play their own script, as before sharing existed
    scripted = {**MOCK, "backend_options": {"script": ['{"text": "one"}', '{"text": "two"}']}}
    spec = exchange_spec()
    roles = spec["parties"][0]["roles"]
    roles["moderator"] = {**scripted, "label": "m"}
    roles["debater_a"] = {**scripted, "label": "a"}
    spec["data"]["people"] = 2
    (party_set,) = plan(bl.load_spec(spec), None).simulators
    parties = party_set.parties  # type: ignore[attr-defined]
    assert parties["moderator"].backend is not parties["debater_a"].backend
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    turns = frame["meta"].iloc[0]["turns"]
    for role in ("moderator", "debater_a"):
        said = [t["value"]["text"] for t in turns if t["role"] == role and t["value"]]
        assert said == ["one", "two"], role


def test_a_chain_holds_every_partys_serial_model() -> None:
    from behaviorlab.runs._executor import exclusive_models

    spec = exchange_spec()
    roles = spec["parties"][0]["roles"]
    roles["moderator"] = {**MOCK, "label": "m", "model": "mock-m"}
    roles["debater_a"] = {**MOCK, "label": "a", "model": "mock-a"}
    (party_set,) = plan(bl.load_spec(spec), None).simulators
    assert exclusive_models(party_set) == []  # the mock serves calls in parallel
    for role in ("moderator", "debater_a"):  # as a local model's backend does not
        party_set.parties[role].backend.serial = True  # type: ignore[attr-defined]
    held = exclusive_models(party_set)
    assert len(held) == 2 and [id(m) for m in held] == sorted(id(m) for m in held)


def test_the_stand_in_answer_fits_the_schema_in_every_field() -> None:
    import json

    import jsonschema

    from behaviorlab.models import GenerateRequest
    from behaviorlab.runs._probe import placeholder

    schema = {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "said": {"$ref": "#/$defs/Said"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "n": {"allOf": [{"type": "integer"}, {"exclusiveMinimum": 3}]},
        },
        "required": ["reasoning", "said", "tags", "n"],
        "$defs": {
            "Said": {
                "type": "object",
                "properties": {"text": {"type": "string", "minLength": 40}},
                "required": ["text"],
            }
        },
    }
    request = GenerateRequest(prompt="p", json_schema=schema, max_tokens=8)
    value = json.loads(placeholder(request, "lorem ipsum"))
    jsonschema.validate(value, schema)
    # every free string field holds the filler: the field passed on is as long as it may be
    assert value["reasoning"] == "lorem ipsum" and value["said"]["text"].startswith("lorem")


def test_a_measured_answer_length_makes_the_estimate_an_estimate(tmp_path: Path) -> None:
    from behaviorlab.runs._estimate import throughput_from_store
    from behaviorlab.store import ResultStore

    spec = exchange_spec(task_options={"rounds": 3})
    spec["parties"][0]["roles"]["moderator"] = {**MOCK, "label": "m", "model": "mock-m"}
    bounded = asyncio.run(estimate_plan(plan(bl.load_spec(spec), None)))
    assert bounded.bounded == {"scripted-3"} and "at most ~" in bounded.line()
    run = bl.run(spec, out=tmp_path, progress=False)
    store = ResultStore(tmp_path / "exchange3" / "results.sqlite", readonly=True)
    try:
        measured = throughput_from_store(store, run.run_id)
    finally:
        store.close()
    est = asyncio.run(estimate_plan(plan(bl.load_spec(spec), None), throughput=measured))
    assert est.bounded == set() and "at most" not in est.line()
    (cell,), (upper,) = est.cells, bounded.cells
    assert 0 < cell.prompt_tokens < upper.prompt_tokens
