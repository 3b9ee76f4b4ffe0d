"""Embedded llama.cpp backend: a bundled model (SmolLM2, Gemma 3 270M) or any local GGUF file.

``llama_cpp`` is imported on the first call only, so this module imports without the ``llm``
extra. How it works, and why:

* **One prompt rendering for generation and scoring.** Chat messages are rendered with the
  chat template stored in the GGUF (``tokenizer.chat_template``, through llama_cpp's
  ``Jinja2ChatFormatter``, opening the assistant turn) and tokenised with special tokens
  parsed and no BOS added, exactly as ``Llama.create_chat_completion`` does; raw prompts get
  the BOS token if the GGUF asks for one. Generation then runs ``create_completion`` on those
  very tokens, so an option scored and an option generated follow the same prompt. A GGUF
  without a chat template (a base model such as Gemma 3 270M) refuses chat requests instead
  of falling back, as llama_cpp does, to a Llama-2 template the model never saw.
* **Scoring without ``logits_all``.** ``Llama(logits_all=True)`` keeps an ``n_ctx × n_vocab``
  float32 array (400 MB for SmolLM2 at n_ctx=2048, 2.1 GB for Gemma's 262k vocabulary) and
  computes the output layer for every token, which slowed prompt evaluation by ~17% and each
  generated token by ~25% in bench/constrained_json.py. We load with ``logits_all=False`` and
  read logits ourselves: the last prompt token's logits give each continuation's first token;
  a continuation's other tokens are decoded in one batch after the prompt (KV cache of the
  prompt reused, positions past it removed first) with logits requested for every position.
* **Continuations are tokenised on their own** (``add_bos=False, special=False``) and appended
  to the prompt's tokens: the score is log P(continuation tokens | prompt tokens), never a
  tokenisation that merges across the boundary. Put the separating space in the continuation
  (``" A"`` after ``"Answer:"``), as lm-evaluation-harness does.
* **Deterministic prefix reuse.** Calls that share a prompt prefix (the same persona, a
  session's growing history) reuse its KV entries, but only whole blocks of ``_BLOCK`` tokens
  counted from position 0, and prompts are always evaluated in those blocks: every token's KV
  values then come from the same batch whatever ran before, so results do not depend on call
  order (except that a prompt never ends in a batch of one token: its last token but one is
  read with it, since llama.cpp computes a one-token batch on another path whose logits
  differ; batches of 2..64 give the same bits). Only a prompt's whole blocks are kept for
  reuse: generated tokens (decoded one at a time) and scored continuations never are.
  Generation and scoring share the states. Each generation records
  ``meta["prompt_tokens_reused"]`` and ``meta["prompt_tokens_evaluated"]``;
  :attr:`LlamaCppBackend.prefix_stats` keeps totals over all calls. We evaluate the prompt
  ourselves before ``create_completion``, whose own prefix match (``Llama.generate``) then
  finds the whole prompt cached and samples at once, grammar or not. ``prefix_reuse=False``
  re-reads every prompt from scratch (benchmarks, checks). Nothing relies on outputs being
  bit-identical: the call cache keys on the request and the model, never on an output.
* **Many points of one text** (:meth:`LlamaCppBackend.score_positions`, a transcript's every
  choice): one decode of the text, see :mod:`~behaviorlab.models._llamacpp_pass`.
* **Several prompt states, saved and restored** (``kv_slots``, default 4). Parties of one
  trial who take turns (debaters, a moderator) share little with the previous call, which is
  another party's, so one cache would make each re-read its whole prompt. The backend keeps
  up to ``kv_slots`` prompt states (:class:`~behaviorlab.models._prefix.KvSlots`): a call
  continues from the one it shares the longest reusable prefix with (ties: the one in the
  cache, then the most recent), a prompt that extends a state replaces it, and the least
  recently used state is evicted beyond ``kv_slots``. The cache itself holds one sequence
  (id 0) of one state; the others are copies of their KV entries made with
  ``llama_state_seq_get_data`` when a call is about to overwrite them, loaded back with
  ``llama_state_seq_set_data``. Measured with SmolLM2 (2 busy cores, a 768-token state): a
  state takes 22.5 KiB per token (17 MiB), saving it 13 ms and loading it 3 ms, against
  about 4 s to re-read that prompt; the restored entries sit at positions 0.. as after a
  fresh evaluation and gave bit-identical logits. The alternatives cost more:
  ``Llama.save_state`` copies the whole context plus a logits array (30 MiB, 40 ms each way);
  several sequence ids in one context need a context of ``kv_slots × n_ctx`` cells allocated
  up front (180 MiB for 4 × 2048), and a unified cache makes every token attend over all
  sequences' cells (generation 28 ms per token beside three 800-token sequences, 16 ms
  alone), while a split cache (one stream per sequence) copies only whole streams
  (``seq_cp`` of a partial range aborts) and ``Llama`` evaluates and samples on sequence 0
  only, so a call would still copy its state there. Memory here is what the saved states
  hold: at most ``kv_slots`` prompts, each at most ``n_ctx`` tokens (46 MiB at 2048 for
  SmolLM2, so at most 184 MiB with the default 4 slots); ``bench/party_prefix.py`` (4 parties,
  5 rounds) measured 3 states saved at once, 77.4 MiB, and evaluated ÷ new prompt tokens of
  1.012 with 4 slots against 2.950 with one, greedy outputs equal to from-scratch in 20/20.
  HTTP backends keep no such states here: they rely on the server's prefix caching, and a
  party's prompt keeps its shared part (setting, persona) first so that caching can work.
* **Sampling** is plain temperature + nucleus (top_p) sampling over the whole vocabulary, like
  the OpenAI API: llama_cpp's own defaults (top_k=40, min_p=0.05, and repeat_penalty=1.1 in
  chat) would silently truncate the answer distribution we are trying to measure. Temperature
  0 is greedy. The sampler seed is the request's seed (mixed with the backend's ``seed`` when
  that is not 0), never llama.cpp's "random" seed 0xFFFFFFFF.
* **JSON schema** → a GBNF grammar from ``LlamaGrammar.from_json_schema``, passed as
  ``grammar=``. (``response_format={"type": "json_object", "schema": ...}`` silently falls back
  to "any JSON" when the schema cannot be converted; we raise instead.)
* **CPU weight repacking is off** (:func:`_new_llama`): with it, Gemma's Q4_K weights give
  logits that depend on how many tokens share a batch, so scores would depend on prompt length.
* ``OMP_WAIT_POLICY=PASSIVE`` is set (unless already set) before llama_cpp is imported: see
  :func:`_import_llama_cpp`; without it a busy 2-core machine runs llama.cpp 10-50x slower.
* llama.cpp is not thread-safe: every call runs in a worker thread (``asyncio.to_thread``)
  under an ``asyncio.Lock`` (so waiting calls do not hold threads) and a ``threading.Lock``
  (so a call whose awaiting task was cancelled still finishes before the next one starts).
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import json
import mmap
import os
import struct
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import numpy as np
import numpy.typing as npt

from behaviorlab.models._base import (
    Backend,
    BackendError,
    Capability,
    ContextWindowError,
    GenerateRequest,
    Generation,
    Message,
    MissingExtraError,
    ModelIdentity,
    PositionsRequest,
    PositionsResult,
    ScoreRequest,
    ScoreResult,
    UnsupportedError,
    backend,
)
from behaviorlab.models._bundled import (
    BUNDLED_MODELS,
    BundledName,
    locate_bundled,
    sha256_file,
)
from behaviorlab.models._llamacpp_pass import clear, logits_row, read_once
from behaviorlab.models._llamacpp_pass import log_softmax as _log_softmax
from behaviorlab.models._prefix import KvSlots, PrefixStats, PromptReuse

T = TypeVar("T")

_CHAT_TEMPLATE_KEY = "tokenizer.chat_template"
_BLOCK = 64
"""Prompt evaluation batch size, and the granularity of KV-cache reuse between calls."""
_RANDOM_SEED = 0xFFFFFFFF
"""llama.cpp's LLAMA_DEFAULT_SEED: a sampler given it draws a random seed."""
_CHAT_CAPABILITIES: frozenset[Capability] = frozenset({"chat", "generate", "json_schema", "score"})
_BASE_CAPABILITIES: frozenset[Capability] = frozenset({"generate", "json_schema", "score"})


