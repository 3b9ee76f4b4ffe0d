"""OPeRA's table layout (dataset card of ``NEU-HAI/OPeRA``), the validation report and errors.

Three tables per version (``filtered``, ``full``) and split (``train``, ``test``): ``user``,
``session`` and ``action``. Every column is a string except ``session.action_count`` (an
integer); JSON columns hold JSON text. Column lists are in the order of the dataset card.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

OperaVersion = Literal["filtered", "full"]
OnInvalid = Literal["error", "skip"]

VERSIONS: tuple[OperaVersion, ...] = ("filtered", "full")
SPLITS = ("train", "test")
TABLES = ("user", "session", "action")

USER_COLUMNS = (
    "user_id",
    "survey",
    "raw_survey",
    "interview_transcript",
    "interview_transcript_processed",
)
SESSION_COLUMNS = ("session_id", "user_id", "action_count")
FILTERED_ACTION_COLUMNS = (
    "session_id",
    "action_id",
    "timestamp",
    "action_type",
    "click_type",
    "semantic_id",
    "mouse_position",
    "element_meta",
    "url",
    "window_size",
    "page_meta",
    "simplified_html",
    "rationale",
    "products",
    "input_text",
    "image",
)
FULL_ACTION_COLUMNS = (
    "session_id",
    "action_id",
    "timestamp",
    "action_type",
    "navigation_type",
    "simplified_html",
    "simplified_html_new_page",
    "url",
    "window_size",
    "page_meta",
    "rationale",
    "products",
    "scroll_detail",
    "click_type",
    "semantic_id",
    "target",
    "mouse_position",
    "element_meta",
    "input_text",
    "image",
    "image_new_page",
)
INTEGER_COLUMNS = frozenset({"action_count"})

FILTERED_ACTION_TYPES = ("click", "input", "terminate")
# The card lists click, scroll, input, navigation, tab_activate for the full version (and
# spells the last one "tabActivate" in its prose); terminate is accepted there too, since the
# filtered version is derived from the full one.
FULL_ACTION_TYPES = (*FILTERED_ACTION_TYPES, "scroll", "navigation", "tab_activate", "tabActivate")
ClickType = Literal[
    "purchase",
    "search",
    "review",
    "filter",
    "quantity",
    "product_option",
    "cart_side_bar",
    "suggested_term",
    "nav_bar",
    "page_related",
    "cart_page_select",
    "product_link",
    "other",
]
"""OPeRA's click types (the one list: the loader checks them, the capture server requires them)."""
CLICK_TYPES: tuple[str, ...] = get_args(ClickType)

# JSON columns and the JSON type their value must have ("any": not checked).
JsonShape = Literal["object", "list", "any"]
USER_JSON: dict[str, JsonShape] = {"survey": "object", "raw_survey": "any"}
ACTION_JSON: dict[str, JsonShape] = {
    "mouse_position": "object",
    "element_meta": "object",
    "window_size": "object",
    "page_meta": "object",
    "products": "list",
    "scroll_detail": "object",
}
# Action columns kept verbatim as text in Action.attributes.
ACTION_TEXT_ATTRIBUTES = (
    "click_type",
    "navigation_type",
    "target",
    "simplified_html_new_page",
    "image_new_page",
)
OBSERVATION_META_JSON = ("window_size", "page_meta")
ACTION_ATTRIBUTE_JSON = ("mouse_position", "element_meta", "products", "scroll_detail")


def action_columns(version: OperaVersion) -> tuple[str, ...]:
    return FILTERED_ACTION_COLUMNS if version == "filtered" else FULL_ACTION_COLUMNS


def action_types(version: OperaVersion) -> tuple[str, ...]:
    return FILTERED_ACTION_TYPES if version == "filtered" else FULL_ACTION_TYPES


def table_columns(table: str, version: OperaVersion) -> tuple[str, ...]:
    if table == "user":
        return USER_COLUMNS
    if table == "session":
        return SESSION_COLUMNS
    return action_columns(version)


class OperaFormatError(ValueError):
    """Input that is not in OPeRA's layout. The message names the table, column, row and file."""

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        row: int | None = None,
        path: str | None = None,
        reason: str = "invalid",
    ) -> None:
        self.table, self.column, self.row, self.path, self.reason = table, column, row, path, reason
        super().__init__(message)


@dataclass(frozen=True)
class OperaReport:
    """What a load read, kept and skipped (``on_invalid="skip"``), and what looked odd."""

    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """``"action/train"`` → the parquet files read for that table and split."""
    rows: dict[str, int] = field(default_factory=dict)
    """Rows read per table."""
    kept: dict[str, int] = field(default_factory=dict)
    """Rows turned into records per table."""
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    """Table → reason (``malformed_json``, ``unknown_click_type`` ...) → rows skipped."""
    problems: tuple[str, ...] = ()
    """The messages of the first skipped rows (at most 50)."""
    warnings: tuple[str, ...] = ()
    """Oddities that skip nothing (ignored columns, ``action_count`` that differs)."""

    @property
    def total_skipped(self) -> int:
        return sum(n for reasons in self.skipped.values() for n in reasons.values())

    def summary(self) -> str:
        lines = [
            f"{t}: {self.rows.get(t, 0)} rows read, {self.kept.get(t, 0)} kept"
            + (
                " (skipped: "
                + ", ".join(f"{r} {n}" for r, n in sorted(self.skipped[t].items()))
                + ")"
                if self.skipped.get(t)
                else ""
            )
            for t in TABLES
        ]
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])


# --- values ---------------------------------------------------------------------------------


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp (``2025-04-14T21:52:57.792Z``); ``ValueError`` otherwise."""
    return datetime.fromisoformat(text.strip())


def format_timestamp(value: datetime) -> str:
    """OPeRA's action timestamp form: milliseconds (or microseconds) and ``Z`` for UTC."""
    spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    text = value.isoformat(timespec=spec)
    if value.utcoffset() == timedelta(0):
        text = text.removesuffix("+00:00") + "Z"
    return text


def sort_key(value: datetime) -> float:
    """Seconds since the epoch, naive timestamps read as UTC (so both kinds compare)."""
    if value.tzinfo is None:
        return (value - datetime(1970, 1, 1)).total_seconds()
    return value.timestamp()


def dump_json(value: Any) -> str:
    """JSON text of a parsed JSON column; ``""`` (an empty cell kept as text) stays ``""``."""
    if isinstance(value, str) and value == "":
        return ""
    return json.dumps(value, ensure_ascii=False)


def json_type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "list"
    return "null" if value is None else type(value).__name__
