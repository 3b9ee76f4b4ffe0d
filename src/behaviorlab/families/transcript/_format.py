"""The Psych-101 transcript format: one JSON object per participant, ``text`` holding the whole
session in natural language with the participant's responses marked ``<<`` and ``>>``.

:func:`split_transcript` cuts a text into its segments (what the participant read between two
responses) and responses; :class:`OptionRule` / :func:`parse_options` find the options a segment
states ("marked 'O' or marked 'Q'", "Row A and Row B", "press A or V"). Both raise
:class:`TranscriptFormatError`, whose message names the file, the line, the participant and the
character offset in ``text``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

OPEN = "<<"
CLOSE = ">>"


class TranscriptFormatError(ValueError):
    """A transcript file or line that cannot be read; the message says where and what to do."""


@dataclass(frozen=True)
class Where:
    """Where a transcript comes from, for error messages."""

    file: str
    line: int
    participant: str | None = None

    def __str__(self) -> str:
        who = "" if self.participant is None else f" (participant {self.participant!r})"
        return f"{self.file}, line {self.line}{who}"


@dataclass(frozen=True)
class Response:
    """One marked response: the text read since the previous response, then what was typed."""

    segment: str
    """Text between the previous response's ``>>`` (or the start) and this ``<<``."""
    text: str
    """The marked text, without the markers."""
    offset: int
    """Character offset of the ``<<`` in the transcript."""


@dataclass(frozen=True)
class Transcript:
    responses: tuple[Response, ...]
    tail: str
    """Text after the last response (debriefing; never scored)."""

    def prefix(self, k: int) -> str:
        """The transcript up to and including the ``<<`` that opens response ``k``."""
        parts = [f"{r.segment}{OPEN}{r.text}{CLOSE}" for r in self.responses[:k]]
        return "".join(parts) + self.responses[k].segment + OPEN


def split_transcript(text: str, where: Where) -> Transcript:
    """Cut ``text`` at its markers; unbalanced or nested markers are an error."""
    responses: list[Response] = []
    pos = 0
    while True:
        start = text.find(OPEN, pos)
        stray = text.find(CLOSE, pos)
        if stray != -1 and (start == -1 or stray < start):
            raise TranscriptFormatError(
                f"{where}: a closing {CLOSE!r} at character {stray} has no opening {OPEN!r} "
                "before it; every response is marked <<like this>>"
            )
        if start == -1:
            break
        end = text.find(CLOSE, start + len(OPEN))
        if end == -1:
            raise TranscriptFormatError(
                f"{where}: the response opened with {OPEN!r} at character {start} is never "
                f"closed with {CLOSE!r}"
            )
        inner = text[start + len(OPEN) : end]
        nested = inner.find(OPEN)
        if nested != -1:
            raise TranscriptFormatError(
                f"{where}: a second {OPEN!r} at character {start + len(OPEN) + nested} opens "
                f"inside the response opened at character {start}; responses do not nest"
            )
        responses.append(Response(segment=text[pos:start], text=inner, offset=start))
        pos = end + len(CLOSE)
    if not responses:
        raise TranscriptFormatError(
            f"{where}: the transcript has no response marked {OPEN}...{CLOSE}; is this a "
            "Psych-101 file?"
        )
    return Transcript(tuple(responses), text[pos:])


# -- options --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionRule:
    """A regular expression whose groups are the option codes a segment states (in the order
    stated: that order is the option *position*). ``label`` formats a code for display
    (``"Row {code}"``, ``"{kind} {code}"`` with the first group as the kind); the code is what
    the participant types.

    To order options by **meaning** rather than by where they are written, name the groups
    ``o1``, ``o2``, ... (a suffix ``_x`` tells alternatives apart: ``o1_a`` and ``o1_b``): the
    options are then the matched groups in the order of their numbers. The risky-choice rule
    puts the letter of the seven objects first whichever is written first."""

    pattern: str
    label: str = "{code}"

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


DEFAULT_RULES: tuple[OptionRule, ...] = (
    OptionRule(r"marked '([^'\s]{1,12})' or marked '([^'\s]{1,12})'", "marked '{code}'"),
    OptionRule(
        r"(?i)\b(Row|Column|Machine|Option|Slot|Box|Door|Urn|Deck|Button|Card|Planet|Spaceship) "
        r"([A-Za-z0-9]{1,3}) (?:and|or) \1 ([A-Za-z0-9]{1,3})\b",
        "{kind} {code}",
    ),
    OptionRule(r"(?i)\b(?:press|choose|select|type) ([A-Za-z0-9]) or ([A-Za-z0-9])\b"),
)
"""Rules tried in order on each segment; the first statement the first matching rule finds
wins (a 2×2 game states the row player's options before the column player's)."""


_ORDERED = re.compile(r"o\d+(?:_\w+)?")

EXPERIMENT_RULES: dict[str, tuple[OptionRule, ...]] = {
    "Thoma_et_al_2025_risky_choice": (
        OptionRule(
            r"(?i)\bseven \w+ are marked '(?P<o1_a>[^']+)' and three \w+ are marked "
            r"'(?P<o2_a>[^']+)'|\bthree \w+ are marked '(?P<o2_b>[^']+)' and seven \w+ are "
            r"marked '(?P<o1_b>[^']+)'",
            "marked '{code}'",
        ),
        *DEFAULT_RULES,
    ),
}
"""Rules for experiments whose stated order is not the options' meaning: in the risky-choice
task the letters and which is written first vary per trial; position 1 is the letter of the
seven objects (the likely draw), position 2 the letter of the three."""


@dataclass(frozen=True)
class Options:
    codes: tuple[str, ...]
    labels: tuple[str, ...]


def _as_rule(rule: OptionRule | str) -> OptionRule:
    return rule if isinstance(rule, OptionRule) else OptionRule(rule)


def parse_options(segment: str, rules: Sequence[OptionRule | str]) -> Options | None:
    """The options the segment states (the first statement found by the first rule that
    matches), or None: the response is free text."""
    for raw in rules:
        rule = _as_rule(raw)
        match = rule.compiled().search(segment)
        if match is None:
            continue
        named = sorted(
            (int(name[1:].split("_")[0]), value)
            for name, value in match.groupdict().items()
            if _ORDERED.fullmatch(name) and value is not None
        )
        if named:
            groups = [value for _, value in named]
        else:
            groups = [g for g in match.groups() if g is not None]
        kind = ""
        if "{kind}" in rule.label and groups:
            kind, groups = groups[0], groups[1:]
        codes = tuple(dict.fromkeys(groups))  # a repeated code is one option
        if len(codes) < 2:
            continue
        labels = tuple(rule.label.format(code=c, kind=kind) for c in codes)
        return Options(codes, labels)
    return None


def check_rules(rules: Sequence[OptionRule | str], what: str) -> tuple[OptionRule, ...]:
    """Compile every rule once, naming the bad one."""
    out = []
    for i, raw in enumerate(rules):
        rule = _as_rule(raw)
        try:
            compiled = rule.compiled()
        except re.error as e:
            raise TranscriptFormatError(
                f"{what}: option rule {i} {rule.pattern!r} is not a valid regular expression: {e}"
            ) from e
        if compiled.groups < 1:
            raise TranscriptFormatError(
                f"{what}: option rule {i} {rule.pattern!r} has no group; put each option "
                "code in a (group)"
            )
        out.append(rule)
    return tuple(out)