def _import_llama_cpp() -> Any:
    # llama.cpp's OpenMP threads spin while they wait for each other. When the machine has
    # other work (a test suite, a second run), a spinning thread keeps its peer off the CPU:
    # on our 2-core machine prompt evaluation fell from ~100 to ~12 tokens/s and generation
    # took 0.4-1.5 s per token. Sleeping waiters ("PASSIVE") keep ~100 tokens/s. OpenMP reads
    # this once, when llama.cpp's libraries load, so it must be set before the first import.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as e:
        raise MissingExtraError("the llamacpp backend", "llm", "llama-cpp-python") from e
    return llama_cpp


@backend("llamacpp")
class LlamaCppBackend(Backend):
    """Embedded llama.cpp: a bundled model (smollm2, gemma3-270m) or a local .gguf file.

    ``model`` is a bundled model name or the path of a GGUF file. ``n_ctx`` is the context
    window in tokens (prompt + answer), ``n_threads`` the CPU threads (llama.cpp's default if
    None), ``seed`` a base seed mixed into every request's seed (0: use the request's seed
    as is), ``prefix_reuse`` whether calls reuse the KV entries of a shared prompt prefix
    (False: every prompt is read from scratch; results agree either way), ``kv_slots`` how
    many prompt states are kept for that (one per party that takes turns; each saved state
    holds its prompt's KV entries, 22.5 KiB per token for SmolLM2). Neither changes results,
    so neither is part of the model's identity. The model is loaded on the first call.
    """

    name: ClassVar[str] = "llamacpp"
    capabilities: ClassVar[frozenset[Capability]] = _CHAT_CAPABILITIES
    serial: ClassVar[bool] = True
    """One call at a time on one KV cache: the runner keeps a session's calls together on it."""

    def __init__(
        self,
        model: str | Path = "smollm2",
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
        prefix_reuse: bool = True,
        kv_slots: int = 4,
        verbose: bool = False,
    ) -> None:
        if kv_slots < 1:
            raise ValueError(f"kv_slots must be at least 1, got {kv_slots}")
        if isinstance(model, str) and model in BUNDLED_MODELS:
            self.path = locate_bundled(cast(BundledName, model))
            self.model = model
            self._label = BUNDLED_MODELS[model].title
            chat = BUNDLED_MODELS[model].chat
        else:
            path = Path(model).expanduser()
            if not path.is_file():
                raise FileNotFoundError(
                    f"no model file at {str(path)!r}: give the path of a .gguf file or a "
                    f"bundled model name ({', '.join(BUNDLED_MODELS)})"
                )
            self.path, self.model, self._label = path, path.name, path.name
            chat = gguf_has_chat_template(path)
        if not chat:
            # Per instance: whether the model can chat depends on its file.
            self.capabilities = _BASE_CAPABILITIES  # type: ignore[misc]
        self.n_ctx, self.n_threads, self.seed, self.verbose = n_ctx, n_threads, seed, verbose
        self.prefix_reuse = prefix_reuse
        self.prefix_stats = PrefixStats()
        """Prompt tokens reused from the KV cache and evaluated, summed over all calls."""
        self.kv_slots = kv_slots
        self.prompt_states: KvSlots[Any] = KvSlots(kv_slots, _BLOCK)
        """The prompt states kept for reuse (saved ones: ``ctypes`` byte arrays)."""
        self._llm: Any = None  # llama_cpp.Llama, loaded on first use
        self._chat_formatter: Any = None  # llama_chat_format.Jinja2ChatFormatter or None
        self._grammars: dict[str, Any] = {}
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    # -- Backend interface ------------------------------------------------------------------

    def identity(self) -> ModelIdentity:
        return ModelIdentity(
            backend=self.name,
            model=self.model,
            sha256=sha256_file(self.path),
            params={"n_ctx": self.n_ctx, "seed": self.seed},
        )

    async def generate(self, request: GenerateRequest) -> Generation:
        return await self._run(self._generate_sync, request)

    async def score(self, request: ScoreRequest) -> ScoreResult:
        return await self._run(self._score_sync, request)

    async def score_positions(self, request: PositionsRequest) -> PositionsResult:
        """Read the text once (:func:`~behaviorlab.models._llamacpp_pass.read_once`): one
        decode from position 0 with logits only where a scored token is predicted."""
        return await self._run(self._positions_sync, request)

    async def aclose(self) -> None:
        await self._run(self._close_sync)

    # -- Serialised execution ---------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        lock = self._loop_locks.get(loop)
        if lock is None:
            lock = self._loop_locks[loop] = asyncio.Lock()
        async with lock:
            return await asyncio.to_thread(self._locked, fn, *args)

    def _locked(self, fn: Callable[..., T], *args: Any) -> T:
        with self._thread_lock:
            return fn(*args)

    def _close_sync(self) -> None:
        self.prompt_states.clear()
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    def _load(self) -> Any:
        if self._llm is not None:
            return self._llm
        llama_cpp = _import_llama_cpp()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        threads = {} if self.n_threads is None else {"n_threads": self.n_threads}
        if self.n_threads is not None:
            threads["n_threads_batch"] = self.n_threads
        llm = _new_llama(
            llama_cpp,
            model_path=str(self.path),
            n_ctx=self.n_ctx,
            n_batch=_BLOCK,
            logits_all=False,
            verbose=self.verbose,
            **threads,
        )
        template = llm.metadata.get(_CHAT_TEMPLATE_KEY)
        if template:
            self._chat_formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=_token_text(llm, llm.token_eos()),
                bos_token=_token_text(llm, llm.token_bos()),
                add_generation_prompt=True,
            )
        self._llm = llm
        return llm

    # -- Prompts ----------------------------------------------------------------------------

    def _prompt_tokens(
        self, llm: Any, messages: list[Message] | None, prompt: str | None
    ) -> list[int]:
        if messages is not None:
            text = self._render_chat(messages)
            return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        assert prompt is not None  # the request validates that exactly one is given
        return list(llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))

    def prompt_tokens(
        self, messages: Sequence[Message] | None = None, prompt: str | None = None
    ) -> list[int]:
        """The token ids the model reads for a chat (``messages``) or raw ``prompt``, exactly as
        :meth:`generate` and :meth:`score` build them (loads the model)."""
        if (messages is None) == (prompt is None):
            raise ValueError("give exactly one of messages= or prompt=")
        chat = None if messages is None else list(messages)
        return self._locked(lambda: self._prompt_tokens(self._load(), chat, prompt))

    def render_chat(self, messages: Sequence[Message]) -> str:
        """The chat prompt as the model sees it: the GGUF's template applied to ``messages``,
        with the assistant turn opened (loads the model)."""
        return self._locked(self._render_chat, messages)

    def _render_chat(self, messages: Sequence[Message]) -> str:
        self._load()
        if self._chat_formatter is None:
            raise UnsupportedError(
                f"{self._label} is a base model without a chat template: give a raw prompt "
                "(prompt=...) and score options (answer: score) instead of chat messages"
            )
        if messages and messages[-1].role == "assistant":
            raise UnsupportedError(
                "the last chat message is an assistant turn; to score or continue a partial "
                "answer, put that text at the start of each continuation instead"
            )
        rendered = self._chat_formatter(messages=[m.model_dump() for m in messages])
        return str(rendered.prompt)

    def _eval_prompt(self, llm: Any, tokens: list[int]) -> PromptReuse:
        """Evaluate ``tokens``, continuing from the kept prompt state that shares the most
        whole ``_BLOCK``-token blocks with them (loaded into the cache if need be)."""
        if self.prefix_reuse:
            reused = self.prompt_states.prepare(_SeqZero(llm), tokens)
        else:
            self.prompt_states.clear()
            reused = 0
        # A batch of one token takes another llama.cpp code path, whose logits differ from a
        # batch of several (up to 0.5 nats on a vocabulary entry with SmolLM2), while batches
        # of 2..64 give the same bits: the last batch of a prompt always holds 2 tokens or
        # more, re-reading the last reused token if need be (docs/backends.md).
        if len(tokens) - reused == 1 and reused > 0:
            reused -= 1
        llm.input_ids[:reused] = tokens[:reused]  # what Llama.generate compares the prompt with
        llm.n_tokens = reused
        todo = tokens[reused:]
        if len(todo) % _BLOCK == 1 and len(todo) > 1:
            llm.eval(todo[:-2])
            todo = todo[-2:]
        llm.eval(todo)  # removes KV entries from n_tokens on, then decodes
        if self.prefix_reuse:
            self.prompt_states.commit(tokens)
        call = PromptReuse(reused=reused, evaluated=len(tokens) - reused)
        self.prefix_stats.add(call)
        return call

    def _check_fits(self, n_prompt: int, n_more: int, what: str) -> None:
        if n_prompt == 0:
            raise BackendError("the prompt is empty (0 tokens); nothing to condition on")
        if n_prompt + n_more > self.n_ctx:
            raise BackendError(
                f"the prompt has {n_prompt} tokens and {what} {n_more} more, which exceeds the "
                f"context window n_ctx={self.n_ctx}; shorten the prompt or raise n_ctx "
                f"(backend option n_ctx: {max(2 * self.n_ctx, n_prompt + n_more)})"
            )

    # -- Generation -------------------------------------------------------------------------

    def _generate_sync(self, request: GenerateRequest) -> Generation:
        if request.max_tokens < 1:
            raise BackendError(f"max_tokens must be at least 1, got {request.max_tokens}")
        if request.temperature < 0:
            raise BackendError(f"temperature must be >= 0, got {request.temperature}")
        llm = self._load()
        tokens = self._prompt_tokens(llm, request.messages, request.prompt)
        self._check_fits(len(tokens), request.max_tokens, "max_tokens asks for")
        grammar = None if request.json_schema is None else self._grammar(request.json_schema)
        reuse = self._eval_prompt(llm, tokens)  # create_completion finds the prompt cached
        out = llm.create_completion(
            prompt=tokens,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            top_k=0,
            min_p=0.0,
            typical_p=1.0,
            repeat_penalty=1.0,
            seed=sampling_seed(self.seed, request.seed),
            stop=list(request.stop),
            grammar=grammar,
        )
        choice = out["choices"][0]
        return Generation(
            text=choice["text"],
            tokens_in=len(tokens),
            tokens_out=int(out["usage"]["completion_tokens"]),
            finish_reason=choice["finish_reason"],
            meta=reuse.as_meta(),
        )

    def _grammar(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema)  # property order matters: it is the order of the output
        if key not in self._grammars:
            from llama_cpp.llama_grammar import LlamaGrammar

            try:
                self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=self.verbose)
            except Exception as e:  # the converter raises bare Exceptions
                raise BackendError(f"cannot turn this JSON schema into a grammar: {e}") from e
        return self._grammars[key]

    # -- Scoring ----------------------------------------------------------------------------

    def _score_sync(self, request: ScoreRequest) -> ScoreResult:
        llm = self._load()
        prompt = self._prompt_tokens(llm, request.messages, request.prompt)
        conts = [
            list(llm.tokenize(c.encode("utf-8"), add_bos=False, special=False))
            for c in request.continuations
        ]
        longest = max(len(c) for c in conts)
        self._check_fits(len(prompt), longest, "the longest continuation adds")
        self._eval_prompt(llm, prompt)
        first = _log_softmax(_logits_row(llm, -1))
        logprobs = []
        for cont in conts:
            total = float(first[cont[0]]) if cont else 0.0
            if len(cont) > 1:
                rows = _log_softmax(_decode_all(llm, cont[:-1], n_past=len(prompt)))
                total += float(rows[np.arange(len(cont) - 1), cont[1:]].sum())
            logprobs.append(total)
        # The KV cache now holds the prompt then the last continuation; the next eval removes
        # everything from n_tokens on, so only the prompt counts as cached.
        llm.n_tokens = len(prompt)
        return ScoreResult(
            logprobs=logprobs, n_tokens=[len(c) for c in conts], tokens_in=len(prompt)
        )

    def _positions_sync(self, request: PositionsRequest) -> PositionsResult:
        llm = self._load()
        tokens: list[int] = []
        ends: list[int] = []
        for i, piece in enumerate(request.pieces):
            tokens += llm.tokenize(piece.encode("utf-8"), add_bos=i == 0, special=True)
            ends.append(len(tokens))
        conts = [
            [
                list(llm.tokenize(c.encode("utf-8"), add_bos=False, special=False))
                for c in p.continuations
            ]
            for p in request.points
        ]
        longest = max(len(c) for cs in conts for c in cs)
        if len(tokens) + longest > self.n_ctx:
            raise ContextWindowError(
                f"the text has {len(tokens)} tokens and its longest continuation {longest} more, "
                f"which exceeds the context window n_ctx={self.n_ctx}: raise n_ctx or score a "
                "shorter text",
                n_tokens=len(tokens) + longest,
                n_ctx=self.n_ctx,
            )
        starts = [ends[p.after - 1] for p in request.points]
        if 0 in starts:
            raise BackendError("a point of the request has no text before it (0 tokens)")
        self.prompt_states.clear()  # the pass overwrites sequence 0
        try:
            sums, evaluated = read_once(_import_llama_cpp(), llm, _BLOCK, tokens, starts, conts)
        finally:
            clear(_import_llama_cpp(), llm, 0)
            llm.n_tokens = 0
        self.prefix_stats.add(PromptReuse(reused=0, evaluated=evaluated))
        scores = [
            ScoreResult(logprobs=lps, n_tokens=[len(c) for c in cs], tokens_in=start)
            for lps, cs, start in zip(sums, conts, starts, strict=True)
        ]
        return PositionsResult(
            scores=scores, tokens_in=len(tokens), evaluated=evaluated, one_pass=True
        )


