"""OpenAI-compatible HTTP backend: OpenAI itself, ``llama_cpp.server``, ``vllm serve`` and any
server that speaks ``/v1/chat/completions`` and ``/v1/completions``.

How it behaves, and why:

* **Bounded calls.** At most ``concurrency`` requests are in flight per backend; requests and
  tokens per minute are metered by token buckets (the token cost estimated before the call,
  corrected with the reported ``usage``). 429, 5xx, timeouts, connection errors, truncated and
  malformed bodies are retried with exponential backoff and full jitter (a ``Retry-After``
  header is honoured). Each attempt has ``timeout_s``; each HTTP request as a whole has
  ``deadline_s`` (time spent in attempts and backoff, not time queued behind other calls), so
  a stalling server yields a :class:`BackendError` naming status, body excerpt and attempts,
  never a hang. One generation can make up to four such requests (the structured-form probe
  of ``auto`` and one repair), so its worst case is a few times ``deadline_s``.
* **Bounded responses.** A body is streamed and inflated in bounded steps
  (:mod:`behaviorlab.models._http_body`) inside the attempt's time limit: a successful
  response larger than ``max_response_bytes`` once decompressed (16 MiB by default) fails the
  call at once with :class:`ResponseTooLarge` (not retried: the server would send it again),
  and of an error response only the first 64 KiB are read. Every field the backend reads is
  checked first (:func:`~behaviorlab.models._openai_support.response_problem`), so a body of
  the wrong shape is a retried failure with a reason ("the server's response has no
  choices[0].message"), never a Python error.
* **Structured output per server.** ``structured`` picks how a JSON schema is sent
  (:data:`StructuredForm`): OpenAI's ``json_schema`` form, llama_cpp.server's
  ``{"type": "json_object", "schema": ...}`` (it answers the OpenAI form with HTTP 500),
  vLLM's ``guided_json``, or ``none`` (schema in the prompt). ``auto`` tries them in that order
  once and remembers what the server accepted. Every output is validated against the schema;
  an invalid one gets one repair attempt. ``Generation.meta`` records ``structured`` (the form
  sent), ``parse`` (constrained / valid / repaired / invalid) and ``retries``.
* **Option scoring through prompt log-probabilities.** ``/v1/completions`` with ``echo`` and
  ``logprobs`` returns the log-probability of every prompt token; the continuation's tokens
  are the last ones. llama_cpp.server shifts these by one token when the prompt does not start
  with the model's BOS token (it drops a BOS it assumes is there), so the first echo scoring
  of each prompt kind (chat / raw) is checked against a plain completion's log-probability of
  the same token, and refused with :class:`UnsupportedError` when they disagree. Chat messages
  are rendered to text with ``chat_template`` for scoring (the server's own template is not
  reachable through the API). The vLLM profile (:mod:`behaviorlab.models._vllm`) uses
  ``prompt_logprobs`` instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, get_args
from urllib.parse import urlsplit

import httpx

from behaviorlab.models._base import (
    Backend,
    BackendError,
    Capability,
    GenerateRequest,
    Generation,
    ModelIdentity,
    PositionsRequest,
    PositionsResult,
    Pricing,
    ScoreRequest,
    ScoreResult,
    UnsupportedError,
    backend,
)
from behaviorlab.models._http_body import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_RESPONSE_BYTES,
    ERROR_HEAD_BYTES,
    Body,
    BodyReader,
)
from behaviorlab.models._openai_parts import (
    HTTPStatusFailure,
    ResponseTooLarge,
    _env,
    _FormRejected,
    _LoopState,
    _normalise_base_url,
    _repair_request,
    _size,
    _text_of,
    _timed_out,
    _Usage,
)
from behaviorlab.models._openai_support import (
    StructuredForm,
    echo_pieces,
    estimate_tokens,
    logprob_block,
    mentions_response_format,
    output_problem,
    parse_json_body,
    render_chat,
    response_problem,
    schema_instruction,
    structured_fields,
    tail_logprobs,
    token_counts,
)
from behaviorlab.models._ratelimit import RateLimiter, backoff_delay, retry_after_seconds

Structured = Literal["auto", "json_schema", "json_object_schema", "guided_json", "none"]
Scoring = Literal["auto", "echo", "prompt_logprobs", "none"]
_AUTO_ORDER: tuple[StructuredForm, ...] = ("json_schema", "json_object_schema", "none")
_RETRY_STATUS = frozenset({408, 409, 425, 429})
_ECHO_TOLERANCE = 0.05
"""Largest |difference| of log-probabilities accepted by the echo alignment check (the same
token scored in two batches of different sizes differs in the last digits)."""


@backend("openai")
class OpenAIBackend(Backend):
    """Any OpenAI-compatible endpoint (OpenAI, llama_cpp.server, vllm serve, ...).

    ``base_url`` is the API root (``http://127.0.0.1:8000/v1``; a bare host gets ``/v1``).
    The API key comes from ``api_key`` or the environment variable ``api_key_env`` and is never
    part of the identity or manifest. ``structured``: see :data:`Structured`. ``scoring``:
    ``echo`` (completions with echo + logprobs), ``prompt_logprobs`` (vLLM), ``none``, or
    ``auto`` (none for api.openai.com, echo elsewhere). ``chat_template`` (``"chatml"``, a
    Jinja template or its file) renders chat messages for scoring; ``chat=False`` declares a
    base model (raw prompts only). ``extra_body`` is merged into every request (e.g.
    ``{"top_k": 0}`` for llama.cpp's sampler). ``pricing`` is ``{input_per_mtok,
    output_per_mtok}``. ``max_response_bytes`` caps a successful response's decompressed size.
    """

    name: ClassVar[str] = "openai"
    default_structured: ClassVar[Structured] = "auto"
    default_scoring: ClassVar[Scoring] = "auto"
    score_rereads_prompt: ClassVar[bool] = True
    """Option scoring sends (and bills) the prompt plus one option per option, with one
    output token each: budget planning counts it so."""

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        structured: Structured | None = None,
        scoring: Scoring | None = None,
        chat: bool = True,
        chat_template: str | None = None,
        concurrency: int = 8,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        timeout_s: float = 60.0,
        deadline_s: float = 300.0,
        max_retries: int = 4,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        repair: bool = True,
        check_echo: bool = True,
        extra_body: dict[str, Any] | None = None,
        pricing: Pricing | Mapping[str, Any] | None = None,
        seed: int | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        structured = structured or self.default_structured
        if structured not in get_args(Structured):
            raise ValueError(
                f"structured must be one of {get_args(Structured)}, not {structured!r}"
            )
        scoring = scoring or self.default_scoring
        if scoring not in get_args(Scoring):
            raise ValueError(f"scoring must be one of {get_args(Scoring)}, not {scoring!r}")
        if concurrency < 1 or max_retries < 0 or timeout_s <= 0 or deadline_s < timeout_s:
            raise ValueError(
                "need concurrency >= 1, max_retries >= 0, timeout_s > 0 and "
                f"deadline_s >= timeout_s (got {concurrency}, {max_retries}, {timeout_s}, "
                f"{deadline_s})"
            )
        if max_response_bytes < 1024:
            raise ValueError(f"max_response_bytes must be at least 1024, not {max_response_bytes}")
        self.model = model
        self.base_url = _normalise_base_url(base_url)
        host = urlsplit(self.base_url).hostname or ""
        self._official = host.endswith("openai.com")
        self._api_key = api_key if api_key is not None else _env(api_key_env)
        self.api_key_env = api_key_env
        self.structured: Structured = structured
        if scoring == "auto":
            scoring = "none" if self._official else "echo"
        self.scoring: Scoring = scoring
        self.chat, self.chat_template = chat, chat_template
        self.concurrency = concurrency
        self.timeout_s, self.deadline_s, self.max_retries = timeout_s, deadline_s, max_retries
        self.backoff_base_s, self.backoff_max_s = backoff_base_s, backoff_max_s
        self.repair, self.check_echo = repair, check_echo
        self.extra_body = dict(extra_body or {})
        self.seed = seed
        self.max_response_bytes = max_response_bytes
        if pricing is not None:
            self.pricing = pricing if isinstance(pricing, Pricing) else Pricing(**pricing)
        self.limiter = RateLimiter(requests_per_minute, tokens_per_minute)
        self.rng = random.Random()
        self.requests_sent = 0
        self._form: StructuredForm | None = None if structured == "auto" else structured
        self._echo_ok: dict[str, bool] = {}
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    # -- Backend interface ------------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[Capability]:  # type: ignore[override]
        caps: set[Capability] = {"generate", "json_schema"}
        if self.chat:
            caps.add("chat")
        if self.scoring != "none" and (not self.chat or self.chat_template is not None):
            caps.add("score")
        return frozenset(caps)

    def identity(self) -> ModelIdentity:
        params: dict[str, Any] = {"structured": self.structured, "repair": self.repair}
        if self.chat_template is not None:
            digest = hashlib.sha256(self.chat_template.encode()).hexdigest()[:16]
            params["chat_template"] = (
                self.chat_template if self.chat_template == "chatml" else digest
            )
        if self.scoring != "none":
            params["scoring"] = self.scoring
        if self.extra_body:
            params["extra_body"] = self.extra_body
        if self.seed is not None:
            params["seed"] = self.seed
        return ModelIdentity(
            backend=self.name, model=self.model, endpoint=self.base_url, params=params
        )

    async def generate(self, request: GenerateRequest) -> Generation:
        usage = _Usage()
        schema = request.json_schema
        if schema is None:
            data = await self._complete(request, "none", usage)
            return self._generation(data, usage, {})
        form = self._form
        if form is None:
            form, data = await self._probe_forms(request, usage)
        else:
            data = await self._complete(request, form, usage)
        meta: dict[str, Any] = {"structured": form}
        text = _text_of(data)
        problem = output_problem(text, schema)
        if problem is None:
            meta["parse"] = "constrained" if form != "none" else "valid"
            return self._generation(data, usage, meta)
        meta["parse"] = "invalid"
        meta["problem"] = problem
        if self.repair:
            try:
                fixed = await self._complete(_repair_request(request, text, problem), form, usage)
            except BackendError as e:
                meta["repair_error"] = str(e)
            else:
                fixed_problem = output_problem(_text_of(fixed), schema)
                if fixed_problem is None:
                    meta["parse"] = "repaired"
                    del meta["problem"]
                    return self._generation(fixed, usage, meta)
                meta["problem"] = fixed_problem
        return self._generation(data, usage, meta)

    async def generate_many(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        """Several generations; sent concurrently (the concurrency limit still applies)."""
        return list(await asyncio.gather(*(self.generate(r) for r in requests)))

    async def score(self, request: ScoreRequest) -> ScoreResult:
        if "score" not in self.capabilities:
            raise UnsupportedError(self._why_no_scoring())
        prompt = self._score_prompt(request)
        if self.scoring == "echo" and self.check_echo:
            await self._check_echo_alignment("chat" if request.messages else "raw", prompt)
        usage = _Usage()
        pairs = await self._score_texts(prompt, list(request.continuations), usage)
        return ScoreResult(
            logprobs=[lp for lp, _ in pairs],
            n_tokens=[n for _, n in pairs],
            tokens_in=usage.tokens_in,
        )

    async def score_positions(self, request: PositionsRequest) -> PositionsResult:
        """One request for the whole text (:mod:`~behaviorlab.models._openai_positions`)."""
        from behaviorlab.models._openai_positions import score_positions

        return await score_positions(self, request)

    async def aclose(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        state = self._loops.pop(loop, None)
        if state is not None:
            await state.client.aclose()

    # -- requests ---------------------------------------------------------------------------

    def _state(self) -> _LoopState:
        """The HTTP client and concurrency limit of the running event loop (an httpx client
        and an asyncio semaphore belong to one loop; a backend may outlive several)."""
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            headers = {"Accept-Encoding": ACCEPT_ENCODING}  # what _http_body inflates
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            limits = httpx.Limits(max_connections=self.concurrency + 2)
            client = httpx.AsyncClient(
                base_url=self.base_url + "/",
                headers=headers,
                timeout=httpx.Timeout(self.timeout_s),
                limits=limits,
            )
            state = self._loops[loop] = _LoopState(client, asyncio.Semaphore(self.concurrency))
        return state

    async def post(
        self, path: str, body: dict[str, Any], *, estimate: int, reject_form: bool = False
    ) -> tuple[dict[str, Any], int]:
        """POST ``body`` to ``path`` with retries; the response JSON and the attempts used.

        ``reject_form``: an error that names the structured-output fields raises
        :class:`_FormRejected` at once instead of being retried."""
        if self._official and not self._api_key:
            raise BackendError(
                f"no API key for {self.base_url}: set the environment variable "
                f"{self.api_key_env} (or pass api_key=)"
            )
        state = self._state()
        url = f"{self.base_url}/{path}"
        chat = path.startswith("chat/")
        spent = 0.0
        last = "no attempt made"
        attempt = 0
        for attempt in range(1, self.max_retries + 2):
            budget = min(self.timeout_s, self.deadline_s - spent)
            await self.limiter.acquire(estimate)
            async with state.semaphore:
                start = time.monotonic()
                retry_after: float | None = None
                reader = BodyReader(self.max_response_bytes)
                try:
                    self.requests_sent += 1
                    async with asyncio.timeout(budget):  # the request and its whole body
                        reply = await self._exchange(state.client, path, body, reader)
                except (TimeoutError, httpx.TimeoutException):
                    last = _timed_out(reader, budget)
                except httpx.TransportError as e:
                    last = f"connection failed or body truncated ({type(e).__name__}: {e})"
                else:
                    outcome = self._read(reply, reject_form, attempt, url, chat=chat)
                    if isinstance(outcome, dict):
                        total = token_counts(outcome).total
                        if total:
                            self.limiter.correct(estimate, total)
                        return outcome, attempt
                    last, retry_after = outcome
                spent += time.monotonic() - start
            if attempt > self.max_retries:
                break
            delay = backoff_delay(
                attempt - 1, base=self.backoff_base_s, cap=self.backoff_max_s, rng=self.rng
            )
            if retry_after is not None:
                delay = max(delay, retry_after)
            if spent + delay >= self.deadline_s:
                last += (
                    f"; the next try ({delay:.1f}s away) would pass the {self.deadline_s}s deadline"
                )
                break
            await asyncio.sleep(delay)
            spent += delay
        raise BackendError(f"{url}: gave up after {attempt} attempt(s) in {spent:.1f}s: {last}")

    async def _exchange(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any], reader: BodyReader
    ) -> tuple[Body, str | None]:
        """Send one request; what was read of the response (the whole of a successful one up
        to the cap, the head of an error) and its Retry-After header."""
        async with client.stream("POST", path, json=body) as response:
            if response.status_code != 200:
                reader.limit = ERROR_HEAD_BYTES
            return await reader.read(response), response.headers.get("retry-after")

    def _read(
        self,
        reply: tuple[Body, str | None],
        reject_form: bool,
        attempt: int,
        url: str,
        *,
        chat: bool,
    ) -> dict[str, Any] | tuple[str, float | None]:
        """The JSON of a good response, or (why it failed, Retry-After) for a retryable one;
        raises for an error retrying cannot fix."""
        body, retry_after = reply
        status = body.status
        excerpt = body.excerpt()
        if status == 200:
            if body.problem is not None:
                return f"HTTP 200 with a body that cannot be decoded: {body.problem}", None
            if not body.complete:
                raise self._too_large(url, body)
            data, problem = parse_json_body(body.content)
            if problem is None:
                problem = response_problem(data, chat=chat)
                if problem is not None:
                    problem = (
                        f"a response this backend cannot read: {problem} (does {self.base_url} "
                        "speak the OpenAI API?)"
                    )
            if problem is not None:
                return f"HTTP 200 with {problem}: {excerpt!r}", None
            assert isinstance(data, dict)
            return data
        head = body.head_text()
        if reject_form and status >= 400 and mentions_response_format(head):
            raise _FormRejected(f"HTTP {status}: {excerpt}")
        message = f"HTTP {status}: {excerpt!r}"
        if status in _RETRY_STATUS or status >= 500:
            return message, retry_after_seconds(retry_after)
        raise HTTPStatusFailure(
            f"{url}: HTTP {status} after {attempt} attempt(s) (not retried): {excerpt!r}",
            status,
            head,
        )

    def _too_large(self, url: str, body: Body) -> ResponseTooLarge:
        limit = self.max_response_bytes
        wire = (
            f", {body.raw_bytes:,} bytes of {body.encoding} data received" if body.encoding else ""
        )
        return ResponseTooLarge(
            f"{url}: the server's response is larger than the {_size(limit)} limit (reading "
            f"stopped at {len(body.content):,} bytes{wire}); not retried. If this server's "
            "answers really are this long, raise the backend option max_response_bytes; "
            "otherwise the endpoint is broken or hostile",
            limit=limit,
            read=len(body.content),
            raw_bytes=body.raw_bytes,
        )

    def _body(self, request: GenerateRequest, form: StructuredForm) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "seed": request.seed if self.seed is None else self.seed + request.seed,
        }
        if request.stop:
            body["stop"] = list(request.stop)
        schema = request.json_schema
        note = schema_instruction(schema) if schema is not None and form == "none" else None
        if request.messages is not None:
            messages = [m.model_dump() for m in request.messages]
            if note is not None:
                messages[-1] = {**messages[-1], "content": messages[-1]["content"] + "\n\n" + note}
            body["messages"] = messages
            path = "chat/completions"
        else:
            body["prompt"] = (request.prompt or "") + (f"\n\n{note}\n" if note else "")
            path = "completions"
        if schema is not None:
            body.update(structured_fields(form, schema))
        body.update(self.extra_body)
        return path, body

    async def _complete(
        self,
        request: GenerateRequest,
        form: StructuredForm,
        usage: _Usage,
        *,
        reject_form: bool = False,
    ) -> dict[str, Any]:
        path, body = self._body(request, form)
        estimate = estimate_tokens(
            str(body.get("messages") or body.get("prompt")), request.max_tokens
        )
        data, attempts = await self.post(path, body, estimate=estimate, reject_form=reject_form)
        usage.add(data, attempts)
        return data

    async def _probe_forms(
        self, request: GenerateRequest, usage: _Usage
    ) -> tuple[StructuredForm, dict[str, Any]]:
        """``structured: auto``: the first form this server accepts, remembered."""
        rejected: list[str] = []
        for form in _AUTO_ORDER:
            try:
                data = await self._complete(request, form, usage, reject_form=form != "none")
            except _FormRejected as e:
                rejected.append(f"{form}: {e}")
                continue
            self._form = form
            return form, data
        raise BackendError("no structured-output form worked: " + "; ".join(rejected))

    def _generation(
        self, data: Mapping[str, Any], usage: _Usage, meta: dict[str, Any]
    ) -> Generation:
        choice = data["choices"][0]  # checked by response_problem: an object
        meta["retries"] = usage.attempts - usage.calls
        if usage.server_model is not None:
            meta["server_model"] = usage.server_model
        return Generation(
            text=_text_of(data),
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            finish_reason=choice.get("finish_reason"),
            meta=meta,
        )

    # -- scoring ----------------------------------------------------------------------------

    def _why_no_scoring(self) -> str:
        if self.scoring == "none":
            return (
                f"backend {self.name!r} at {self.base_url} does not score options (scoring: none; "
                "OpenAI's chat models give no prompt log-probabilities): use answer: generate "
                "or sample, or a server that echoes prompt log-probabilities (llama_cpp.server, "
                "vllm serve) with scoring: echo / prompt_logprobs"
            )
        return (
            f"backend {self.name!r}: scoring chat messages through /v1/completions needs the "
            'model\'s chat template: set chat_template ("chatml", a Jinja template or its '
            "file), or chat: false for a base model"
        )

    def _score_prompt(self, request: ScoreRequest) -> str:
        if request.messages is None:
            return request.prompt or ""
        if self.chat_template is None:
            raise UnsupportedError(self._why_no_scoring())
        return render_chat(request.messages, self.chat_template)

    async def _score_texts(
        self, prompt: str, continuations: list[str], usage: _Usage
    ) -> list[tuple[float, int]]:
        return list(
            await asyncio.gather(*(self._echo_score(prompt, c, usage) for c in continuations))
        )

    async def _echo_score(self, prompt: str, continuation: str, usage: _Usage) -> tuple[float, int]:
        data = await self._echo(prompt + continuation, usage)
        pieces = echo_pieces(data["choices"][0], token_counts(data).completion)
        return tail_logprobs(pieces, continuation, where=f"{self.base_url} echo")

    async def _echo(self, text: str, usage: _Usage) -> dict[str, Any]:
        body = {
            "model": self.model,
            "prompt": text,
            "max_tokens": 1,
            "temperature": 0.0,
            "echo": True,
            "logprobs": 1,
            **self.extra_body,
        }
        data, attempts = await self.post("completions", body, estimate=estimate_tokens(text, 1))
        usage.add(data, attempts)
        return data

    async def _check_echo_alignment(self, kind: str, prompt: str) -> None:
        """Compare the echoed log-probability of a token with the one a plain completion gives
        for it; refuse scoring on a server whose echo is shifted (see the module docstring)."""
        ok = self._echo_ok.get(kind)
        if ok is None:
            usage = _Usage()
            body = {
                "model": self.model,
                "prompt": prompt,
                "max_tokens": 1,
                "temperature": 0.0,
                "logprobs": 1,
                **self.extra_body,
            }
            data, _ = await self.post("completions", body, estimate=estimate_tokens(prompt, 1))
            tokens, lps = logprob_block(data["choices"][0])
            if not tokens or not tokens[0] or not lps or lps[0] is None:
                ok = True  # the model ended at once: nothing to compare, trust the server
            else:
                echoed = await self._echo(prompt + tokens[0], usage)
                done = token_counts(echoed).completion
                pieces = echo_pieces(echoed["choices"][0], done)
                token, lp = pieces[-1] if pieces else ("", None)
                ok = token == tokens[0] and lp is not None and abs(lp - lps[0]) < _ECHO_TOLERANCE
            self._echo_ok[kind] = ok
        if not ok:
            raise UnsupportedError(
                f"{self.base_url} returns echoed prompt log-probabilities shifted by one token "
                f"for {kind} prompts (llama_cpp.server does this when a prompt does not start "
                "with the model's BOS token), so option scores would be wrong. Score chat "
                "messages with a chat_template that starts with the BOS token, use vllm "
                "serve (backend: vllm), or the embedded llamacpp backend"
            )
