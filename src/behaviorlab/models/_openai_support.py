"""Pure helpers of the OpenAI-compatible backend: JSON-schema checks, structured-output request
forms, chat-template rendering for prompt scoring, the shape check of a server's response, and
log-probability parsing.

Nothing here does I/O, so all of it is tested offline against hand-made responses.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from behaviorlab.models._base import BackendError, Message

StructuredForm = Literal["json_schema", "json_object_schema", "guided_json", "none"]
"""How a JSON schema is sent: OpenAI's ``response_format`` ``json_schema`` form; the
``{"type": "json_object", "schema": ...}`` form of llama_cpp.server; vLLM's ``guided_json``
request field; or not at all (the schema goes into the prompt and the output is validated)."""

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def json_problem(value: Any, schema: Mapping[str, Any], path: str = "$") -> str | None:
    """Why ``value`` does not fit ``schema`` (None when it does).

    Covers the subset of JSON Schema that behaviorlab's answer schemas use: ``type`` (one or a
    list), ``enum``, ``const``, ``properties``, ``required``, ``additionalProperties: false``,
    ``items``, ``minItems`` / ``maxItems``, ``minLength`` / ``maxLength``, ``minimum`` /
    ``maximum``. Other keywords are ignored (never wrongly rejected)."""
    if "enum" in schema and value not in schema["enum"]:
        return f"{path}: {_short(value)} is not one of {list(schema['enum'])!r}"
    if "const" in schema and value != schema["const"]:
        return f"{path}: {_short(value)} is not {schema['const']!r}"
    kinds = schema.get("type")
    if kinds is not None:
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is_type(value, k) for k in names):
            return f"{path}: expected {' or '.join(names)}, got {type(value).__name__}"
    if isinstance(value, dict):
        return _object_problem(value, schema, path)
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return f"{path}: fewer than {schema['minItems']} items"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"{path}: more than {schema['maxItems']} items"
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                problem = json_problem(item, items, f"{path}[{i}]")
                if problem is not None:
                    return problem
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            return f"{path}: shorter than {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"{path}: longer than {schema['maxLength']} characters"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{path}: {value} is below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{path}: {value} is above {schema['maximum']}"
    return None


def _is_type(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(kind, (object,)))


def _object_problem(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> str | None:
    props: Mapping[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            return f"{path}: missing required property {key!r}"
    for key, item in value.items():
        if key in props:
            problem = json_problem(item, props[key], f"{path}.{key}")
            if problem is not None:
                return problem
        elif schema.get("additionalProperties") is False:
            return f"{path}: unexpected property {key!r}"
    return None


def output_problem(text: str, schema: Mapping[str, Any]) -> str | None:
    """Why a model's output is not JSON fitting ``schema`` (None when it is)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return f"not valid JSON ({e.msg} at character {e.pos})"
    except RecursionError:
        return "JSON nested too deeply to read"
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        return f"not readable JSON ({e})"
    return json_problem(value, schema)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 3, 8, 8


def _short(value: Any) -> str:
    """A repr of ``value`` cut to a readable size (a model's output can be megabytes)."""
    return _REPR.repr(value)


def strict_compatible(schema: Mapping[str, Any]) -> bool:
    """Whether OpenAI's ``strict: true`` accepts the schema: every object lists all its
    properties as required and forbids additional ones."""
    if schema.get("type") == "object" or "properties" in schema:
        props: Mapping[str, Any] = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return False
        if set(schema.get("required", [])) != set(props):
            return False
        return all(strict_compatible(p) for p in props.values() if isinstance(p, Mapping))
    items = schema.get("items")
    return strict_compatible(items) if isinstance(items, Mapping) else True


def structured_fields(form: StructuredForm, schema: dict[str, Any]) -> dict[str, Any]:
    """Request-body fields that constrain the output to ``schema`` in ``form``."""
    if form == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "schema": schema,
                    "strict": strict_compatible(schema),
                },
            }
        }
    if form == "json_object_schema":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if form == "guided_json":
        return {"guided_json": schema}
    return {}


def schema_instruction(schema: Mapping[str, Any]) -> str:
    """What an unconstrained request adds to the prompt."""
    return (
        "Reply with only a JSON value, no other text, that fits this JSON schema:\n"
        + json.dumps(schema, separators=(",", ":"))
    )


def repair_instruction(output: str, problem: str, schema: Mapping[str, Any]) -> str:
    return (
        f"Your reply was not valid: {problem}. Your reply was:\n{output[:2000]}\n\n"
        + schema_instruction(schema)
    )


