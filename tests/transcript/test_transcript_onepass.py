"""One pass over each transcript with the bundled SmolLM2 (slow): the scores equal per-choice
prompts decoded from scratch within 1e-3 nats, every transcript token is evaluated once when
the options are single tokens, branches are counted, a transcript longer than the context is
windowed and reported apart, and the task plays it through the simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.families.transcript import (
    Session,
    TranscriptTask,
    load_transcripts,
    score_one_pass,
)
from behaviorlab.families.transcript._onepass import nll_close
from behaviorlab.simulators import LLMSimulator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backend() -> Any:
    pytest.importorskip("llama_cpp")
    from behaviorlab.models._llamacpp import LlamaCppBackend

    b = LlamaCppBackend("smollm2", n_ctx=384)
    yield b
    asyncio.run(b.aclose())


def _sessions(tmp_path: Path, make: Any, history: str) -> list[Session]:
    ds = load_transcripts(make.write(tmp_path / "p.jsonl", make.lines(people=2, rounds=3)))
    task = TranscriptTask(history=history)  # type: ignore[arg-type]
    return [task.session(t) for t in task.trials(ds, seed=0)]


def test_one_pass_equals_per_choice(tmp_path: Path, make: Any, backend: Any) -> None:
    for session in _sessions(tmp_path, make, "own"):
        fast, stats = asyncio.run(score_one_pass(backend, session))
        slow, ref = asyncio.run(score_one_pass(backend, session, reference=True))
        assert nll_close(fast, slow) < 1e-3
        # single-letter options: the pass reads each transcript token once, and no branch
        assert stats.evaluated == stats.transcript_tokens and stats.extra == 0
        assert ref.evaluated > 2 * stats.evaluated  # every prompt again from position 0
        assert fast[-1].free_text_nll is not None and fast[-1].free_text_tokens > 1  # type: ignore[operator]


def test_branches_for_multi_token_options_and_shuffled_history(
    tmp_path: Path, make: Any, backend: Any
) -> None:
    words = ("Zorblax", "Quendrith")
    segs = tuple(f"Trial {i}: say Zorblax or Quendrith. You say " for i in range(3))
    session = Session(
        experiment="words",
        segments=(". Intro.\n" + segs[0], *(". " + s for s in segs[1:])),
        options=(words, words, words),
        labels=(words, words, words),
        responses=("Zorblax", "Quendrith", "Quendrith"),
        shown=("Quendrith", "Zorblax", "Zorblax"),  # another participant's, as under shuffled
        history="shuffled",
    )
    fast, stats = asyncio.run(score_one_pass(backend, session))
    slow, _ = asyncio.run(score_one_pass(backend, session, reference=True))
    assert nll_close(fast, slow) < 1e-3
    assert stats.extra > 0 and stats.evaluated == stats.transcript_tokens + stats.extra


def test_long_transcript_is_windowed_and_apart(tmp_path: Path, make: Any, backend: Any) -> None:
    ds = load_transcripts(make.write(tmp_path / "long.jsonl", [make.line("long", 14, seed=2)]))
    task = TranscriptTask()
    trial = task.trials(ds, seed=0)[0]
    sim = LLMSimulator(backend=backend, answer="score")
    answer = asyncio.run(task.play(trial, sim))
    assert answer.meta["mode"] == "windowed" and answer.meta["windowed_choices"] == 15
    assert all(c["windowed"] for c in answer.value["choices"])  # type: ignore[index]
    scores = task.score(trial, answer)
    assert "nll_sum" not in scores and scores["n_windowed"] == 14


def test_one_pass_equals_per_choice_on_real_data(shared_data: Path) -> None:
    """The third risky-choice participant: choice 8's prompt has 577 tokens, so evaluated from
    scratch in 64-token batches its last batch held one token, which llama.cpp computes on
    another path (0.0248 nats off the one-pass NLL before prompts stopped ending in a batch
    of one; docs/backends.md)."""
    from behaviorlab.families.transcript import prompt_for
    from behaviorlab.models._llamacpp import LlamaCppBackend

    backend = LlamaCppBackend("smollm2", n_ctx=1024, prefix_reuse=False)
    try:
        ds = load_transcripts(
            shared_data, experiments=["Thoma_et_al_2025_risky_choice"], participants=3
        )
        task = TranscriptTask()
        session = task.session(task.trials(ds, seed=0)[2])
        lengths = [len(backend.prompt_tokens(prompt=prompt_for(session, k))) for k in range(9)]
        assert lengths[7] % 64 == 1  # the case that differed is in this session
        fast, stats = asyncio.run(score_one_pass(backend, session))
        slow, _ = asyncio.run(score_one_pass(backend, session, reference=True))
    finally:
        asyncio.run(backend.aclose())
    assert len(fast) == 9 and all(r.nll is not None for r in fast)
    assert nll_close(fast, slow) < 1e-6
    assert stats.evaluated == stats.transcript_tokens and stats.one_pass
