"""Talk to a twin: the people the viewer's chat can choose from, the twin's system prompt,
the models that speak for it, and one turn of a conversation.

A person comes from a **source**: any registered dataset (``dataset:NAME``, loaded with its
defaults or with the options given, e.g. a ``path``), or the data of a run in the viewer's
folder (``run:NAME``: the run's spec ``data:`` loaded as the run loaded it). The twin's system
prompt is :data:`TWIN_SYSTEM` followed by the persona exactly as the ``llm`` simulator shows
it (:func:`behaviorlab.simulators._prompts.persona_text`: the person's description and text,
under the same ``About you:`` header); a person with neither is described by their recorded
attributes. A model is any registered backend (``mock`` offline, ``llamacpp``, ``openai``
with a ``base_url``...), made once per (backend, options) and shared by the conversations
that use it. Conversations are stored by :class:`behaviorlab.report._chat_store.ChatStore`.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from behaviorlab._registry import UnknownComponentError, call_with_options
from behaviorlab.data import Dataset, Observation, Person, datasets, load_dataset
from behaviorlab.models import Backend, GenerateRequest, Message, backends
from behaviorlab.report._chat_store import ChatError, ChatInfo, ChatMessage, ChatStore, new_chat_id
from behaviorlab.simulators._prompts import PERSONA_HEADER, persona_text
from behaviorlab.tasks import TrialInput

TWIN_SYSTEM = (
    "You are talking as one specific person, not as an AI assistant. Reply to every message "
    "in the first person, as this person would, in a few sentences, based on who they are."
)
NO_PERSONA = "Nothing is known about you beyond your id."
MAX_TEXT = 4000
PEOPLE_LIMIT = 500
DATA_CACHE = 4
"""How many loaded datasets (source and options) the chat keeps."""
MAX_BACKENDS = 8
"""How many backend objects (backend and options) one viewer holds open."""
HISTORY_CHARS = 24_000
"""How much of a conversation (characters, the system prompt and the new message included)
is sent with a message; older messages are left out, and the reply says how many."""
SECRET_WORDS = frozenset({"token", "password", "passwd", "secret", "apikey"})
"""A key holding one of these words (split at ``_``, ``-``, ``.``), or ending in ``key``, is a
secret: it would be stored with the conversation."""


class ChatRequestError(ChatError):
    """A request the chat cannot serve; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class StartChat(BaseModel):
    """What the page sends to start a conversation."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="'dataset:NAME' or 'run:NAME' (see /api/chat/sources).")
    source_options: dict[str, Any] = Field(
        default_factory=dict, description="Loader options of a dataset source (e.g. path)."
    )
    person_id: str = Field(min_length=1)
    backend: str = "mock"
    model: str | None = Field(default=None, description="The backend's model option.")
    base_url: str | None = Field(default=None, description="An HTTP backend's server.")
    options: dict[str, Any] = Field(default_factory=dict, description="More backend options.")
    max_tokens: int = Field(default=200, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    task: str | None = Field(
        default=None,
        description="A multi-party task: take a role in its trial of the person (a dialogue) "
        "instead of talking to the twin.",
    )
    task_options: dict[str, Any] = Field(default_factory=dict)
    role: str | None = Field(default=None, description="The role the person plays.")


class Say(BaseModel):
    """One message written at the page."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    turn: int | None = Field(
        default=None,
        ge=0,
        description="In a dialogue, the turn this answers (the waiting question's ``turn``).",
    )


@dataclass(frozen=True)
class Source:
    """A place people can be chosen from."""

    key: str
    label: str
    description: str


def is_secret(key: str) -> bool:
    """Whether an option named ``key`` looks like a secret (api_key, *_key, token, password,
    secret)."""
    words = [w for w in re.split(r"[_\-.]", key.lower()) if w]
    return bool(words) and (words[-1] == "key" or any(w in SECRET_WORDS for w in words))


def refuse_secrets(options: dict[str, Any], what: str) -> dict[str, Any]:
    """``options`` as given, or a 400 naming the secret-like keys (and ``api_key_env``: the
    page cannot choose which environment variable is sent to a server)."""
    if "api_key_env" in options:
        raise ChatRequestError(
            f"{what}: api_key_env cannot be set from the page (it would send any environment "
            "variable to the server named by base_url); the backend reads its own default "
            "variable (OPENAI_API_KEY for openai): set that before starting the viewer"
        )
    secret = sorted(k for k in options if is_secret(str(k)))
    if secret:
        raise ChatRequestError(
            f"{what}: {', '.join(secret)} look like secrets and would be stored with the "
            "conversation: put the key in the backend's environment variable (OPENAI_API_KEY "
            "for openai) before starting the viewer"
        )
    return options


def check_start(request: StartChat) -> None:
    """Refuse secrets in any options the page sent (see :func:`refuse_secrets`)."""
    refuse_secrets(request.options, "backend options")
    refuse_secrets(request.task_options, "task options")
    refuse_secrets(request.source_options, "source options")