def mentions_response_format(body: str) -> bool:
    """Whether an error body blames the structured-output fields (so another form may work)."""
    low = body.lower()
    return any(k in low for k in ("response_format", "json_schema", "guided_json"))


# -- chat templates ---------------------------------------------------------------------------


def render_chat(messages: Sequence[Message], template: str) -> str:
    """The text a chat model sees for ``messages``, with the assistant turn opened.

    ``template`` is ``"chatml"`` (``<|im_start|>role\\ncontent<|im_end|>\\n``, as SmolLM2,
    Qwen and many others use), a Jinja chat template, or the path of a file holding one (the
    ``chat_template`` of the model's tokenizer_config.json or GGUF)."""
    if template == "chatml":
        turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n"
    source = template
    if "{" not in template:
        path = Path(template).expanduser()
        if not path.is_file():
            raise BackendError(
                f"chat_template {template!r} is neither 'chatml', a Jinja template, nor a file"
            )
        source = path.read_text(encoding="utf-8")
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    try:
        return env.from_string(source).render(
            messages=[m.model_dump() for m in messages],
            add_generation_prompt=True,
            bos_token="",
            eos_token="",
        )
    except jinja2.TemplateError as e:
        raise BackendError(f"chat_template could not render the messages: {e}") from e


# -- the shape of a response -------------------------------------------------------------------

MAX_TOKEN_COUNT = 10**12
"""The largest token count accepted in ``usage`` (anything above is a broken server)."""


@dataclass(frozen=True)
class TokenCounts:
    """The ``usage`` of a response, 0 for what the server did not report."""

    prompt: int = 0
    completion: int = 0
    total: int = 0


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"{value} (a number)"
    if isinstance(value, str):
        return f"{_short(value)} (text)"
    return "a list" if isinstance(value, list) else "an object"


