"""Take a role in a dialogue trial from the chat page: the person plays one role of a
multi-party task (``human`` party), a model plays every other role.

A dialogue is a chat of kind ``dialogue``: the task (any registered task with ``roles`` and
``play_parties``, with its options), the trial (the first of the chosen person's), the role
the person plays. The task plays the trial in the viewer's event loop; every turn is stored
as a message the moment it is taken (one transaction per turn; the turn's whole answer in its
``meta``). When the person's role is asked, the question waits for the page. When the trial
ends, the chat's ``meta`` holds its status, the trial's answer and the task's scores.

A dialogue left half-way (the viewer stopped) is played again when it is next opened: the
stored turns are replayed from the store (no model is asked twice, the person is not asked
again) and the trial goes on from the first turn not stored. A failure that says nothing
about the trial is never stored: a reply that is not one of the options is refused (422) and
asked again; a model's failed call or the person's silence past :data:`HUMAN_TIMEOUT_S`
pauses the dialogue (status ``paused: ...``), and the next open takes that turn again.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

from behaviorlab._registry import UnknownComponentError, call_with_options
from behaviorlab.report._chat import ChatRequestError, ChatService, StartChat, persona_of
from behaviorlab.report._chat_store import ChatInfo, ChatMessage, new_chat_id
from behaviorlab.simulators import Answer, LLMSimulator, Simulator
from behaviorlab.simulators._human import HumanChannel, HumanParty, InvalidReply
from behaviorlab.tasks import Trial, TrialInput, tasks

SETTLE_S = 120.0
"""How long a request waits for the models' turns before answering (the page asks again)."""


def multi_party_tasks() -> list[dict[str, str]]:
    """The registered tasks a person can take a role in (those with ``play_parties``)."""
    return [
        {"name": e.name, "description": e.description}
        for e in tasks.entries()
        if callable(getattr(e.factory, "play_parties", None))
    ]


def make_task(name: str, options: dict[str, Any]) -> Any:
    try:
        made = call_with_options("task", name, tasks.get(name), **options)
    except UnknownComponentError as exc:
        raise ChatRequestError(str(exc)) from None
    except (TypeError, ValueError) as exc:
        raise ChatRequestError(f"cannot make task {name!r}: {exc}") from None
    if not callable(getattr(made, "play_parties", None)) or not getattr(made, "roles", None):
        found = ", ".join(t["name"] for t in multi_party_tasks()) or "none"
        raise ChatRequestError(
            f"task {name!r} is not played by several parties (no roles / play_parties); "
            f"tasks that are: {found}"
        )
    return made


async def close_task(task: Any) -> None:
    """Release what a task holds (its judges' models...): its ``aclose`` or ``close``."""
    aclose = getattr(task, "aclose", None)
    if callable(aclose):
        await aclose()
        return
    close = getattr(task, "close", None)
    if callable(close):
        close()


def text_of(answer: Answer, trial: TrialInput) -> str:
    """What a turn said, as the transcript shows it: the option chosen, else the text of a
    structured answer (its first string field), else the raw output."""
    if answer.error is not None:
        return f"(failed: {answer.error})"
    if trial.observation.options and answer.choice is not None:
        return answer.choice
    texts = [v for v in (answer.value or {}).values() if isinstance(v, str)]
    return texts[0] if texts else answer.raw


HUMAN_TIMEOUT_S = 3600.0
"""How long the person's turn waits for a reply before the dialogue pauses."""


