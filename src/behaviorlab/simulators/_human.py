"""A person as a party of a multi-party trial: ``human``, whose answers come from outside.

A :class:`HumanParty` plays a role (the therapist of a simulated patient, a debater, a player)
by asking its :class:`HumanChannel` and waiting for the person's reply: the viewer's chat page
attaches a channel, shows the question (what the role sees) and hands back what the person
wrote. A reply is read as the turn's answer: for a turn with options, an option code or the
exact wording of an option (anything else is refused by :meth:`HumanChannel.reply` and the
question keeps waiting); otherwise the text, in the answer schema's first string field (as
the ``script`` party reads a text line). A turn with no reply within ``timeout_s`` is a
failed turn of kind ``timeout``.

Without a channel (``parties:`` in a spec run by ``behaviorlab run``) every turn fails with
an error saying the role is played in the viewer: a batch run cannot wait for a person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.simulators._parties import _text_field
from behaviorlab.tasks._base import Trial, TrialInput

NO_CHANNEL = (
    "the human party {label!r} is played by a person in the viewer's chat page "
    "(behaviorlab view, /chat: 'take a role'); a batch run cannot wait for a person"
)


class InvalidReply(ValueError):
    """A reply that does not answer the waiting question; it keeps waiting."""


class HumanChannel:
    """Where a human party's question waits for the person's reply.

    :meth:`ask` (the party) publishes the question and waits; :meth:`reply` (the page)
    answers it; :attr:`question` is the question waiting, if any; :meth:`changed` waits
    until a new question arrives."""

    def __init__(self) -> None:
        self.question: TrialInput | None = None
        self._reply: asyncio.Future[str] | None = None
        self._asked: asyncio.Event | None = None

    def _event(self) -> asyncio.Event:
        if self._asked is None:
            self._asked = asyncio.Event()
        return self._asked

    async def ask(self, trial: TrialInput) -> str:
        loop = asyncio.get_running_loop()
        self._reply = loop.create_future()
        self.question = trial
        self._event().set()
        try:
            return await self._reply
        finally:
            self.question = None
            self._reply = None

    def reply(self, text: str) -> None:
        """Answer the waiting question (a ``RuntimeError`` when none is waiting). A reply that
        is not an answer to it (not one of its options) is refused with
        :class:`InvalidReply` and the question keeps waiting: the person is asked again."""
        if self._reply is None or self._reply.done() or self.question is None:
            raise RuntimeError("no question is waiting for a reply")
        read = read_reply(text, self.question)
        if read.error is not None:
            raise InvalidReply(f"{read.error}; answer again")
        self._event().clear()
        self.question = None
        self._reply.set_result(text)

    async def changed(self) -> None:
        """Return when a question is waiting."""
        await self._event().wait()


def read_reply(text: str, trial: TrialInput) -> Answer:
    """The person's reply as the turn's answer (see the module docstring)."""
    options = trial.observation.options or []
    if not options:
        return Answer(value={_text_field(trial.answer_schema): text}, raw=text)
    said = text.strip()
    for option in options:
        if said == option.code or said.casefold() == option.label.casefold():
            return Answer(choice=option.code, value={"answer": option.code}, raw=text)
    shown = ", ".join(f"{o.code} ({o.label})" for o in options)
    return Answer(
        raw=text,
        error=f"the reply {said!r} is not one of the options: {shown}",
        error_kind="invalid",
    )


@simulator("human")
class HumanParty:
    """A person's party: each turn waits for the person's reply (``timeout_s``, default one
    hour) through the channel the viewer attaches; see the module docstring."""

    def __init__(self, label: str | None = None, timeout_s: float = 3600.0) -> None:
        self.label = label or "human"
        self.timeout_s = timeout_s
        self.channel: HumanChannel | None = None

    def attach(self, channel: HumanChannel) -> HumanParty:
        self.channel = channel
        return self

    def fit(self, train: Sequence[Trial]) -> None:
        """A person learns nothing from the training people here."""

    def identity(self) -> dict[str, Any]:
        return {"simulator": "human"}

    async def answer(self, trial: TrialInput) -> Answer:
        if self.channel is None:
            return Answer(error=NO_CHANNEL.format(label=self.label), error_kind="backend")
        try:
            text = await asyncio.wait_for(self.channel.ask(trial), self.timeout_s)
        except TimeoutError:
            return Answer(
                error=f"no reply from the person within {self.timeout_s:g} s", error_kind="timeout"
            )
        return read_reply(text, trial)