def persona_of(person: Person) -> str:
    """The persona the ``llm`` simulator would show for ``person`` (description and text);
    the recorded attributes when the person has neither."""
    shown = TrialInput(
        task="chat",
        item_id="chat",
        person_id=person.person_id,
        persona=person,
        observation=Observation(kind="message", content=""),
        answer_schema={},
    )
    text = persona_text(shown)
    if text:
        return text
    if person.attributes:
        pairs = "; ".join(f"{k}: {v}" for k, v in person.attributes.items())
        return f"What is recorded about you: {pairs}."
    return NO_PERSONA


def twin_system(persona: str) -> str:
    return f"{TWIN_SYSTEM}\n\n{PERSONA_HEADER}\n{persona}"


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def recent(earlier: list[ChatMessage], budget: int) -> tuple[list[ChatMessage], int]:
    """The latest messages of ``earlier`` whose text fits in ``budget`` characters (whole
    exchanges: it never starts on a twin's reply), and how many were left out."""
    kept: list[ChatMessage] = []
    used = 0
    for m in reversed(earlier):
        used += len(m.content)
        if used > budget:
            break
        kept.append(m)
    kept.reverse()
    while kept and not kept[0].human:
        kept.pop(0)
    return kept, len(earlier) - len(kept)


class BackendPool:
    """One backend object per (name, options), made on first use; at most ``limit``."""

    def __init__(self, limit: int = MAX_BACKENDS) -> None:
        self._made: dict[str, Backend] = {}
        self._guard = threading.Lock()
        self.limit = limit

    def get(self, name: str, options: dict[str, Any]) -> Backend:
        refuse_secrets(options, "backend options")
        key = _key([name, options])
        with self._guard:
            if key not in self._made:
                if len(self._made) >= self.limit:
                    raise ChatRequestError(
                        f"this viewer already holds {len(self._made)} models (backend and "
                        "options), the most it keeps open: use one of the models already "
                        "open, or restart the viewer to free them",
                        503,
                    )
                try:
                    factory = backends.get(name)
                    self._made[key] = call_with_options("backend", name, factory, **options)
                except UnknownComponentError as exc:
                    raise ChatRequestError(str(exc)) from None
                except (TypeError, ValueError, ImportError) as exc:
                    raise ChatRequestError(f"cannot make backend {name!r}: {exc}") from None
            return self._made[key]

    async def aclose(self) -> None:
        for made in list(self._made.values()):
            await made.aclose()
        self._made.clear()