class Paused(BaseException):
    """Raised out of a turn that must be taken again (the model failed, the person did not
    answer): the dialogue pauses, nothing of the turn is stored, and the next open retries
    it. A ``BaseException`` so that the task's own handling of a party's exception (a failed
    turn, stored for good) does not catch it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


RETRIED: frozenset[str] = frozenset({"backend", "timeout"})
"""The failures of a turn that are taken again rather than stored."""


class Recorded:
    """A party whose turns are stored as they are taken (and replayed when stored)."""

    def __init__(self, role: str, party: Simulator, dialogue: Dialogue, human: bool) -> None:
        self.role, self.party, self.dialogue, self.human = role, party, dialogue, human
        self.label = party.label

    def fit(self, train: Sequence[Trial]) -> None:
        self.party.fit(train)

    def identity(self) -> dict[str, Any]:
        return self.party.identity()

    async def answer(self, trial: TrialInput) -> Answer:
        turn = int(trial.meta.get("turn", 0))
        stored = self.dialogue.stored
        if turn < len(stored):  # played before the viewer stopped: the stored answer
            return Answer.model_validate(stored[turn].meta["answer"])
        who = "no reply from you" if self.human else "model failed"
        try:
            answer = await self.party.answer(trial)
        except Exception as exc:
            raise Paused(f"{who}: {type(exc).__name__}: {exc}") from None
        if answer.error_kind in RETRIED:
            raise Paused(f"{who}: {answer.error}")
        self.dialogue.record(turn, self.role, self.human, trial, answer)
        return answer


class Dialogue:
    """One dialogue trial being played."""

    def __init__(
        self, service: ChatService, info: ChatInfo, task: Any = None, trial: Trial | None = None
    ) -> None:
        self.service, self.info = service, info
        meta = info.meta
        self.task = task or make_task(str(meta["task"]), dict(meta.get("task_options", {})))
        self.trial = trial or find_trial(service, info, self.task)
        self.channel = HumanChannel()
        self.stored = service.store.messages(info.chat_id)
        made = service.pool.get(info.backend, info.backend_options)
        parties: dict[str, Simulator] = {}
        for role in self.task.roles:
            party: Simulator
            if role == meta["role"]:
                party = HumanParty(label="human", timeout_s=HUMAN_TIMEOUT_S).attach(self.channel)
            else:
                party = LLMSimulator(
                    made,
                    answer="generate",
                    temperature=info.temperature,
                    max_tokens=info.max_tokens,
                    label=f"{info.backend}:{role}",
                )
            parties[role] = Recorded(role, party, self, human=role == meta["role"])
        self.parties = parties
        self.play: asyncio.Task[None] | None = None
        self.closed = False

    def start(self) -> asyncio.Task[None]:
        self.play = asyncio.get_running_loop().create_task(self._run())
        return self.play

    async def close(self) -> None:
        """Release the task (once)."""
        if not self.closed:
            self.closed = True
            await close_task(self.task)

    async def _run(self) -> None:
        try:
            await self._play()
        finally:  # ended, paused, failed or cancelled: a later open makes a new task
            await self.close()

    async def _play(self) -> None:
        try:
            answer: Answer = await self.task.play_parties(self.trial, self.parties)
        except Paused as paused:  # the turn is taken again when the dialogue is next opened
            self.service.store.add(self.info.chat_id, [], status=f"paused: {paused.reason}")
            return
        except Exception as exc:  # a task's bug: the dialogue says so, the viewer goes on
            self.service.store.add(self.info.chat_id, [], status=f"failed: {exc}")
            return
        scores: dict[str, float] = {}
        if answer.ok:
            try:
                scores = dict(self.task.score(self.trial, answer))
            except Exception as exc:
                scores = {}
                answer = answer.model_copy(update={"error": f"scoring failed: {exc}"})
        self.service.store.add(
            self.info.chat_id,
            [],
            status="finished",
            answer={
                "error": answer.error,
                "value": answer.value,
                "roles": answer.meta.get("roles"),
            },
            scores=scores,
        )

    def record(self, turn: int, role: str, human: bool, trial: TrialInput, answer: Answer) -> None:
        message = ChatMessage(
            index=turn,
            role=role,
            speaker=f"{role} (you)" if human else role,
            content=text_of(answer, trial),
            human=human,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            meta={
                "turn": turn,
                "seen": trial.observation.content[-2000:],
                "error": answer.error,
                "answer": answer.model_dump(mode="json"),
            },
        )
        self.service.store.add(self.info.chat_id, [message])
        self.stored.append(message)

    @property
    def done(self) -> bool:
        return self.play is not None and self.play.done()

    def waiting(self) -> dict[str, Any] | None:
        """The question the person's role is asked now, if any."""
        question = self.channel.question
        if question is None:
            return None
        options = [o.model_dump() for o in question.observation.options or []]
        return {
            "role": self.info.meta["role"],
            "turn": int(question.meta.get("turn", 0)),
            "seen": question.observation.content,
            "options": options,
        }

    async def settle(self, timeout: float | None = None) -> None:
        """Wait until the person is asked or the trial is over (at most ``timeout`` s,
        :data:`SETTLE_S` by default: the page then shows the model thinking and asks
        again)."""
        timeout = SETTLE_S if timeout is None else timeout
        if self.play is None or self.done or self.channel.question is not None:
            return
        asked = asyncio.ensure_future(self.channel.changed())
        try:
            await asyncio.wait({asked, self.play}, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            asked.cancel()


def is_paused(info: ChatInfo) -> bool:
    return str(info.meta.get("status", "")).startswith("paused")


def find_trial(service: ChatService, info: ChatInfo, task: Any) -> Trial:
    data = service.dataset(info.source, dict(info.meta.get("source_options", {})))
    trials: list[Trial] = task.trials(data, seed=0)
    key = info.meta.get("trial_key")
    for trial in trials:
        if (key is not None and trial.key == key) or (
            key is None and trial.person_id == info.person_id
        ):
            return trial
    people = sorted({t.person_id for t in trials})
    raise ChatRequestError(
        f"task {info.meta['task']!r} has no trial of {info.person_id!r} in {info.source!r} "
        f"(people with trials: {', '.join(people[:5]) or 'none'})",
        404,
    )


class Dialogues:
    """The dialogues being played by one viewer."""

    def __init__(self, service: ChatService) -> None:
        self.service = service
        self.live: dict[str, Dialogue] = {}
        self._replying: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def begin(self, request: StartChat) -> ChatInfo:
        if request.task is None:
            raise ChatRequestError("a dialogue needs a task")
        task = make_task(request.task, request.task_options)
        try:
            return await self._begin(request, task)
        except BaseException:
            await close_task(task)
            raise

    async def _begin(self, request: StartChat, task: Any) -> ChatInfo:
        roles = [str(r) for r in task.roles]
        if request.role not in roles:
            raise ChatRequestError(
                f"task {request.task!r} has the roles {', '.join(roles)}; choose the one you "
                f"play (role), not {request.role!r}"
            )
        # loading the people (and the task's trials below) in a thread keeps the viewer
        # answering other requests meanwhile
        person = await run_in_threadpool(
            self.service.person, request.source, request.person_id, request.source_options
        )
        options = self.service.backend_options(request)
        made = self.service.pool.get(request.backend, options)
        info = ChatInfo(
            chat_id=new_chat_id(),
            kind="dialogue",
            source=request.source,
            person_id=person.person_id,
            persona=persona_of(person),
            backend=request.backend,
            backend_options=options,
            model=made.identity().model_dump(mode="json"),
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            meta={
                "task": request.task,
                "task_options": request.task_options,
                "role": request.role,
                "roles": roles,
                "source_options": request.source_options,
                "status": "playing",
            },
        )
        trial = await run_in_threadpool(find_trial, self.service, info, task)
        info = info.model_copy(update={"meta": {**info.meta, "trial_key": trial.key}})
        self.service.store.create(info)
        dialogue = await self.open(info, task, trial)
        await dialogue.settle()
        return self.service.store.get(info.chat_id)

    async def open(self, info: ChatInfo, task: Any = None, trial: Trial | None = None) -> Dialogue:
        """The live dialogue of ``info``, played again from its stored turns if the viewer
        has none (it stopped half-way); ``task`` and ``trial`` when already made. The task,
        the people and the trials are made in a thread (the viewer answers other requests
        meanwhile), once: a second request for the same dialogue waits for the first."""
        async with self._lock(f"open:{info.chat_id}"):
            dialogue = self.live.get(info.chat_id)
            if dialogue is not None and dialogue.done and is_paused(info):
                dialogue = None  # paused since: play it again from the stored turns
            if dialogue is None:
                if is_paused(info):
                    info = self.service.store.add(info.chat_id, [], status="playing")
                dialogue = await run_in_threadpool(Dialogue, self.service, info, task, trial)
                self.live[info.chat_id] = dialogue
                if info.meta.get("status") == "playing":
                    dialogue.start().add_done_callback(
                        functools.partial(self._ended, info.chat_id, dialogue)
                    )
                else:
                    await dialogue.close()
            return dialogue

    def _ended(self, chat_id: str, dialogue: Dialogue, _: object = None) -> None:
        # an ended dialogue is not kept: its page reads the store
        if self.live.get(chat_id) is dialogue:
            del self.live[chat_id]

    async def state(self, info: ChatInfo) -> dict[str, Any] | None:
        """What the page needs beyond the messages: the waiting question, if any. Opening a
        paused dialogue plays it on (the failed turn is taken again)."""
        if info.meta.get("status") != "playing" and not is_paused(info):
            return None
        dialogue = await self.open(info)
        await dialogue.settle(timeout=0.5)
        return dialogue.waiting()

    def _lock(self, chat_id: str) -> asyncio.Lock:
        lock = self._replying.get(chat_id)
        if lock is None:
            lock = self._replying[chat_id] = asyncio.Lock()
        return lock

    def phase(self, info: ChatInfo, waiting: dict[str, Any] | None) -> str:
        """Where the dialogue is: ``waiting`` (your turn), ``thinking`` (a model is taking
        its turn), else its stored status (``finished``, ``paused: ...``, ``failed: ...``)."""
        if waiting is not None:
            return "waiting"
        status = str(info.meta.get("status", ""))
        live = self.live.get(info.chat_id)
        if status == "playing" and live is not None and not live.done:
            return "thinking"
        return status

    async def reply(self, chat_id: str, text: str, turn: int | None) -> ChatInfo:
        """Answer the waiting question, which must be turn ``turn`` (the one the page
        showed): a reply written for another turn (a second tab, a stale page) is 409."""
        lock = self._lock(chat_id)
        async with lock:  # one reply of a dialogue at a time
            info = self.service.store.get(chat_id)
            status = info.meta.get("status")
            if status != "playing" and not is_paused(info):  # over: nothing to open
                raise ChatRequestError(
                    f"it is not your turn in dialogue {chat_id!r} (status: {status})", 409
                )
            dialogue = await self.open(info)
            await dialogue.settle(timeout=0.5)
            asked = dialogue.waiting()
            if asked is None:
                status = self.service.store.get(chat_id).meta.get("status")
                raise ChatRequestError(
                    f"it is not your turn in dialogue {chat_id!r} (status: {status})", 409
                )
            if turn is None:
                raise ChatRequestError(
                    f"say which turn you answer: send turn {asked['turn']} (the waiting "
                    "question's turn) with the text"
                )
            if turn != asked["turn"]:
                raise ChatRequestError(
                    f"turn {turn} is not waiting in dialogue {chat_id!r}: turn "
                    f"{asked['turn']} is (reload the page to see it)",
                    409,
                )
            try:
                dialogue.channel.reply(text)
            except InvalidReply as exc:
                raise ChatRequestError(str(exc), 422) from None
            await asyncio.sleep(0)  # let the trial take the reply before waiting on it
            await dialogue.settle()
            return self.service.store.get(chat_id)

    async def aclose(self) -> None:
        """Stop the dialogues being played and release their tasks."""
        live = list(self.live.values())
        plays = [d.play for d in live if d.play is not None and not d.play.done()]
        for play in plays:
            play.cancel()
        await asyncio.gather(*plays, return_exceptions=True)
        for dialogue in live:
            await dialogue.close()
        self.live.clear()