def _count(value: Any) -> int | None:
    """A token count as an int, or None when ``value`` is not a whole number of tokens."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if 0 <= value <= MAX_TOKEN_COUNT else None


def response_problem(data: Any, *, chat: bool) -> str | None:
    """What in a decoded response body this backend cannot read (None when it reads it all).

    Checks every field the backend uses: ``choices`` a non-empty list of objects, each with
    ``message`` (an object whose ``content`` is text or null) for a chat completion or
    ``text`` for a text completion, ``finish_reason`` text or null, ``index`` a whole number;
    ``usage``, when present, an object of whole token counts."""
    if not isinstance(data, dict):
        return f"the server's response is {_kind(data)}, not a JSON object"
    choices = data.get("choices")
    if not isinstance(choices, list):
        return f"the server's response has no 'choices' list ('choices' is {_kind(choices)})"
    if not choices:
        return "the server's response has an empty 'choices' list"
    for i, choice in enumerate(choices):
        where = f"choices[{i}]"
        if not isinstance(choice, dict):
            field = "message" if chat else "text"
            return f"the server's response has no {where}.{field} ({where} is {_kind(choice)})"
        if chat:
            message = choice.get("message")
            if not isinstance(message, dict):
                return f"the server's response has no {where}.message ({_kind(message)})"
            content = message.get("content")
            if content is not None and not isinstance(content, str):
                return f"{where}.message.content is {_kind(content)}, not text"
        elif not isinstance(choice.get("text"), str):
            return f"the server's response has no {where}.text ({_kind(choice.get('text'))})"
        finish = choice.get("finish_reason")
        if finish is not None and not isinstance(finish, str):
            return f"{where}.finish_reason is {_kind(finish)}, not text"
        index = choice.get("index")
        if index is not None and _count(index) is None:
            return f"{where}.index is {_kind(index)}, not a whole number"
    usage = data.get("usage")
    if usage is None:
        return None
    if not isinstance(usage, dict):
        return f"the server's response has usage {_kind(usage)}, not an object of token counts"
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = usage.get(key)
        if value is not None and _count(value) is None:
            return (
                f"usage.{key} is {_kind(value)}, not a whole number of tokens "
                f"(0 to {MAX_TOKEN_COUNT:.0e})"
            )
    return None


def token_counts(data: Mapping[str, Any]) -> TokenCounts:
    """The token counts of a response that passed :func:`response_problem`."""
    usage = data.get("usage") or {}
    prompt, completion, total = (
        _count(usage.get(k)) or 0 for k in ("prompt_tokens", "completion_tokens", "total_tokens")
    )
    return TokenCounts(prompt=prompt, completion=completion, total=total)


def server_model(data: Mapping[str, Any]) -> str | None:
    """The model id the response names (cut to 200 characters), if it names one."""
    model = data.get("model")
    return model[:200] if isinstance(model, str) else None


def parse_json_body(content: bytes) -> tuple[Any, str | None]:
    """(value, None) for a body that is JSON, else (None, why it is not)."""
    try:
        return json.loads(content), None
    except UnicodeDecodeError as e:
        return None, f"a body that is not UTF-8 text ({e.reason} at byte {e.start})"
    except json.JSONDecodeError as e:
        return None, f"a malformed JSON body ({e.msg} at character {e.pos})"
    except RecursionError:
        return None, "a JSON body nested too deeply to read"
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        return None, f"a malformed JSON body ({e})"


# -- log-probabilities ------------------------------------------------------------------------


def tail_logprobs(
    pieces: Sequence[tuple[str, float | None]], text: str, *, where: str
) -> tuple[float, int]:
    """Sum of log-probabilities of the last tokens that spell ``text`` (the continuation).

    ``pieces`` are (token text, log-probability) of the whole echoed prompt, already without
    generated tokens. Tokens are taken from the end until their texts cover ``text``; a token
    that straddles the prompt/continuation boundary counts as part of the continuation."""
    covered, total, n = 0, 0.0, 0
    for token, logprob in reversed(pieces):
        if covered >= len(text):
            break
        if logprob is None:
            raise BackendError(f"{where}: no log-probability for continuation token {token!r}")
        total += logprob
        covered += len(token)
        n += 1
    if covered < len(text) or n == 0:
        raise BackendError(
            f"{where}: the echoed tokens do not cover the continuation {text!r}; the server "
            "returned fewer prompt tokens than expected"
        )
    return total, n


def echo_pieces(
    choice: Mapping[str, Any], completion_tokens: int
) -> list[tuple[str, float | None]]:
    """(token, log-probability) of the echoed prompt in an OpenAI-style ``logprobs`` block,
    dropping the ``completion_tokens`` generated at its end."""
    tokens, logprobs = logprob_block(choice)
    if len(tokens) != len(logprobs):
        raise BackendError("malformed logprobs block: tokens and token_logprobs differ in length")
    keep = len(tokens) - completion_tokens
    return list(zip(tokens[:keep], logprobs[:keep], strict=True))


def logprob_block(choice: Mapping[str, Any]) -> tuple[list[str], list[float | None]]:
    """``tokens`` and ``token_logprobs`` of a choice's OpenAI-style ``logprobs`` block, checked:
    a list of texts and a list of finite numbers (or null)."""
    block = choice.get("logprobs")
    if not isinstance(block, Mapping):
        raise BackendError(
            f"the server returned no logprobs block (logprobs is {_kind(block)}); it does not "
            "return the log-probabilities asked for"
        )
    tokens, logprobs = block.get("tokens") or [], block.get("token_logprobs") or []
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise BackendError(
            f"malformed logprobs block: tokens is not a list of texts: {_short(tokens)}"
        )
    if not isinstance(logprobs, list) or not all(lp is None or _finite(lp) for lp in logprobs):
        raise BackendError(
            f"malformed logprobs block: token_logprobs is not a list of numbers: {_short(logprobs)}"
        )
    return tokens, [None if lp is None else float(lp) for lp in logprobs]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def prompt_logprob_pieces(choice: Mapping[str, Any]) -> list[tuple[str, float | None]]:
    """(token, log-probability) from vLLM's ``prompt_logprobs``: one entry per prompt token,
    ``null`` for the first, else ``{token_id: {"logprob", "rank", "decoded_token"}}``. Asked
    with ``prompt_logprobs: 0`` each entry holds the prompt token alone."""
    entries = choice.get("prompt_logprobs")
    if not isinstance(entries, list):
        raise BackendError(
            "the server returned no prompt_logprobs: it is not vLLM, or too old a vLLM"
        )
    out: list[tuple[str, float | None]] = []
    for i, entry in enumerate(entries):
        if entry is None:
            out.append(("", None))
            continue
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise BackendError(
                f"prompt_logprobs entry {i} should hold exactly the prompt token "
                f"(asked with prompt_logprobs=0), got {_short(entry)}"
            )
        (info,) = entry.values()
        if not isinstance(info, Mapping) or not _finite(info.get("logprob")):
            raise BackendError(f"prompt_logprobs entry {i} has no numeric logprob: {_short(entry)}")
        out.append((str(info.get("decoded_token") or ""), float(info["logprob"])))
    return out


def estimate_tokens(text: str, max_tokens: int) -> int:
    """A pre-call token estimate for rate limiting (about 4 characters per token)."""
    return len(text) // 4 + 1 + max_tokens