# -- llama.cpp helpers ------------------------------------------------------------------------


_LOAD_LOCK = threading.Lock()


def _new_llama(llama_cpp: Any, **kwargs: Any) -> Any:
    """``llama_cpp.Llama(**kwargs)`` with llama.cpp's CPU weight repacking turned off.

    Repacked Q4_K weights (Gemma's Q4_K_M) go through a different matrix kernel for batches of
    16 tokens or more, so a token's logits depend on how many tokens were decoded with it: up
    to 0.7 nats on some vocabulary entries, 0.06 on an option's log-probability. Without
    repacking, logits are the same whatever the batch; speed differed by less than our
    measurement noise (~10%) on a 2-core machine. SmolLM2 (Q4_1) is never repacked.
    ``Llama`` has no parameter for it, so the model defaults it reads are swapped for the
    duration of the load, under a lock.
    """
    low = llama_cpp.llama_cpp
    original = low.llama_model_default_params

    def defaults() -> Any:
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    with _LOAD_LOCK:
        low.llama_model_default_params = defaults
        try:
            return llama_cpp.Llama(**kwargs)
        finally:
            low.llama_model_default_params = original


class _SeqZero:
    """The KV cache's sequence 0 (the one ``Llama`` evaluates in) as a
    :class:`~behaviorlab.models._prefix.KvContext`: states are byte copies of its entries."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm

    def save(self, n_tokens: int) -> Any:
        llama_cpp = _import_llama_cpp()
        ctx = self._llm.ctx
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), 0, n_tokens, -1)
        size = int(llama_cpp.llama_state_seq_get_size(ctx, 0))
        state = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_seq_get_data(ctx, state, size, 0))
        if written != size:
            raise BackendError(f"llama.cpp saved {written} of {size} bytes of a prompt state")
        return state

    def restore(self, state: Any) -> bool:
        """Load ``state`` into sequence 0 (llama.cpp clears the sequence first)."""
        llama_cpp = _import_llama_cpp()
        return int(llama_cpp.llama_state_seq_set_data(self._llm.ctx, state, len(state), 0)) > 0


def _token_text(llm: Any, token: int) -> str:
    if token < 0:
        return ""
    return bytes(llm.detokenize([token], special=True)).decode("utf-8", errors="replace")


def _logits_row(llm: Any, i: int) -> npt.NDArray[np.float32]:
    return logits_row(_import_llama_cpp(), llm, i)


def _decode_all(llm: Any, tokens: list[int], n_past: int) -> npt.NDArray[np.float32]:
    """Decode ``tokens`` at positions ``n_past..`` (after dropping the KV cache from ``n_past``
    on) and return the logits after every one of them, shape ``(len(tokens), n_vocab)``.

    ``Llama.eval`` cannot do this with ``logits_all=False`` (it asks for the last logits only),
    so we build the batch with llama.cpp's C API. ``llm.n_tokens`` is left alone: the caller
    resets it to the prompt length.
    """
    llama_cpp = _import_llama_cpp()
    ctx = llm.ctx
    lead = 1 if len(tokens) % llm.n_batch == 1 and n_past > 0 else 0
    if lead:  # no one-token batch (see _eval_prompt): re-read the token before
        tokens = [int(llm.input_ids[n_past - 1]), *tokens]
        n_past -= 1
    llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), 0, n_past, -1)
    size = min(len(tokens), llm.n_batch)
    batch = llama_cpp.llama_batch_init(size, 0, 1)
    rows: list[npt.NDArray[np.float32]] = []
    try:
        for start in range(0, len(tokens), size):
            chunk = tokens[start : start + size]
            batch.n_tokens = len(chunk)
            for i, token in enumerate(chunk):
                batch.token[i] = token
                batch.pos[i] = n_past + start + i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = True
            status = llama_cpp.llama_decode(ctx, batch)
            if status != 0:
                raise BackendError(f"llama_decode failed with status {status}")
            rows.extend(_logits_row(llm, i) for i in range(len(chunk)))
    finally:
        llama_cpp.llama_batch_free(batch)
    return np.stack(rows[lead:])


def sampling_seed(base: int, seed: int) -> int:
    """The llama.cpp sampler seed for a request: ``seed`` itself when ``base`` is 0, else a
    hash of both; never 0xFFFFFFFF, which llama.cpp takes as "pick a random seed"."""
    if base == 0:
        return seed % _RANDOM_SEED
    digest = hashlib.sha256(f"{base}:{seed}".encode()).digest()
    return int.from_bytes(digest[:4], "little") % _RANDOM_SEED


# -- GGUF metadata ----------------------------------------------------------------------------


def gguf_has_chat_template(path: str | Path) -> bool:
    """Whether a GGUF file's metadata holds a chat template, without loading it.

    GGUF stores a metadata key as its length (u64), its name, then the value type (u32, 8 for
    a string); we search the file for those bytes. Walking the metadata entry by entry would
    take a second in Python for a 262k-token vocabulary; the search takes milliseconds, and
    only a vocabulary entry spelled "tokenizer.chat_template" followed by a token 8 bytes long
    could fool it.
    """
    key = _CHAT_TEMPLATE_KEY.encode()
    needle = struct.pack("<Q", len(key)) + key + struct.pack("<I", 8)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if m[:4] != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        return m.find(needle, 24) != -1
