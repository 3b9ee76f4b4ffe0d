"""Prompt layouts for LLM simulators: questions with options, and structured answers.

A task owns its prompting: the ``llm`` simulator asks :func:`prompting_of` for the
:class:`Prompting` of a trial's task (the task class's ``prompting`` attribute, else
:data:`DEFAULT_PROMPTING`), which frames option prompts, renders the history and the
structured prompt, gives the schema an answer is validated against (with ``jsonschema``) and
the compact string a structured answer is counted by. The defaults below are what every task
gets unless it overrides a part.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import jsonschema

from behaviorlab.data._records import Step
from behaviorlab.models._base import Message
from behaviorlab.tasks._base import TrialInput, tasks

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


def survey_system(persona: str | None) -> str:
    """The survey framing, which says whether a person is being simulated."""
    return SYSTEM_WITH_PERSONA if persona else SYSTEM_WITHOUT_PERSONA


def option_prompt(trial: TrialInput, *, mode: AnswerMode, score_on: ScoreOn) -> OptionPrompt:
    """Render a question with lettered options, instructions matched to the answer mode."""
    options = trial.observation.options or []
    if len(options) > len(LETTERS):
        raise ValueError(f"item {trial.item_id!r} has {len(options)} options; at most 26")
    letters = list(LETTERS[: len(options)])
    persona = persona_text(trial)
    system = prompting_of(trial.task).option_system(trial, persona)
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
    """Hash of the structured-answer templates: changes when their wording changes (a task's
    own wording is in its :meth:`Prompting.template_hash`, recorded in the run manifest)."""
    parts = [PERSONA_HEADER, HISTORY_HEADER, NO_HISTORY, OBSERVATION_HEADER, REPLY_JSON]
    return hashlib.sha256(json.dumps([*parts, "v2"]).encode()).hexdigest()[:16]


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


def default_history_line(step: Step) -> str:
    """``<n>. <action> [<target>] ["<value>"] (why: "<rationale>")``, ``n`` the step's own
    number in its episode."""
    action = step.action
    line = f"{step.index + 1}. {action.action_type}"
    if action.target:
        line += f" {action.target}"
    if action.value:
        line += f' "{action.value}"'
    if step.rationale is not None:
        line += f' (why: "{step.rationale.text}")'
    return line


class Prompting:
    """How the ``llm`` simulator asks a task's trials and reads its answers.

    A task overrides any part by setting its class attribute ``prompting`` to an instance of
    a subclass; every method has the default used by tasks that set none.
    """

    template_parts: ClassVar[tuple[str, ...]] = ()
    """The task's own wording (history formats, framings), hashed into the run manifest."""

    def option_system(self, trial: TrialInput, persona: str | None) -> str:
        """The system message of an option prompt: the task's instructions (the persona,
        when shown, is the "About you" block only, so ``full`` and ``no_persona`` differ in
        the persona alone); the survey framing when a trial has no instructions."""
        if not trial.instructions.strip():
            return survey_system(persona)
        return trial.instructions.strip()

    def history_lines(self, history: Sequence[Step]) -> list[str]:
        """One line per earlier step, oldest first."""
        return [default_history_line(s) for s in history]

    def structured_prompt(self, trial: TrialInput) -> StructuredPrompt:
        """Persona and history first, the observation last (see the module docstring)."""
        persona = persona_text(trial)
        system = trial.instructions or "Answer as the person described."
        if persona:
            system += f"\n\n{PERSONA_HEADER}\n{persona}"
        lines = self.history_lines(trial.history)
        history = f"{HISTORY_HEADER}\n" + "\n".join(lines) if lines else NO_HISTORY
        user = (
            f"{history}\n\n{OBSERVATION_HEADER}\n{trial.observation.content}\n\n"
            f"{reply_format(trial.answer_schema)}"
        )
        return StructuredPrompt(
            [Message(role="system", content=system), Message(role="user", content=user)]
        )

    def validation_schema(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """The JSON schema a parsed structured answer must fit (default: the answer schema
        the model was constrained by)."""
        return schema

    def choice_of(self, value: Mapping[str, Any]) -> str:
        """The string a structured answer is stored and counted by (``Answer.choice``)."""
        return json.dumps(dict(value), sort_keys=True)

    def template_hash(self) -> str:
        payload = [type(self).__qualname__, *self.template_parts]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]


DEFAULT_PROMPTING = Prompting()


def prompting_of(task_name: str) -> Prompting:
    """The :class:`Prompting` of the task registered as ``task_name`` (its class attribute
    ``prompting``), else the default."""
    if task_name in tasks:
        found = getattr(tasks.get(task_name), "prompting", None)
        if isinstance(found, Prompting):
            return found
    return DEFAULT_PROMPTING


def schema_problem(value: Any, schema: Mapping[str, Any]) -> str | None:
    """Why ``value`` does not fit the JSON schema (None when it does): the first error
    ``jsonschema`` finds, with the path of the offending field."""
    validator_cls = jsonschema.validators.validator_for(schema)
    error = jsonschema.exceptions.best_match(validator_cls(schema).iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def structured_prompt(trial: TrialInput) -> StructuredPrompt:
    """The structured prompt of a trial, as its task's prompting renders it."""
    return prompting_of(trial.task).structured_prompt(trial)
