"""The LLM simulator's structured path on next_action trials (mock backend)."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import pytest

from behaviorlab.data import Dataset, load_opera, make_synthetic_opera
from behaviorlab.families.next_action import NextActionPrompting, NextActionTask, validation_schema
from behaviorlab.models import MockBackend
from behaviorlab.simulators import LLMSimulator
from behaviorlab.simulators._llm import parse_structured
from behaviorlab.simulators._prompts import schema_problem, structured_prompt
from behaviorlab.tasks import Trial


@pytest.fixture(scope="module")
def trials(tmp_path_factory: pytest.TempPathFactory) -> list[Trial]:
    root: Path = make_synthetic_opera(
        tmp_path_factory.mktemp("opera"), users=3, sessions_per_user=1
    )
    shop: Dataset = load_opera(root).dataset
    return NextActionTask(budget=None).trials(shop, seed=0)


def test_prompt_persona_and_history_first_page_last(trials: list[Trial]) -> None:
    t = next(x for x in trials if x.step_index == 3)
    system, user = structured_prompt(t.input).messages
    assert system.role == "system" and user.role == "user"
    assert system.content.startswith(t.input.instructions)
    assert t.input.persona is not None and t.input.persona.description
    assert system.content.endswith("About you:\n" + t.input.persona.description)
    history = user.content.index("What you did so far in this session:\n1. on ")
    page = user.content.index("What you see now:\n" + t.input.observation.content)
    reply = user.content.index("Reply in JSON with these fields:\n- action_type: ")
    assert history < page < reply
    for step in t.input.history:
        assert step.action.target is None or step.action.target in user.content
        if step.rationale is not None:
            assert f'(why: "{step.rationale.text}")' in user.content
    bare = t.input.model_copy(update={"persona": None, "history": []})
    system, user = structured_prompt(bare).messages
    assert "About you" not in system.content
    assert user.content.startswith("This is the start of your session")


def test_consecutive_steps_share_the_prompt_prefix(trials: list[Trial]) -> None:
    session = [t for t in trials if t.episode_id == trials[0].episode_id]
    prompts = [structured_prompt(t.input).messages for t in session]
    assert len({p[0].content for p in prompts}) == 1  # the system message never changes
    for before, after in itertools.pairwise(prompts[1:]):  # the first has no history
        head = before[1].content.split("\n\nWhat you see now:")[0]
        assert after[1].content.startswith(head + "\n")  # one more history line, same start


def test_generate_gives_a_valid_action_on_the_page(trials: list[Trial]) -> None:
    sim = LLMSimulator(MockBackend(), answer="generate")
    task = NextActionTask()
    for t in trials[:12]:
        ans = asyncio.run(sim.answer(t.input))
        assert ans.ok and ans.value is not None and ans.calls == 1
        assert schema_problem(ans.value, validation_schema(t.input.answer_schema)) is None
        ids = t.input.answer_schema["properties"]["semantic_id"]["enum"]
        assert ans.value["semantic_id"] in ids
        kind = ans.value["action_type"]
        assert ans.choice == (
            "terminate"
            if kind == "terminate"
            else f"input:{ans.value['semantic_id']}={ans.value['input_text']}"
            if kind == "input"
            else f"click:{ans.value['semantic_id']}"
        )
        assert json.loads(ans.raw) == ans.value
        scores = task.score(t, ans)
        assert set(scores) >= {"correct", "action_type_correct", "reachable"}


def test_sample_mode_counts_samples(trials: list[Trial]) -> None:
    sim = LLMSimulator(MockBackend(), answer="sample", n=5, temperature=1.0)
    ans = asyncio.run(sim.answer(trials[4].input))
    assert ans.ok and ans.samples is not None and len(ans.samples) == 5 and ans.calls == 5
    top = max(ans.samples.count(c) for c in ans.samples)
    assert ans.choice == next(c for c in ans.samples if ans.samples.count(c) == top)
    assert ans.meta["invalid_samples"] == 0


def test_score_mode_is_refused_clearly(trials: list[Trial]) -> None:
    sim = LLMSimulator(MockBackend(), answer="score")
    with pytest.raises(ValueError, match="answer: generate or answer: sample"):
        sim.fit(trials)
    ans = asyncio.run(sim.answer(trials[0].input))
    assert ans.error_kind == "invalid" and "answer mode 'score'" in (ans.error or "")


def test_invalid_and_failed_outputs_are_answers_not_exceptions(trials: list[Trial]) -> None:
    confused = LLMSimulator(MockBackend(invalid_rate=1.0), answer="generate")
    bad = asyncio.run(confused.answer(trials[0].input))
    assert bad.error_kind == "invalid" and bad.raw == "I'd rather not say." and bad.value is None
    broken = LLMSimulator(MockBackend(fail_rate=1.0), answer="generate")
    down = asyncio.run(broken.answer(trials[0].input))
    assert down.error_kind == "backend" and "injected failure" in (down.error or "")


def test_parse_structured_checks_the_schema(trials: list[Trial]) -> None:
    schema = trials[0].input.answer_schema
    na = NextActionPrompting()

    def parse(value: object) -> object:
        return parse_structured(value if isinstance(value, str) else json.dumps(value), schema, na)

    ok = {
        "action_type": "click",
        "click_type": "search",
        "semantic_id": schema["properties"]["semantic_id"]["enum"][0],
        "input_text": "",
        "rationale": "because",
    }
    assert parse(ok) == ok
    assert parse({**ok, "semantic_id": "made.up"}) is None
    assert parse({**ok, "action_type": "scroll"}) is None
    assert parse({**ok, "click_type": "made_up"}) is None  # a click needs a listed click type
    assert parse({**ok, "input_text": 3}) is None  # strings stay strings
    assert parse("{not json") is None
    assert parse({k: v for k, v in ok.items() if k != "click_type"}) is None
    # the deliberate exemptions: an off-list click type on a non-click, a target off the page
    # on a terminate; a rationale over its generation cap is still an answer
    leave = {**ok, "action_type": "terminate", "semantic_id": "", "click_type": "none"}
    assert parse(leave) == leave
    typed = {**ok, "action_type": "input", "click_type": "none", "input_text": "socks"}
    assert parse(typed) == typed
    assert parse({**typed, "semantic_id": "made.up"}) is None  # an input still needs a target
    long = {**ok, "rationale": "x" * 500}
    assert parse(long) == long
    # without the task's prompting, the plain schema holds: no exemption
    assert parse_structured(json.dumps(leave), schema) is None


def test_identity_names_both_templates() -> None:
    ident = LLMSimulator(MockBackend(), answer="generate").identity()
    assert len(ident["prompt_template_hash"]) == len(ident["structured_template_hash"]) == 16
