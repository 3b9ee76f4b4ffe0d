"""The capture store's schema and the plain rows and errors it hands out."""

from __future__ import annotations

from dataclasses import dataclass

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS studies (
        study_id TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, config TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS participants (
        participant_id TEXT PRIMARY KEY, study_id TEXT NOT NULL, token TEXT NOT NULL UNIQUE,
        enrolled_at TEXT NOT NULL, consented_at TEXT, survey TEXT, raw_survey TEXT,
        survey_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS consents (
        participant_id TEXT NOT NULL, study_id TEXT NOT NULL, shown_text TEXT NOT NULL,
        shown_at TEXT NOT NULL, consented_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS events (
        participant_id TEXT NOT NULL, event_id TEXT NOT NULL, study_id TEXT NOT NULL,
        session_id TEXT NOT NULL, seq BIGINT NOT NULL, client_ts TEXT NOT NULL,
        received_at TEXT NOT NULL, action_type TEXT NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (participant_id, event_id))""",
    "CREATE INDEX IF NOT EXISTS events_by_study ON events (study_id, received_at)",
    """CREATE TABLE IF NOT EXISTS consent_views (
        participant_id TEXT PRIMARY KEY, shown_at TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS rationales (
        participant_id TEXT NOT NULL, event_id TEXT NOT NULL, study_id TEXT NOT NULL,
        rationale TEXT NOT NULL, client_ts TEXT NOT NULL, received_at TEXT NOT NULL,
        PRIMARY KEY (participant_id, event_id))""",
)


@dataclass(frozen=True)
class EventRow:
    """One stored event (``payload``: the cleaned :class:`CapturedEvent` as JSON)."""

    participant_id: str
    event_id: str
    study_id: str
    session_id: str
    seq: int
    client_ts: str
    received_at: str
    action_type: str
    payload: str


@dataclass(frozen=True)
class RationaleRow:
    participant_id: str
    event_id: str
    rationale: str
    client_ts: str


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal did: rows deleted per table, and whether they are off disk yet
    (``done``; else pending, to check later with ``receipt``)."""

    deleted: dict[str, int]
    receipt: int
    done: bool


class UnknownEvents(LookupError):
    """Rationales (their positions in the batch) for events the participant never sent."""

    def __init__(self, positions: list[int]) -> None:
        self.positions = positions
        super().__init__(f"rationales for unknown events at {positions}")


class ParticipantGone(LookupError):
    """The participant a write is for no longer exists (withdrawn meanwhile)."""