class ChatService:
    """The chat of one viewer: its runs folder (for ``run:`` sources), its store, its
    models."""

    def __init__(
        self,
        runs_dir: str | Path,
        chat_dir: str | Path | None = None,
        *,
        run_folders: Callable[[Path], list[Path]],
    ) -> None:
        self.runs_dir = Path(runs_dir)
        self.run_folders = run_folders
        self.store = ChatStore(Path(chat_dir) if chat_dir is not None else self.runs_dir / "_chat")
        self.pool = BackendPool()
        self._data: OrderedDict[str, Dataset] = OrderedDict()
        self._data_guard = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        # a lock lives while a turn holds it: the dictionary never grows past the turns
        self._turn_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # --- people -------------------------------------------------------------------------
    def sources(self) -> list[Source]:
        """Every registered dataset, then the runs in the viewer's folder."""
        found = [Source(f"dataset:{e.name}", e.name, e.description) for e in datasets.entries()]
        for folder in self.run_folders(self.runs_dir):
            found.append(Source(f"run:{folder.name}", f"run {folder.name}", "the run's data"))
        return found

    def dataset(self, source: str, options: dict[str, Any] | None = None) -> Dataset:
        """The dataset of a source, loaded once per source and options (one load at a time
        per key, others go on) and kept for the :data:`DATA_CACHE` latest keys."""
        key = _key([source, options or {}])
        with self._data_guard:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._data_guard:
                if key in self._data:
                    self._data.move_to_end(key)
                    return self._data[key]
            try:
                made = self._load(source, options or {})
            finally:
                with self._data_guard:
                    self._loading.pop(key, None)
            with self._data_guard:
                self._data[key] = made
                while len(self._data) > DATA_CACHE:
                    self._data.popitem(last=False)
            return made

    def _load(self, source: str, options: dict[str, Any]) -> Dataset:
        kind, _, name = source.partition(":")
        try:
            if kind == "dataset" and name:
                return load_dataset(name, **options)
            if kind == "run" and name:
                return self._run_data(name)
        except ChatRequestError:
            raise
        except UnknownComponentError as exc:
            raise ChatRequestError(str(exc)) from None
        except Exception as exc:  # a source needing options, a broken file: say which
            raise ChatRequestError(
                f"cannot load the people of {source!r}: {exc}"
                + ("" if options or kind != "dataset" else " (give its loader options)")
            ) from None
        raise ChatRequestError(
            f"unknown source {source!r}: give 'dataset:NAME' or 'run:NAME' (listed at "
            "/api/chat/sources)"
        )

    def _run_data(self, name: str) -> Dataset:
        from behaviorlab.runs import load_spec, open_run
        from behaviorlab.runs._build import load_data

        folder = next((f for f in self.run_folders(self.runs_dir) if f.name == name), None)
        if folder is None:
            raise ChatRequestError(f"no run {name!r} in {str(self.runs_dir)!r}", 404)
        spec = open_run(folder).manifest.get("spec")
        if not isinstance(spec, dict):
            raise ChatRequestError(f"run {name!r} has no spec in its manifest")
        return load_data(load_spec(spec))

    def person(self, source: str, person_id: str, options: dict[str, Any] | None = None) -> Person:
        data = self.dataset(source, options)
        if person_id not in data.persons:
            some = ", ".join(sorted(data.persons)[:5])
            raise ChatRequestError(
                f"no person {person_id!r} in {source!r} ({len(data.persons)} people, e.g. {some})",
                404,
            )
        return data.persons[person_id]

    def people(
        self,
        source: str,
        options: dict[str, Any] | None = None,
        query: str = "",
        limit: int = PEOPLE_LIMIT,
    ) -> dict[str, Any]:
        """The people of a source whose id or persona holds ``query`` (the first ``limit``)."""
        data = self.dataset(source, options)
        wanted = query.strip().lower()
        shown: list[dict[str, str]] = []
        matched = 0
        for pid in sorted(data.persons):
            persona = persona_of(data.persons[pid])
            if wanted and wanted not in pid.lower() and wanted not in persona.lower():
                continue
            matched += 1
            if len(shown) < limit:
                shown.append({"person_id": pid, "persona": persona})
        return {"source": source, "total": len(data.persons), "matched": matched, "people": shown}

    # --- conversations ------------------------------------------------------------------
    def backend_options(self, request: StartChat) -> dict[str, Any]:
        """The backend's options: ``options`` with the model and base URL given apart."""
        options = dict(request.options)
        if request.model:
            options["model"] = request.model
        if request.base_url:
            options["base_url"] = request.base_url
        return options

    def start(self, request: StartChat) -> ChatInfo:
        person = self.person(request.source, request.person_id, request.source_options)
        options = self.backend_options(request)
        made = self.pool.get(request.backend, options)
        persona = persona_of(person)
        info = ChatInfo(
            chat_id=new_chat_id(),
            source=request.source,
            person_id=person.person_id,
            persona=persona,
            backend=request.backend,
            backend_options=options,
            model=made.identity().model_dump(mode="json"),
            system_prompt=twin_system(persona),
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            meta={"source_options": request.source_options} if request.source_options else {},
        )
        return self.store.create(info)

    def _lock(self, chat_id: str) -> asyncio.Lock:
        lock = self._turn_locks.get(chat_id)
        if lock is None:
            lock = self._turn_locks[chat_id] = asyncio.Lock()
        return lock

    async def say(self, chat_id: str, text: str) -> tuple[ChatInfo, list[ChatMessage]]:
        """The person's message and the twin's reply, stored together once the reply came;
        a failed model call stores nothing and says so."""
        async with self._lock(chat_id):
            info = self.store.get(chat_id)
            if info.kind != "twin":
                raise ChatRequestError(
                    f"conversation {chat_id!r} is a {info.kind}; answer its turns on its page",
                    409,
                )
            earlier = self.store.messages(chat_id)
            made = self.pool.get(info.backend, info.backend_options)
            kept, trimmed = recent(earlier, HISTORY_CHARS - len(info.system_prompt) - len(text))
            messages = [Message(role="system", content=info.system_prompt)]
            for m in kept:
                messages.append(Message(role="user" if m.human else "assistant", content=m.content))
            messages.append(Message(role="user", content=text))
            request = GenerateRequest(
                messages=messages,
                max_tokens=info.max_tokens,
                temperature=info.temperature,
                seed=len(earlier),
            )
            said = ChatMessage(index=0, role="person", speaker="you", content=text, human=True)
            began = time.perf_counter()
            try:
                out = await made.generate(request)
            except Exception as exc:  # the model's failure is the page's message, not a 500
                raise ChatRequestError(
                    f"the model ({info.backend}) failed, so nothing was stored; try again: "
                    f"{type(exc).__name__}: {exc}",
                    502,
                ) from None
            reply = ChatMessage(
                index=0,
                role="twin",
                speaker=info.person_id,
                content=out.text.strip(),
                tokens_in=out.tokens_in,
                tokens_out=out.tokens_out,
                seconds=round(time.perf_counter() - began, 3),
                meta={
                    **({"finish_reason": out.finish_reason} if out.finish_reason else {}),
                    **({"history_left_out": trimmed} if trimmed else {}),
                },
            )
            info = self.store.add(chat_id, [said, reply])
            stored = self.store.messages(chat_id)[-2:]
            return info, stored

    async def aclose(self) -> None:
        await self.pool.aclose()
