"""The chat store: the viewer's conversations with twins, kept apart from every run.

One SQLite file (``chats.sqlite``) in the chat folder (``runs/_chat/`` by default), in WAL
mode with ``synchronous=FULL``: a conversation is a row of ``chats``; every message is a row
of ``messages``, and one turn (what the person said and the twin's reply) is written in one
transaction, so a crash loses at most the turn being answered. The folder is refused when it
is a run folder or inside one (it or a parent holds a ``results.sqlite``), and the file when
it is a symbolic link or a SQLite file of another schema (tables and ``user_version``): a
chat never writes the store of a run.

:meth:`ChatStore.episode` gives a conversation as a :class:`behaviorlab.data.Episode` (kind
``chat``): one :class:`Step` per reply of the twin, whose :class:`Observation` (kind
``message``) is what was said to it and whose :class:`Action` (``say``) is its reply; the
episode's ``meta`` holds the source, the model and the system prompt, so a conversation can
be rated and analysed like any other record; :meth:`ChatStore.dataset` gives them all as one
:class:`behaviorlab.data.Dataset`.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from behaviorlab.data import Action, Dataset, Episode, Observation, Person, Step

STORE_NAME = "chats.sqlite"
SCHEMA_VERSION = 1
RUN_RESULTS = "results.sqlite"
CHAT_TABLES = frozenset({"chats", "messages"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    chat_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    chat_id TEXT NOT NULL REFERENCES chats(chat_id),
    idx INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (chat_id, idx)
);
"""


class ChatError(ValueError):
    """A chat request that cannot be served (unknown chat, bad folder); says what to do."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_chat_id() -> str:
    return secrets.token_hex(8)


class ChatMessage(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="Position in the conversation, 0-based.")
    role: str = Field(
        description="Who spoke: 'person' (the one at the page), 'twin', or a dialogue role."
    )
    speaker: str = Field(description="A readable name of the speaker (the person id, a role).")
    content: str
    created_at: str = Field(default_factory=now)
    human: bool = Field(default=False, description="Written by the person at the page.")
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = Field(default=0.0, description="How long the model took to answer.")
    meta: dict[str, Any] = Field(default_factory=dict)


class ChatInfo(BaseModel):
    """One conversation: who the twin is, which model speaks for it, and how it is framed."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    chat_id: str
    kind: Literal["twin", "dialogue"] = "twin"
    source: str = Field(description="Where the person comes from: 'dataset:NAME' or 'run:NAME'.")
    person_id: str
    persona: str = Field(description="The persona text the system prompt holds.")
    backend: str
    backend_options: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict, description="The backend's identity.")
    system_prompt: str = ""
    max_tokens: int = 200
    temperature: float = 0.0
    created_at: str = Field(default_factory=now)
    updated_at: str = Field(default_factory=now)
    turns: int = Field(default=0, description="Messages stored.")
    meta: dict[str, Any] = Field(default_factory=dict)


