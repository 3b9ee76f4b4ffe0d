"""What the ingest server stores about studies and participants (pydantic: stored as JSON)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from behaviorlab.collect._pii import PiiConfig

Clock = Callable[[], datetime]

DEFAULT_CONSENT = (
    "This study records how you shop on the sites listed below: the pages you see (a "
    "simplified copy without scripts), what you click and type, and short explanations you "
    "choose to give. Emails, phone numbers, card numbers and street addresses are masked "
    "before anything is stored. Your record carries a random id, not your name. You can "
    "withdraw at any time; withdrawal deletes everything recorded about you."
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A fixed-width UTC text form, so stored times compare as text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_token(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(24)}"


class Study(BaseModel):
    """A study: who may enrol (its token), where to record, what to ask and keep."""

    model_config = ConfigDict(extra="forbid")

    study_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
    name: str
    token: str = Field(default_factory=lambda: new_token("st-"), min_length=16)
    allowed_hosts: list[str] = Field(default_factory=list)
    rationale_share: float = Field(default=0.1, ge=0, le=1)
    retention_days: int | None = Field(default=None, ge=1)
    questionnaire: dict[str, Any] | None = Field(
        default=None, description="The questionnaire (parsed YAML); None: the default one."
    )
    consent_text: str = DEFAULT_CONSENT
    pii: PiiConfig = Field(default_factory=PiiConfig)
    created_at: datetime = Field(default_factory=utc_now)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?|\*\.[A-Za-z0-9.-]+", host):
                raise ValueError(
                    f"{host!r} is not a host or host:port (for example shop.example.com, "
                    "127.0.0.1:8000 or *.example.com)"
                )
        return [h.lower() for h in hosts]

    def allows(self, host: str, port: int | None) -> bool:
        """Whether a page on ``host`` (and ``port``) is one the study records."""
        host = host.lower()
        for allowed in self.allowed_hosts:
            if allowed.startswith("*."):
                if host.endswith(allowed[1:]) or host == allowed[2:]:
                    return True
            elif ":" in allowed:
                if port is not None and allowed == f"{host}:{port}":
                    return True
            elif allowed == host:
                return True
        return False


class Participant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: str
    study_id: str
    token: str
    enrolled_at: datetime
    consented_at: datetime | None = None
    survey: dict[str, Any] | None = None
    raw_survey: dict[str, Any] | None = None
