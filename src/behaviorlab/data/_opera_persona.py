"""An OPeRA survey (nested JSON: section → question → answer) as persona attributes and text.

``attributes`` keeps the short scalar answers (demographics, preferences, personality scores)
under ``"Section / Question"`` keys, for baselines and subgroup analysis; long free text (over
80 characters) stays out of them. ``description`` renders the whole survey as an indented list
that a language model can read, one line per answer; empty answers (blank text, null, an
empty list or section) are left out. The top-level ``synthetic`` marker of generated data describes
the record, not the person, so neither includes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_ATTRIBUTE_CHARS = 80
SEPARATOR = " / "
_RECORD_KEYS = frozenset({"synthetic"})


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def survey_attributes(survey: Mapping[str, Any]) -> dict[str, Any]:
    """Short scalar answers, flattened; a list of scalars becomes one comma-separated text."""
    out: dict[str, Any] = {}

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if not path and key in _RECORD_KEYS:
                    continue
                walk(value, [*path, str(key)])
            return
        if isinstance(node, list):
            if not node or not all(_is_scalar(v) for v in node):
                return
            node = ", ".join(str(v) for v in node if v is not None)
        if isinstance(node, str):
            node = node.strip()
            if not node or len(node) > MAX_ATTRIBUTE_CHARS:
                return
        if node is not None and path:
            out[SEPARATOR.join(path)] = node

    walk(survey, [])
    return out


def _one_line(value: Any) -> str:
    """An answer on one line: runs of whitespace (line breaks, tabs) become one space."""
    return " ".join(str(value).split())


def survey_text(survey: Mapping[str, Any]) -> str:
    """The survey as an indented list: ``Section:`` then ``- Question: answer`` lines, one
    line per answer (a free-text answer's line breaks and tabs become spaces)."""
    lines: list[str] = []

    def walk(node: Any, depth: int) -> None:
        pad = "  " * depth
        for key, value in node.items():
            if depth == 0 and key in _RECORD_KEYS:
                continue
            if isinstance(value, Mapping):
                if value:
                    lines.append(f"{pad}{'- ' if depth else ''}{key}:")
                    walk(value, depth + 1)
            elif isinstance(value, list):
                if not value:
                    continue
                if all(_is_scalar(v) for v in value):
                    items = ", ".join(str(v) for v in value if v is not None)
                    lines.append(f"{pad}{'- ' if depth else ''}{key}: {items}")
                else:
                    lines.append(f"{pad}{'- ' if depth else ''}{key}:")
                    for item in value:
                        if isinstance(item, Mapping):
                            walk(item, depth + 1)
                        elif item is not None and (answer := _one_line(item)):
                            lines.append(f"{pad}  - {answer}")
            elif value is not None and (answer := _one_line(value)):
                lines.append(f"{pad}{'- ' if depth else ''}{key}: {answer}")

    walk(survey, 0)
    return "\n".join(lines)
