"""Web actions as answers: the JSON schema, the compact string form, text normalisation, and
the one-line description of a past step that prompts and budgets share.

Compact form (stored as ``answer`` and ``human_answer``): ``click:<semantic_id>``,
``input:<semantic_id>=<text>``, ``terminate``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from behaviorlab.data._opera_schema import CLICK_TYPES, FILTERED_ACTION_TYPES
from behaviorlab.data._records import Action, Step

ACTION_TYPES: tuple[str, ...] = FILTERED_ACTION_TYPES
"""``click``, ``input``, ``terminate``."""
WEB_CLICK_TYPES: tuple[str, ...] = CLICK_TYPES
"""OPeRA's 13 click types."""
HISTORY_FORMAT = "history-line-v2"
"""Version of :func:`describe_step`'s wording; bump it when the wording changes (it goes into
the LLM simulator's structured template hash). v2: lines keep their step's own number."""
MAX_INPUT_CHARS = 100
MAX_RATIONALE_CHARS = 200


def action_schema(semantic_ids: Sequence[str]) -> dict[str, Any]:
    """JSON schema of a next action. ``semantic_id`` is an enum of the ids on the page as
    shown, so constrained decoding can only name real elements (``[""]`` when none is)."""
    ids = list(dict.fromkeys(semantic_ids)) or [""]
    return {
        "type": "object",
        "properties": {
            "action_type": {
                "type": "string",
                "enum": list(ACTION_TYPES),
                "description": "click, input (type text) or terminate (leave)",
            },
            "click_type": {
                "type": "string",
                "enum": list(WEB_CLICK_TYPES),
                "description": "what the click is for (" + ", ".join(WEB_CLICK_TYPES) + ")",
            },
            "semantic_id": {
                "type": "string",
                "enum": ids,
                "description": "the id in square brackets of the element you act on",
            },
            "input_text": {
                "type": "string",
                "maxLength": MAX_INPUT_CHARS,
                "description": "the text you type (for input; else empty)",
            },
            "rationale": {
                "type": "string",
                "maxLength": MAX_RATIONALE_CHARS,
                "description": "why, in one short sentence in your own words",
            },
        },
        "required": ["action_type", "click_type", "semantic_id", "input_text", "rationale"],
    }


def normalize_text(text: str) -> str:
    """Lowercase, punctuation removed (Unicode category P*, replaced by a space), whitespace
    collapsed and stripped: how typed texts are compared."""
    cleaned = "".join(
        " " if unicodedata.category(ch).startswith("P") else ch for ch in text.lower()
    )
    return " ".join(cleaned.split())


def compact(action_type: str, semantic_id: str | None = None, text: str | None = None) -> str:
    """``click:<id>``, ``input:<id>=<text>``, ``terminate`` (other types: ``<type>:<id>``)."""
    if action_type == "terminate":
        return "terminate"
    if action_type == "input":
        return f"input:{semantic_id or ''}={text or ''}"
    return f"{action_type}:{semantic_id or ''}"


def compact_action(action: Action) -> str:
    return compact(action.action_type, action.target, action.value)


def parse_compact(text: str) -> dict[str, str] | None:
    """The inverse of :func:`compact` (None when it is not one); ``click_type`` is unknown."""
    if text == "terminate":
        return {"action_type": "terminate", "semantic_id": "", "input_text": ""}
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ACTION_TYPES:
        return None
    if kind == "input":
        target, _, typed = rest.partition("=")
        return {"action_type": "input", "semantic_id": target, "input_text": typed}
    return {"action_type": kind, "semantic_id": rest, "input_text": ""}


def answer_compact(value: Mapping[str, Any]) -> str:
    return compact(
        str(value.get("action_type", "")),
        str(value.get("semantic_id", "")),
        str(value.get("input_text", "")),
    )


def describe_action(action: Action) -> str:
    """One line for a past action: ``click <id> (<click_type>)``, ``input <id> "<text>"``."""
    if action.action_type == "terminate":
        return "terminate (left the session)"
    if action.action_type == "input":
        return f'input {action.target or "?"} "{action.value or ""}"'
    kind = action.attributes.get("click_type")
    target = f" {action.target}" if action.target else ""  # a scroll has none
    return f"{action.action_type}{target}" + (f" ({kind})" if kind else "")


def describe_step(step: Step) -> str:
    """A history line: the page title, the action, and the rationale when there is one."""
    title = step.observation.meta.get("title") or step.observation.url or "a page"
    line = f'on "{title}": {describe_action(step.action)}'
    if step.rationale is not None:
        line += f' (why: "{step.rationale.text}")'
    return line


def history_line(step: Step) -> str:
    """One numbered history line: ``<n>. <describe_step>`` with ``n`` the step's own number in
    its episode (``step.index + 1``), so a line reads the same at every later step, whatever
    window or cut shows it (a cut history shows e.g. lines 9..15)."""
    return f"{step.index + 1}. {describe_step(step)}"


def history_lines(history: Sequence[Step]) -> list[str]:
    """The numbered history lines shown to an LLM (and counted by the budget), each numbered
    by its step's own position in the episode (:func:`history_line`), never renumbered."""
    return [history_line(s) for s in history]


_ID_WORD = re.compile(r"[a-z0-9]+")


def page_words(text: str) -> frozenset[str]:
    """Lowercased words and numbers of a rendered page (the nearest-step baseline's text)."""
    return frozenset(_ID_WORD.findall(text.lower()))
