from __future__ import annotations

import asyncio
import math

from behaviorlab.data import Dataset
from behaviorlab.families.survey import SurveyTask
from behaviorlab.models import CallCache, MockBackend
from behaviorlab.simulators import LLMSimulator
from behaviorlab.simulators._prompts import option_prompt


def _trials(survey: Dataset):  # type: ignore[no-untyped-def]
    return SurveyTask().trials(survey, seed=0)


def test_prompt_letters_follow_shown_order_and_persona_comes_first(survey: Dataset) -> None:
    t = _trials(survey)[1].input
    p = option_prompt(t, mode="score", score_on="label")
    user = p.messages[1].content
    assert user.startswith("About you:\n" + (t.persona.description if t.persona else ""))
    for letter, option in zip(p.letters, t.observation.options or [], strict=True):
        assert f"{letter}. {option.label}" in user
    assert p.code_of_letter("b") == p.codes[1]
    assert p.code_of_letter("Z") is None
    no_persona = option_prompt(
        t.model_copy(update={"persona": None}), mode="score", score_on="label"
    )
    assert "About you" not in no_persona.messages[1].content


def test_score_mode_gives_a_distribution_and_argmax_choice(survey: Dataset) -> None:
    sim = LLMSimulator(MockBackend(), answer="score")
    for trial in _trials(survey)[:10]:
        ans = asyncio.run(sim.answer(trial.input))
        assert ans.ok and ans.probabilities is not None
        assert math.isclose(sum(ans.probabilities.values()), 1.0)
        assert set(ans.probabilities) == set(trial.input.observation.option_codes())
        assert ans.choice == max(ans.probabilities, key=ans.probabilities.__getitem__)


def test_generate_mode_invalid_output_is_stored_not_raised(survey: Dataset) -> None:
    sim = LLMSimulator(MockBackend(invalid_rate=1.0), answer="generate")
    ans = asyncio.run(sim.answer(_trials(survey)[0].input))
    assert not ans.ok and ans.error_kind == "invalid"
    assert ans.raw == "I'd rather not say."
    assert ans.choice is None


def test_backend_failure_is_an_answer_with_error(survey: Dataset) -> None:
    sim = LLMSimulator(MockBackend(fail_rate=1.0), answer="score")
    ans = asyncio.run(sim.answer(_trials(survey)[0].input))
    assert ans.error_kind == "backend" and "injected failure" in (ans.error or "")


def test_sample_mode_distribution_from_samples(survey: Dataset) -> None:
    sim = LLMSimulator(MockBackend(), answer="sample", n=8, temperature=1.0)
    ans = asyncio.run(sim.answer(_trials(survey)[1].input))
    assert ans.samples is not None and len(ans.samples) == 8
    assert ans.calls == 8
    top = max(ans.samples.count(c) for c in ans.samples)
    # the most frequent sample; ties go to the one sampled first
    assert ans.choice == next(c for c in ans.samples if ans.samples.count(c) == top)


def test_cache_reports_hits(survey: Dataset, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = CallCache(tmp_path / "c.sqlite")
    sim = LLMSimulator(MockBackend(), answer="score", cache=cache)
    t = _trials(survey)[0].input
    first = asyncio.run(sim.answer(t))
    second = asyncio.run(sim.answer(t))
    assert (first.cache_hits, second.cache_hits) == (0, 1)
    assert first.probabilities == second.probabilities


def test_identity_records_mode_and_template() -> None:
    ident = LLMSimulator(MockBackend("m"), answer="score", length_norm="sum").identity()
    assert ident["answer"] == "score" and ident["length_norm"] == "sum"
    assert ident["model"]["model"] == "m" and len(ident["prompt_template_hash"]) == 16


def test_other_tasks_are_framed_by_their_instructions_and_persona_is_the_only_difference(
    survey: Dataset,
) -> None:
    t = _trials(survey)[1].input
    survey_prompt = option_prompt(t, mode="score", score_on="label")
    assert survey_prompt.messages[0].content.startswith("You are simulating one specific person")
    rules = "You are an AI system facing the situation below."
    dilemma = t.model_copy(update={"task": "scenario", "instructions": rules})
    full = option_prompt(dilemma, mode="score", score_on="label")
    bare = option_prompt(
        dilemma.model_copy(update={"persona": None}), mode="score", score_on="label"
    )
    assert full.messages[0].content == bare.messages[0].content == rules
    persona_block = full.messages[1].content.removesuffix(bare.messages[1].content)
    assert persona_block.startswith("About you:") and persona_block.endswith("\n\n")
    assert full.messages[1].content == persona_block + bare.messages[1].content


def test_a_failed_call_keeps_the_usage_and_cost_of_the_calls_before_it(survey: Dataset) -> None:
    from behaviorlab.models import BackendError, Generation, Pricing

    def fails_third() -> MockBackend:
        """Two calls of 10 prompt and 2 output tokens, then a failure."""
        used = Generation(text="A", tokens_in=10, tokens_out=2)
        backend = MockBackend(script=[used, used, BackendError("HTTP 503 after 4 attempts")])
        backend.pricing = Pricing(input_per_mtok=1e6, output_per_mtok=0.0)  # 1 per token in
        return backend

    t = _trials(survey)[0].input
    for structured in (False, True):
        trial = (
            t.model_copy(update={"observation": t.observation.model_copy(update={"options": None})})
            if structured
            else t
        )
        if structured:
            trial = trial.model_copy(
                update={
                    "answer_schema": {
                        "type": "object",
                        "properties": {"answer": {"type": "string"}},
                        "required": ["answer"],
                    }
                }
            )
        sim = LLMSimulator(fails_third(), answer="sample", n=4)
        a = asyncio.run(sim.answer(trial))
        assert a.error == "HTTP 503 after 4 attempts" and a.error_kind == "backend"
        assert (a.calls, a.tokens_in, a.tokens_out, a.cost) == (3, 20, 4, 20.0)