class ChatStore:
    """The conversations under ``folder`` (created on first use)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).resolve()
        run = next(
            (d for d in (self.folder, *self.folder.parents) if (d / RUN_RESULTS).exists()), None
        )
        if run is not None:
            where = (
                "is a run folder"
                if run == self.folder
                else f"is inside the run folder {str(run)!r}"
            )
            raise ChatError(
                f"{str(self.folder)!r} {where} (it holds {RUN_RESULTS}); chats are never "
                "written into a run: give --chat-dir a folder outside every run (and --out the "
                "folder holding the runs, not a run)"
            )
        self.path = self.folder / STORE_NAME
        self._ready = False
        self._check_file()

    def _check_file(self) -> None:
        """Refuse a store file that is a link (to a run's results among others) or a SQLite
        file of another schema: the chat writes only its own file."""
        where = str(self.path)
        if self.path.is_symlink():
            target = self.path.resolve()
            what = "a run's results store" if target.name == RUN_RESULTS else str(target)
            raise ChatError(
                f"{where!r} is a symbolic link (to {what}); the chat writes only its own "
                f"file: remove the link or give --chat-dir another folder"
            )
        if not self.path.exists():
            return
        try:
            with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as db:
                tables = {
                    r[0]
                    for r in db.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%'"
                    )
                }
                version = int(db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise ChatError(
                f"{where!r} is not a chat store ({exc}); move it away or give --chat-dir "
                "another folder"
            ) from None
        if tables and (tables != CHAT_TABLES or version != SCHEMA_VERSION):
            raise ChatError(
                f"{where!r} is not a chat store (tables {', '.join(sorted(tables))}, "
                f"user_version {version}; a chat store has {', '.join(sorted(CHAT_TABLES))} "
                f"and user_version {SCHEMA_VERSION}); the chat never writes another file: move "
                "it away or give --chat-dir another folder"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._check_file()  # made or swapped since the viewer started
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            if not self._ready:
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self._ready = True
            yield db

    def create(self, info: ChatInfo) -> ChatInfo:
        with self._connect() as db:
            db.execute(
                "INSERT INTO chats VALUES (?, ?, ?, ?)",
                (info.chat_id, info.created_at, info.updated_at, info.model_dump_json()),
            )
        return info

    def get(self, chat_id: str) -> ChatInfo:
        with self._connect() as db:
            row = db.execute("SELECT body FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
        if row is None:
            raise ChatError(
                f"no conversation {chat_id!r} in {str(self.path)!r}; the list is at /chat"
            )
        return ChatInfo.model_validate_json(row[0])

    def chats(self) -> list[ChatInfo]:
        """Every conversation, the latest first."""
        with self._connect() as db:
            rows = db.execute("SELECT body FROM chats ORDER BY updated_at DESC, chat_id").fetchall()
        return [ChatInfo.model_validate_json(r[0]) for r in rows]

    def messages(self, chat_id: str) -> list[ChatMessage]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM messages WHERE chat_id = ? ORDER BY idx", (chat_id,)
            ).fetchall()
        return [ChatMessage.model_validate_json(r[0]) for r in rows]

    def add(self, chat_id: str, messages: Sequence[ChatMessage], **meta: Any) -> ChatInfo:
        """Append ``messages`` (a turn) in one transaction; ``meta`` updates the chat's."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT body FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
                if row is None:
                    raise ChatError(f"no conversation {chat_id!r} in {str(self.path)!r}")
                info = ChatInfo.model_validate_json(row[0])
                start = int(
                    db.execute(
                        "SELECT COUNT(*) FROM messages WHERE chat_id = ?", (chat_id,)
                    ).fetchone()[0]
                )
                for offset, message in enumerate(messages):
                    stored = message.model_copy(update={"index": start + offset})
                    db.execute(
                        "INSERT INTO messages VALUES (?, ?, ?)",
                        (chat_id, stored.index, stored.model_dump_json()),
                    )
                info = info.model_copy(
                    update={
                        "turns": start + len(messages),
                        "updated_at": now(),
                        "meta": {**info.meta, **meta},
                    }
                )
                db.execute(
                    "UPDATE chats SET updated_at = ?, body = ? WHERE chat_id = ?",
                    (info.updated_at, info.model_dump_json(), chat_id),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return info

    def episode(self, chat_id: str) -> Episode:
        """The conversation as an :class:`Episode` (see the module docstring)."""
        info = self.get(chat_id)
        return to_episode(info, self.messages(chat_id))

    def dataset(self, name: str = "chats") -> Dataset:
        """Every conversation as one :class:`Dataset`, to be rated or analysed like any
        other. A person is ``SOURCE/PERSON_ID`` (the same id in two sources is two people),
        described by the persona the twin was given; their episodes name them so."""
        persons: dict[str, Person] = {}
        episodes: list[Episode] = []
        for info in reversed(self.chats()):  # oldest first
            key = f"{info.source}/{info.person_id}"
            persons[key] = Person(
                person_id=key,
                description=info.persona,
                meta={"source": info.source, "person_id": info.person_id},
            )
            episode = self.episode(info.chat_id)
            episodes.append(episode.model_copy(update={"person_id": key}))
        return Dataset(name=name, source=str(self.path), persons=persons, episodes=episodes)


def to_episode(info: ChatInfo, messages: Sequence[ChatMessage]) -> Episode:
    """One step per message not written at the page (the simulated side's), observing what
    was said since the previous such message."""
    steps: list[Step] = []
    heard: list[ChatMessage] = []
    for message in messages:
        if message.human:
            heard.append(message)
            continue
        said = "\n".join(m.content for m in heard)
        steps.append(
            Step(
                index=len(steps),
                step_id=f"{info.chat_id}:{message.index}",
                timestamp=datetime.fromisoformat(message.created_at),
                observation=Observation(
                    kind="message",
                    content=said,
                    meta={"from": [m.speaker for m in heard]},
                ),
                action=Action(
                    action_type="say",
                    value=message.content,
                    attributes={
                        "role": message.role,
                        "tokens_in": message.tokens_in,
                        "tokens_out": message.tokens_out,
                        "seconds": message.seconds,
                    },
                ),
                meta=dict(message.meta),
            )
        )
        heard = []
    return Episode(
        episode_id=f"chat:{info.chat_id}",
        person_id=info.person_id,
        kind="chat",
        started_at=datetime.fromisoformat(info.created_at),
        ended_at=datetime.fromisoformat(info.updated_at),
        steps=steps,
        meta={
            "chat_kind": info.kind,
            "source": info.source,
            "backend": info.backend,
            "model": info.model,
            "system_prompt": info.system_prompt,
            "persona": info.persona,
            "messages": [m.model_dump(mode="json") for m in messages],
            **info.meta,
        },
    )
