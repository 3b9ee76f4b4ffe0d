"""The persona's share of the budget: a long persona is condensed so the page keeps its room.

A real OPeRA user's persona (the nested survey rendered as text, and the interview with
``interview: true``) runs to about 1,000 tokens and more, against about 260 for the synthetic
shoppers; left whole it would leave the page almost no room, and with the interview none. So
the persona gets at most ``max(persona_share × budget, persona_floor)`` tokens
(:data:`PERSONA_SHARE`, :data:`PERSONA_FLOOR`; the floor never more than half the budget). The
share is small so a long persona leaves the page its room at the default budget; the floor keeps
a short persona whole at small budgets (the synthetic shoppers' longest is 269 tokens). A persona
within its share is shown exactly as it is. A longer one is condensed, each step only as far
as needed, never looking at the trial's target (the cut is the same for every step of a
person):

1. the interview (``Person.text``) is shortened to its beginning, ending in ``…``; when the
   survey alone exceeds the share, the interview goes entirely;
2. free-text answers (survey lines whose answer is longer than :data:`FREE_TEXT_CHARS`
   characters) are shortened to a common length, the largest that fits, ending in ``…``
   (at least :data:`MIN_ANSWER_CHARS` characters are kept of each);
3. the free-text answers, from the bottom up (a heading left with nothing under it goes too),
   so the structured fields stay word for word as long as they fit on their own;
4. survey lines, from the bottom up (the structured fields come first in OPeRA's survey:
   demographics, then preferences, then personality scores).

What was condensed is recorded with the trial's cut (``persona_tokens_before``,
``persona_tokens_after``, ``persona_condensed``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from behaviorlab.data._records import Person
from behaviorlab.tasks._tokens import TokenCounter

PERSONA_SHARE = 0.2
"""The default largest share of the budget the persona may take (``persona_share``)."""
PERSONA_FLOOR = 300
"""The persona may always take this many tokens, whatever the share (``persona_floor``),
but never more than half the budget."""
FREE_TEXT_CHARS = 80
"""An answer longer than this is free text (the limit of ``Person.attributes`` too)."""
MIN_ANSWER_CHARS = 40
"""Step 2 keeps at least this many characters of each free-text answer."""
ELLIPSIS = "…"


def persona_text(person: Person | None) -> str:
    """The persona as the prompt shows it: the description, then the free text."""
    if person is None:
        return ""
    return "\n".join(p for p in (person.description, person.text) if p)


@dataclass(frozen=True)
class PersonaCut:
    """The persona as shown and how much of it was condensed."""

    person: Person
    tokens_before: int
    tokens_after: int
    condensed: bool
    interview_shortened: bool = False
    answers_shortened: int = 0
    lines_dropped: int = 0

    def as_meta(self) -> dict[str, int | bool]:
        return {
            "persona_tokens_before": self.tokens_before,
            "persona_tokens_after": self.tokens_after,
            "persona_condensed": self.condensed,
        }


def persona_limit(budget: int | None, share: float | None, floor: int = 0) -> int | None:
    """The persona's most tokens: ``max(⌊share × budget⌋, min(floor, ⌊budget / 2⌋))``
    (None: no limit, when ``budget`` or ``share`` is None)."""
    if budget is None or share is None:
        return None
    return max(math.floor(share * budget), min(floor, budget // 2))


def _split_answer(line: str) -> tuple[str, str]:
    """``"  - Question: answer"`` → (``"  - Question: "``, ``"answer"``); a bare item's text is
    all answer."""
    head, sep, answer = line.partition(": ")
    if sep:
        return head + sep, answer
    stripped = line.lstrip()
    if stripped.startswith("- "):
        cut = len(line) - len(stripped) + 2
        return line[:cut], line[cut:]
    return "", line


def _shorten(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(0, chars - 1)].rstrip() + ELLIPSIS


def condense_persona(person: Person, limit: int | None, count: TokenCounter) -> PersonaCut:
    """``person`` with its description and text condensed to ``limit`` tokens in the order
    of the module docstring (unchanged when it fits or ``limit`` is None)."""
    before = count(persona_text(person))
    if limit is None or before <= limit:
        return PersonaCut(person, before, before, condensed=False)
    description = person.description or ""
    lines = description.split("\n") if description else []

    def shown(lines: list[str], text: str | None) -> Person:
        return person.model_copy(
            update={"description": "\n".join(lines) or None, "text": text or None}
        )

    def size(lines: list[str], text: str | None) -> int:
        return count(persona_text(shown(lines, text)))

    # 1. the interview: its longest beginning that fits after the whole survey
    text = person.text
    interview_cut = False
    if text:
        interview_cut = True
        if size(lines, None) >= limit:
            text = None
        else:
            lo, hi = 0, len(text)
            while lo < hi:  # the most characters that fit
                mid = (lo + hi + 1) // 2
                if size(lines, _shorten(text, mid)) <= limit:
                    lo = mid
                else:
                    hi = mid - 1
            text = _shorten(text, lo) if lo > len(ELLIPSIS) else None
        if size(lines, text) <= limit:
            return _done(person, shown(lines, text), before, count, interview_cut)

    # 2. free-text answers to a common length
    parts = [_split_answer(ln) for ln in lines]
    free = [i for i, (_, a) in enumerate(parts) if len(a) > FREE_TEXT_CHARS]

    def with_answers(chars: int) -> list[str]:
        return [h + (_shorten(a, chars) if i in free else a) for i, (h, a) in enumerate(parts)]

    shortened = 0
    if free:
        longest = max(len(parts[i][1]) for i in free)
        lo, hi = MIN_ANSWER_CHARS, longest
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if size(with_answers(mid), None) <= limit:
                lo = mid
            else:
                hi = mid - 1
        lines = with_answers(lo)
        shortened = sum(1 for i in free if len(parts[i][1]) > lo)
        if size(lines, None) <= limit:
            return _done(person, shown(lines, None), before, count, interview_cut, shortened)

    # 3. the free-text answers, from the bottom up (a heading left empty goes with them)
    dropped = 0
    for i in sorted(free, reverse=True):
        if size(lines, None) <= limit:
            return _done(
                person, shown(lines, None), before, count, interview_cut, shortened, dropped
            )
        lines = _without(lines, i)
        dropped += 1
        if not lines:
            break

    # 4. survey lines from the bottom up
    while lines and size(lines, None) > limit:
        lines = lines[:-1]
        dropped += 1
    return _done(person, shown(lines, None), before, count, interview_cut, shortened, dropped)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _without(lines: list[str], i: int) -> list[str]:
    """``lines`` without line ``i``, and without the headings above it (a line ending in
    ``:``) that are left with nothing under them."""
    out = lines[:i] + lines[i + 1 :]
    j = i - 1
    while j >= 0 and out[j].rstrip().endswith(":") and ": " not in out[j].strip():
        below = out[j + 1] if j + 1 < len(out) else None
        if below is not None and _indent(below) > _indent(out[j]):
            break
        out = out[:j] + out[j + 1 :]
        j -= 1
    return out


def _done(
    original: Person,
    person: Person,
    before: int,
    count: TokenCounter,
    interview: bool,
    answers: int = 0,
    dropped: int = 0,
) -> PersonaCut:
    return PersonaCut(
        person=person,
        tokens_before=before,
        tokens_after=count(persona_text(person)),
        condensed=person != original,
        interview_shortened=interview,
        answers_shortened=answers,
        lines_dropped=dropped,
    )
