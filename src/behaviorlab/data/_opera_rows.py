"""One OPeRA row → the fields of a record, or a :class:`RowError` naming the column at fault.

See :mod:`behaviorlab.data._opera` for where each column goes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from behaviorlab.data._opera_persona import survey_attributes, survey_text
from behaviorlab.data._opera_schema import (
    ACTION_ATTRIBUTE_JSON,
    ACTION_JSON,
    ACTION_TEXT_ATTRIBUTES,
    CLICK_TYPES,
    OBSERVATION_META_JSON,
    USER_JSON,
    JsonShape,
    OperaVersion,
    action_types,
    format_timestamp,
    json_type,
    parse_timestamp,
)
from behaviorlab.data._records import Action, Observation, Person, Rationale

ABSENT = object()
"""A null cell (its key is left out of the record)."""


class RowError(Exception):
    """What is wrong with one row: a reason code for the report, the column, a message."""

    def __init__(self, reason: str, column: str, message: str) -> None:
        self.reason, self.column, self.message = reason, column, message
        super().__init__(message)


@dataclass(frozen=True)
class Row:
    """One row of one parquet file, with where it came from (for error messages)."""

    table: str
    split: str
    path: Path
    index: int
    values: dict[str, Any]

    def where(self, column: str) -> str:
        return (
            f"OPeRA {self.table} table, column {column!r}, row {self.index} (0-based) "
            f"of {self.path}"
        )


def user_fields(
    row: Row, users: dict[str, tuple[Row, dict[str, Any]]]
) -> tuple[str, dict[str, Any]]:
    v = row.values
    uid = required_text(v, "user_id")
    fields = {c: parse_json(v, c, shape) for c, shape in USER_JSON.items()}
    for column in ("interview_transcript", "interview_transcript_processed"):
        fields[column] = ABSENT if v[column] is None else v[column]
    if uid in users:
        first, first_fields = users[uid]
        if first.split == row.split:
            raise RowError("duplicate_id", "user_id", f"user {uid!r} is listed twice")
        if first_fields != fields:
            raise RowError(
                "conflicting_user",
                "user_id",
                f"user {uid!r} differs from its row {first.index} in {first.path}",
            )
    return uid, fields


def make_person(uid: str, fields: dict[str, Any], splits: list[str]) -> Person:
    survey = fields["survey"]
    meta: dict[str, Any] = {}
    for column in ("survey", "raw_survey", "interview_transcript"):
        if fields[column] is not ABSENT:
            meta[column] = fields[column]
    meta["splits"] = list(splits)
    has_survey = isinstance(survey, dict)
    processed = fields["interview_transcript_processed"]
    return Person(
        person_id=uid,
        attributes=survey_attributes(survey) if has_survey else {},
        description=(survey_text(survey) or None) if has_survey else None,
        text=None if processed is ABSENT else processed,
        meta=meta,
    )


def session_fields(
    row: Row,
    users: dict[str, tuple[Row, dict[str, Any]]],
    sessions: dict[str, tuple[str, str, dict[str, Any]]],
) -> tuple[str, str, dict[str, Any]]:
    v = row.values
    sid = required_text(v, "session_id")
    uid = required_text(v, "user_id")
    count = v["action_count"]
    if count is None:
        raise RowError("missing_value", "action_count", "action_count is empty")
    if uid not in users:
        raise RowError(
            "unknown_user",
            "user_id",
            f"session {sid!r} names user {uid!r}, who is in no user table",
        )
    if not sid.startswith(f"{uid}_"):
        raise RowError(
            "mismatched_user",
            "session_id",
            f"session id {sid!r} does not start with its user_id {uid!r} "
            "(expected {user_id}_{start_time}_{end_time})",
        )
    if sid in sessions:
        raise RowError("duplicate_id", "session_id", f"session {sid!r} is listed twice")
    started, ended = session_times(sid, uid)
    fields = {
        "episode_id": sid,
        "person_id": uid,
        "kind": "shopping_session",
        "started_at": started,
        "ended_at": ended,
        "meta": {"action_count": int(count), "split": row.split},
    }
    return sid, uid, fields


def action_fields(
    version: OperaVersion,
    row: Row,
    sessions: dict[str, tuple[str, str, dict[str, Any]]],
    seen: set[str],
) -> tuple[str, datetime, dict[str, Any]]:
    v = row.values
    sid = required_text(v, "session_id")
    if sid not in sessions:
        raise RowError(
            "unknown_session",
            "session_id",
            f"session {sid!r} is in no session table (or was skipped)",
        )
    if sessions[sid][0] != row.split:
        raise RowError(
            "split_mismatch",
            "session_id",
            f"action of session {sid!r} is in split {row.split!r}, the session in "
            f"{sessions[sid][0]!r}",
        )
    aid = required_text(v, "action_id")
    if aid in seen:
        raise RowError("duplicate_id", "action_id", f"action {aid!r} is listed twice")
    raw_time = required_text(v, "timestamp")
    try:
        when = parse_timestamp(raw_time)
    except ValueError:
        raise RowError(
            "bad_timestamp", "timestamp", f"{raw_time!r} is not an ISO-8601 timestamp"
        ) from None
    kind = required_text(v, "action_type")
    allowed = action_types(version)
    if kind not in allowed:
        raise RowError(
            "unknown_action_type",
            "action_type",
            f"unknown action_type {kind!r} in the {version} version; "
            f"expected one of {', '.join(allowed)}",
        )
    click = v["click_type"]
    if (kind == "click" or click not in (None, "")) and click not in CLICK_TYPES:
        raise RowError(
            "unknown_click_type",
            "click_type",
            f"unknown click_type {click!r} (action_type {kind!r}); expected one of "
            f"{', '.join(CLICK_TYPES)}",
        )
    parsed = {c: parse_json(v, c, shape) for c, shape in ACTION_JSON.items() if c in v}

    obs_meta = {c: parsed[c] for c in OBSERVATION_META_JSON if parsed[c] is not ABSENT}
    if v["image"] is not None:
        obs_meta["image"] = v["image"]
    html = v["simplified_html"]
    if html is None:
        obs_meta["html_missing"] = True
    attributes = {c: v[c] for c in ACTION_TEXT_ATTRIBUTES if v.get(c) is not None}
    attributes |= {
        c: parsed[c] for c in ACTION_ATTRIBUTE_JSON if parsed.get(c, ABSENT) is not ABSENT
    }
    meta: dict[str, Any] = {}
    if format_timestamp(when) != raw_time:
        meta["raw_timestamp"] = raw_time
    raw_why = v["rationale"]
    why = raw_why.strip() if isinstance(raw_why, str) else ""
    if raw_why != why:
        meta["raw_rationale"] = raw_why
    fields = {
        "step_id": aid,
        "timestamp": when,
        "observation": Observation(kind="page", content=html or "", url=v["url"], meta=obs_meta),
        "action": Action(
            action_type=kind,
            target=v["semantic_id"],
            value=v["input_text"],
            attributes=attributes,
        ),
        "rationale": Rationale(text=why) if why else None,
        "meta": meta,
    }
    return sid, when, fields


def required_text(values: dict[str, Any], column: str) -> str:
    value = values[column]
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError("missing_value", column, f"{column} is empty")
    return str(value)


def parse_json(values: dict[str, Any], column: str, shape: JsonShape) -> Any:
    """A JSON cell parsed; ``ABSENT`` for a null cell, ``""`` for an empty one."""
    text = values[column]
    if text is None:
        return ABSENT
    if text == "":
        return ""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise RowError(
            "malformed_json",
            column,
            f"malformed JSON ({err.msg} at character {err.pos}): {text[:80]!r}",
        ) from None
    if shape != "any" and value is not None and json_type(value) != shape:
        raise RowError(
            "wrong_type",
            column,
            f"JSON {json_type(value)} where a JSON {shape} is expected: {text[:80]!r}",
        )
    return value


def session_times(session_id: str, user_id: str) -> tuple[datetime | None, datetime | None]:
    parts = session_id[len(user_id) + 1 :].split("_")
    if len(parts) != 2:
        return None, None
    try:
        return parse_timestamp(parts[0]), parse_timestamp(parts[1])
    except ValueError:
        return None, None
