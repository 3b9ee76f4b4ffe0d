"""Prompt layouts for LLM simulators: questions with options, and structured answers.

The shared part comes first, the varying part last, so that backends that reuse a KV cache
can reuse the shared prefix. Options: instructions, persona, then question and options.
Structured answers (a trial without options, e.g. ``next_action``): the system message holds
the task's instructions and the persona; the user message holds the history (one line per
earlier step: page, action, rationale where present), then the current observation, then the
reply format. Consecutive steps of one session share everything up to the new history line:
the system message byte for byte, then the history lines already shown (oldest first), so the
embedded backend re-reads only the new history line, the page and the reply format (measured
in bench/prefix_replay.py). Anything that changes an earlier line breaks the shared prefix
from that line on: a history window (``history=k``, whose lines are renumbered from 1 at every
step) or a token budget that drops the oldest history lines to make room for a long page.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from typing import Literal

from behaviorlab.models._base import Message
from behaviorlab.tasks._base import TrialInput
from behaviorlab.tasks._web_actions import HISTORY_FORMAT, history_lines

LETTERS = string.ascii_uppercase

AnswerMode = Literal["generate", "sample", "score"]
ScoreOn = Literal["label", "letter"]

SYSTEM_WITH_PERSONA = (
    "You are simulating one specific person taking a survey. Answer every question exactly "
    "as this person would, based on who they are, not as an AI assistant."
)
SYSTEM_WITHOUT_PERSONA = "You are taking a survey. Answer the question."
PERSONA_HEADER = "About you:"
REPLY_LETTER_JSON = 'Reply in JSON as {"answer": "<letter>"}, with the letter of one option.'
REPLY_LETTER = "Answer with the letter of one option."
REPLY_LABEL = "Answer with the text of one option."


def template_hash() -> str:
    """Hash of every template string above: changes when the prompt wording changes."""
    parts = [
        SYSTEM_WITH_PERSONA,
        SYSTEM_WITHOUT_PERSONA,
        PERSONA_HEADER,
        REPLY_LETTER_JSON,
        REPLY_LETTER,
        REPLY_LABEL,
        "v2: task instructions frame non-survey option prompts",
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class OptionPrompt:
    """A rendered prompt plus how its letters map back to option codes."""

    messages: list[Message]
    raw: str
    """The same content as one plain-text prompt ending in ``Answer:`` (for base models)."""
    letters: list[str]
    codes: list[str]
    labels: list[str]

    def code_of_letter(self, letter: str) -> str | None:
        letter = letter.strip().rstrip(".):").strip().upper()
        if letter in self.letters:
            return self.codes[self.letters.index(letter)]
        return None

    def hash(self) -> str:
        payload = json.dumps([m.model_dump() for m in self.messages])
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def persona_text(trial: TrialInput) -> str | None:
    persona = trial.persona
    if persona is None:
        return None
    parts = [p for p in (persona.description, persona.text) if p]
    return "\n".join(parts) if parts else None


def option_system(trial: TrialInput, persona: str | None) -> str:
    """The system message of an option prompt.

    A ``survey`` trial (or one without instructions) gets the survey framing, which says
    whether a person is being simulated. Any other task frames the question with its own
    instructions (a scenario's "You are an AI system ...", a game's rules), and the persona,
    when shown, is only the "About you" block: so ``full`` and ``no_persona`` prompts differ
    in the persona alone, and the paired effect measures the persona, not a change of frame.
    """
    if trial.task == "survey" or not trial.instructions.strip():
        return SYSTEM_WITH_PERSONA if persona else SYSTEM_WITHOUT_PERSONA
    return trial.instructions.strip()


def option_prompt(trial: TrialInput, *, mode: AnswerMode, score_on: ScoreOn) -> OptionPrompt:
    """Render a question with lettered options, instructions matched to the answer mode."""
    options = trial.observation.options or []
    if len(options) > len(LETTERS):
        raise ValueError(f"item {trial.item_id!r} has {len(options)} options; at most 26")
    letters = list(LETTERS[: len(options)])
    persona = persona_text(trial)
    system = option_system(trial, persona)
    if mode == "score":
        reply = REPLY_LABEL if score_on == "label" else REPLY_LETTER
    else:
        reply = REPLY_LETTER_JSON
    lines = [f"{letter}. {o.label}" for letter, o in zip(letters, options, strict=True)]
    question = f"Question: {trial.observation.content}\nOptions:\n" + "\n".join(lines)
    user = (f"{PERSONA_HEADER}\n{persona}\n\n" if persona else "") + f"{question}\n\n{reply}"
    raw = (f"{PERSONA_HEADER}\n{persona}\n\n" if persona else "") + f"{question}\nAnswer:"
    return OptionPrompt(
        messages=[Message(role="system", content=system), Message(role="user", content=user)],
        raw=raw,
        letters=letters,
        codes=[o.code for o in options],
        labels=[o.label for o in options],
    )


def letter_schema(letters: list[str]) -> dict[str, object]:
    return {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": letters}},
        "required": ["answer"],
    }


HISTORY_HEADER = "What you did so far in this session:"
NO_HISTORY = "This is the start of your session, or you remember nothing of it."
OBSERVATION_HEADER = "What you see now:"
REPLY_JSON = "Reply in JSON with these fields:"


def structured_template_hash() -> str:
    """Hash of the structured-answer templates: changes when their wording changes."""
    parts = [PERSONA_HEADER, HISTORY_HEADER, NO_HISTORY, OBSERVATION_HEADER, REPLY_JSON]
    return hashlib.sha256(json.dumps([*parts, HISTORY_FORMAT, "v1"]).encode()).hexdigest()[:16]


def reply_format(schema: dict[str, object]) -> str:
    """The reply line: the schema's fields in order, each with its description if it has one."""
    props = schema.get("properties")
    lines = [REPLY_JSON]
    if isinstance(props, dict):
        for name, sub in props.items():
            about = sub.get("description") if isinstance(sub, dict) else None
            lines.append(f"- {name}" + (f": {about}" if about else ""))
    return "\n".join(lines)


@dataclass(frozen=True)
class StructuredPrompt:
    """A rendered prompt for an answer constrained by the trial's JSON schema."""

    messages: list[Message]

    def hash(self) -> str:
        payload = json.dumps([m.model_dump() for m in self.messages])
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def structured_prompt(trial: TrialInput) -> StructuredPrompt:
    """Persona and history first, the observation last (see the module docstring)."""
    persona = persona_text(trial)
    system = trial.instructions or "Answer as the person described."
    if persona:
        system += f"\n\n{PERSONA_HEADER}\n{persona}"
    lines = history_lines(trial.history)
    history = f"{HISTORY_HEADER}\n" + "\n".join(lines) if lines else NO_HISTORY
    user = (
        f"{history}\n\n{OBSERVATION_HEADER}\n{trial.observation.content}\n\n"
        f"{reply_format(trial.answer_schema)}"
    )
    return StructuredPrompt(
        [Message(role="system", content=system), Message(role="user", content=user)]
    )
