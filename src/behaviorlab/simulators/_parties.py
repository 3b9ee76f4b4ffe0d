"""Parties: one simulator per role of a multi-party trial, the log of their turns, and
scripted parties.

:class:`TurnLog` is how a multi-party task asks its parties (see
:mod:`behaviorlab.tasks._parties`): each turn recorded with its speaker, what it saw and
answered, its tokens and cost; the trial's answer sums them.

:class:`PartySet` is what a spec's ``parties:`` entry becomes: a label (the result rows'
``simulator``) and the simulator playing each role. The runner hands its mapping to the task
(``play_parties``); it is never asked to answer a trial itself.

``script`` is a scripted party: it answers a role's turns from a fixed list (``lines``), or
replays a human transcript held by the trial (``field``: a key of the trial's ``meta`` holding
a list of turns, or a mapping role → list). A line is a text, or a mapping that is the answer
itself (``{"answer": "C"}``). A script that runs out answers with an error naming how many
lines it had, unless ``cycle: true``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from behaviorlab.data._records import stable_hash
from behaviorlab.models._base import MissingExtraError
from behaviorlab.simulators._base import Answer, ErrorKind, Simulator, simulator
from behaviorlab.tasks._base import Trial, TrialInput
from behaviorlab.tasks._parties import SEEN_CHARS, TEXT_CHARS, Turn


class PartySet:
    """The simulators of one ``parties:`` entry, by role."""

    def __init__(self, label: str, parties: Mapping[str, Simulator]) -> None:
        self.label = label
        self.parties: dict[str, Simulator] = dict(parties)

    @property
    def learns_from_people(self) -> bool:
        return any(getattr(s, "learns_from_people", False) for s in self.parties.values())

    def fit(self, train: Sequence[Trial]) -> None:
        """Each party fits on the training trials (once per distinct simulator)."""
        seen: set[int] = set()
        for sim in self.parties.values():
            if id(sim) not in seen:
                seen.add(id(sim))
                sim.fit(train)

    async def answer(self, trial: TrialInput) -> Answer:
        return Answer(
            error=f"{self.label!r} is a set of parties ({', '.join(self.parties)}): only a "
            "multi-party task's play_parties can play it",
            error_kind="backend",
        )

    def identity(self) -> dict[str, Any]:
        return {
            "parties": {
                role: {"label": sim.label, **sim.identity()} for role, sim in self.parties.items()
            }
        }


class TurnLog:
    """Asks the parties of one trial and records their turns.

    ``await log.ask(role, trial_input)`` gets that role's answer (a simulator's exception
    becomes a failed answer; a missing optional package still stops the run) and records the
    turn; :meth:`score` adds per-turn scores; :meth:`answer` gives the trial's answer with the
    turns and the summed tokens, calls and cost."""

    def __init__(self, parties: Mapping[str, Simulator]) -> None:
        self.parties = dict(parties)
        self.turns: list[Turn] = []

    def taken(self, role: str) -> int:
        """How many turns ``role`` has taken so far."""
        return sum(t.role == role for t in self.turns)

    async def ask(self, role: str, trial_input: TrialInput) -> Answer:
        if role not in self.parties:
            raise KeyError(f"no party plays the role {role!r}; roles: {sorted(self.parties)}")
        sim = self.parties[role]
        seen = trial_input.observation.content
        index, before = len(self.turns), self.taken(role)
        asked = trial_input.model_copy(
            update={"meta": {**trial_input.meta, "role": role, "turn": index, "role_turn": before}}
        )
        try:
            answer = await sim.answer(asked)
        except MissingExtraError:
            raise
        except Exception as exc:  # a party's bug is a failed turn, not a failed run
            answer = Answer(error=f"{type(exc).__name__}: {exc}", error_kind="backend")
        self.turns.append(
            Turn(
                index=index,
                role=role,
                simulator=sim.label,
                role_turn=before,
                seen=seen[-SEEN_CHARS:],
                seen_chars=len(seen),
                prompt_hash=answer.prompt_hash,
                answer=answer.choice,
                value=answer.value,
                text=answer.raw[:TEXT_CHARS],
                text_chars=len(answer.raw),
                error=answer.error,
                error_kind=answer.error_kind,
                tokens_in=answer.tokens_in,
                tokens_out=answer.tokens_out,
                calls=answer.calls,
                cache_hits=answer.cache_hits,
                cost=answer.cost,
            )
        )
        return answer

    def fail(self, turn: int, error: str, kind: ErrorKind = "invalid") -> None:
        """Mark turn ``turn`` failed: the task could not use its answer (e.g. a move that is
        not one of the options)."""
        self.turns[turn].error = error
        self.turns[turn].error_kind = kind

    def dead_roles(self) -> list[str]:
        """The roles that took turns and failed every one (a party that never played)."""
        return [
            role
            for role in self.parties
            if (mine := [t for t in self.turns if t.role == role])
            and all(t.error is not None for t in mine)
        ]

    def score(self, turn: int, **scores: float) -> None:
        """Add scores to turn ``turn`` (e.g. a round's payoff for the player who moved)."""
        self.turns[turn].scores.update({k: float(v) for k, v in scores.items()})

    def answer(
        self,
        *,
        value: dict[str, Any] | None = None,
        raw: str = "",
        meta: Mapping[str, Any] | None = None,
        choice: str | None = None,
    ) -> Answer:
        """The trial's answer: ``value``/``raw``/``choice`` as the task says, the turns in
        ``meta["turns"]``, tokens, calls and cost summed over the turns, the first turn's
        prompt hash as the trial's (every turn's is in its record). A role that failed
        every one of its turns makes the trial failed, naming the role and its first error:
        an exchange with a party that never played is not a result."""
        error: str | None = None
        kind: ErrorKind | None = None
        for role in self.dead_roles():
            mine = [t for t in self.turns if t.role == role]
            why = (
                f"role {role!r} ({self.parties[role].label}) failed all {len(mine)} of its "
                f"turns; the first: {mine[0].error}"
            )
            error = why if error is None else f"{error}; {why}"
            first = mine[0].error_kind
            if kind is None:
                kind = cast(ErrorKind, first) if first in ("invalid", "timeout") else "backend"
        return Answer(
            error=error,
            error_kind=kind,
            choice=choice,
            value=value,
            raw=raw,
            prompt_hash=next((t.prompt_hash for t in self.turns if t.prompt_hash), None),
            tokens_in=sum(t.tokens_in for t in self.turns),
            tokens_out=sum(t.tokens_out for t in self.turns),
            calls=sum(t.calls for t in self.turns),
            cache_hits=sum(t.cache_hits for t in self.turns),
            cost=sum(t.cost for t in self.turns),
            meta={
                **(meta or {}),
                "roles": {role: sim.label for role, sim in self.parties.items()},
                "turns": [t.model_dump(mode="json") for t in self.turns],
            },
        )


def _text_field(schema: Mapping[str, Any]) -> str:
    """The answer field a text line fills: the schema's first required string property."""
    props = schema.get("properties") or {}
    for name in schema.get("required") or list(props):
        if (props.get(name) or {}).get("type") == "string":
            return str(name)
    return "text"


@simulator("script")
class Script:
    """A scripted party: the ``role_turn``-th line of ``lines`` (or of the trial's
    ``meta[field]``), see the module docstring."""

    def __init__(
        self,
        lines: Sequence[str | Mapping[str, Any]] | None = None,
        field: str | None = None,
        cycle: bool = False,
        label: str | None = None,
    ) -> None:
        if (lines is None) == (field is None):
            raise ValueError("script: give either lines: [...] or field: <trial meta key>")
        self.lines = [x if isinstance(x, str) else dict(x) for x in lines or []]
        self.field = field
        self.cycle = cycle
        self.label = label or "script"

    def fit(self, train: Sequence[Trial]) -> None:
        """A script learns nothing."""

    def identity(self) -> dict[str, Any]:
        if self.field is not None:
            return {"simulator": "script", "field": self.field, "cycle": self.cycle}
        return {"simulator": "script", "lines": stable_hash(self.lines), "cycle": self.cycle}

    def _lines(self, trial: TrialInput) -> list[Any]:
        if self.field is None:
            return list(self.lines)
        held = trial.meta.get(self.field)
        if isinstance(held, Mapping):
            held = held.get(str(trial.meta.get("role")))
        if not isinstance(held, list):
            raise ValueError(
                f"script {self.label!r}: the trial has no list of turns in meta[{self.field!r}]"
                f"{' for role ' + repr(trial.meta.get('role')) if 'role' in trial.meta else ''}"
            )
        return held

    async def answer(self, trial: TrialInput) -> Answer:
        try:
            lines = self._lines(trial)
        except ValueError as exc:
            return Answer(error=str(exc), error_kind="invalid")
        n = int(trial.meta.get("role_turn", len(trial.history)))
        if self.cycle and lines:
            n %= len(lines)
        if n >= len(lines):
            role = trial.meta.get("role")
            return Answer(
                error=f"script {self.label!r}{f' (role {role!r})' if role else ''} has "
                f"{len(lines)} lines; turn {n + 1} asked for more",
                error_kind="invalid",
            )
        line = lines[n]
        codes = trial.observation.option_codes()
        if isinstance(line, Mapping):
            value = dict(line)
            choice = value.get("answer")
            return Answer(value=value, choice=str(choice) if choice is not None else None)
        text = str(line)
        if codes:
            if text not in codes:
                return Answer(
                    raw=text,
                    error=f"script line {text!r} is not one of the options {codes}",
                    error_kind="invalid",
                )
            return Answer(choice=text, value={"answer": text}, raw=text)
        return Answer(value={_text_field(trial.answer_schema): text}, raw=text)
