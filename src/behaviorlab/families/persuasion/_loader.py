"""Read a long attitude-change table (CSV, Parquet, JSON lines or a DataFrame) into records.

Each (person, item) becomes an episode of kind ``attitude`` whose steps are the time points in
order: the observation holds the position, the arguments shown before that time point (id,
text, side, in the order shown) and the scale; the action is the stance and strength the
person reported (option code ``"<stance>/<strength>"``). The persona comes from the table's
own columns or from a separate survey table joined on the person. Every error names the
file, the row (in a CSV counted as a spreadsheet does: the header is row 1; in JSON lines
the line; in Parquet or a DataFrame the 0-based position) and the column.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pandas as pd

from behaviorlab.data._records import Action, Dataset, Episode, Observation, Person, Step
from behaviorlab.families.persuasion._mapping import (
    PersonaColumn,
    PersuasionDataError,
    PersuasionMapping,
    as_mapping,
)

EPISODE_KIND = "attitude"
TEXT_TABLES = (".csv", ".tsv", ".txt")
JSON_LINES = (".jsonl", ".ndjson")
FILE_ROWS = "behaviorlab_file_rows"
"""``DataFrame.attrs`` key of a text table's row numbers as the file counts them."""


def read_table(path: str | Path, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV, Parquet or JSON-lines file as a DataFrame. In a text table the
    ``text_columns`` (ids) are read as written, so "007" and "7" stay two people and match a
    persona table's ids; the other columns' types are inferred."""
    p = Path(path)
    if not p.exists():
        raise PersuasionDataError(f"attitude data file {p} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(p)
    if suffix in JSON_LINES:
        return pd.read_json(p, lines=True)
    if suffix in TEXT_TABLES:
        frame = pd.read_csv(
            p,
            sep="\t" if suffix == ".tsv" else ",",
            keep_default_na=True,
            dtype=dict.fromkeys(text_columns, str),
            skip_blank_lines=False,
        )
        # blank lines are dropped here, not by the reader, so each row keeps its line number
        # (the header is row 1) for the errors
        kept = ~frame.isna().all(axis=1).to_numpy()
        frame = frame.loc[kept].reset_index(drop=True)
        frame.attrs[FILE_ROWS] = [int(i) + 2 for i in kept.nonzero()[0]]
        return frame
    raise PersuasionDataError(
        f"attitude data file {p}: unknown format {suffix!r}; use .csv, .tsv, .parquet or .jsonl"
    )


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _plain(value: Any) -> Any:
    """A cell as a plain Python value (numpy scalars unwrapped; empty cells None)."""
    if _empty(value):
        return None
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _shown(value: Any) -> str:
    """A cell as an error message shows it: ``'2.5'``, or ``empty``."""
    return "empty" if _empty(value) else repr(_text(_plain(value)))


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Reader:
    """Reads one table with one mapping; ``where(row, column)`` names a cell in errors."""

    def __init__(self, frame: pd.DataFrame, mapping: PersuasionMapping, origin: str) -> None:
        self.file_rows: list[int] | None = frame.attrs.get(FILE_ROWS)
        self.frame = frame.reset_index(drop=True)
        self._cells: dict[str, list[Any]] = {}
        self.m = mapping
        self.origin = origin
        suffix = Path(origin).suffix.lower()
        # rows as the file shows them: a text table's header is row 1, a JSON-lines file has
        # one record per line, Parquet and DataFrames by their 0-based position
        self.first = 2 if suffix in TEXT_TABLES else (1 if suffix in JSON_LINES else 0)
        self.unit = "line" if suffix in JSON_LINES else "row"
        missing = [c for c in mapping.columns() if c not in frame.columns]
        if missing:
            raise PersuasionDataError(
                f"{origin}: no column {', '.join(repr(c) for c in missing)} (the mapping names "
                f"it); the file has: {', '.join(map(str, frame.columns))}"
            )
        by_value = {
            (s.value if s.value is not None else s.code): s.code for s in mapping.scale.stances
        }
        self.stance_of = by_value

    def where(self, row: int, column: str) -> str:
        return f"{self.origin}, {self.unit} {self.number(row)}, column {column!r}"

    def number(self, row: int) -> int:
        """The row as the file counts it (see the module docstring)."""
        if self.file_rows is not None and len(self.file_rows) == len(self.frame):
            return self.file_rows[row]
        return row + self.first

    def cell(self, row: int, column: str) -> Any:
        cells = self._cells.get(column)
        if cells is None:  # a column's cells as Python values, read once (fast to index)
            cells = self._cells[column] = self.frame[column].tolist()
        return cells[row]

    def required(self, row: int, column: str) -> str:
        value = self.cell(row, column)
        if _empty(value):
            raise PersuasionDataError(f"{self.where(row, column)}: empty; every row needs one")
        return _text(value)

    def time(self, row: int) -> float:
        raw = self.cell(row, self.m.time)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            raise PersuasionDataError(
                f"{self.where(row, self.m.time)}: time point {_shown(raw)} is not a number; time "
                "points are numbers that sort in the order they were asked (0, 1, 2 ...)"
            )
        return value

    def order(self, row: int) -> float:
        """Where the row's argument came among those of its time point (a row without an
        argument may leave it empty)."""
        column = str(self.m.argument_order)
        raw = self.cell(row, column)
        if _empty(raw):
            if self.m.argument_id is not None and not _empty(self.cell(row, self.m.argument_id)):
                raise PersuasionDataError(
                    f"{self.where(row, column)}: empty, but this row shows argument "
                    f"{_text(self.cell(row, self.m.argument_id))!r}; give every shown "
                    "argument its place (1, 2, 3 ... in the order the arguments were shown)"
                )
            return -math.inf
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise PersuasionDataError(
                f"{self.where(row, column)}: order {_shown(raw)} is not a number (1, 2, 3 ... "
                "in the order the arguments were shown)"
            ) from None

    def stance(self, row: int) -> str:
        raw = self.required(row, self.m.stance)
        if raw not in self.stance_of:
            raise PersuasionDataError(
                f"{self.where(row, self.m.stance)}: stance {raw!r} is not on the scale; the "
                f"mapping's stances are written {sorted(self.stance_of)} (add it to "
                "scale.stances, with value: if the file writes it differently)"
            )
        return self.stance_of[raw]

    def strength(self, row: int) -> int | None:
        column, scale = self.m.strength, self.m.scale.strength
        if column is None or scale is None:
            return None
        raw = self.cell(row, column)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and value.is_integer() and scale[0] <= value <= scale[1]):
            raise PersuasionDataError(
                f"{self.where(row, column)}: strength {_shown(raw)} is not a whole number from "
                f"{scale[0]} to {scale[1]} (scale.strength in the mapping); bin other "
                "values before loading"
            )
        return int(value)

    def argument(self, row: int) -> dict[str, str] | None:
        m = self.m
        if m.argument_id is None or m.argument_side is None:
            return None
        if _empty(self.cell(row, m.argument_id)):
            return None
        arg_id = _text(self.cell(row, m.argument_id))
        side_raw = self.required(row, m.argument_side)
        if side_raw not in m.sides:
            raise PersuasionDataError(
                f"{self.where(row, m.argument_side)}: side {side_raw!r} is neither supports nor "
                f"attacks as the mapping writes them ({sorted(m.sides)}); add it to sides:"
            )
        text = ""
        if m.argument_text is not None and not _empty(self.cell(row, m.argument_text)):
            text = str(self.cell(row, m.argument_text)).strip()
        return {"id": arg_id, "text": text, "side": m.sides[side_raw]}


def _persona_rows(
    persona: pd.DataFrame, key: str, columns: list[PersonaColumn], origin: str
) -> dict[str, dict[str, Any]]:
    missing = [c for c in [key, *(p.column for p in columns)] if c not in persona.columns]
    if missing:
        raise PersuasionDataError(
            f"{origin}: no column {', '.join(repr(c) for c in missing)} in the persona table; "
            f"it has: {', '.join(map(str, persona.columns))}"
        )
    out: dict[str, dict[str, Any]] = {}
    for pid, group in persona.groupby(key, sort=False):
        if len(group) > 1:
            raise PersuasionDataError(
                f"{origin}, column {key!r}: person {pid!r} has {len(group)} rows in the persona "
                "table; keep one row per person"
            )
        first = group.iloc[0]
        out[_text(pid)] = {p.name: _plain(first[p.column]) for p in columns}
    return out


def _describe(attributes: dict[str, Any], columns: list[PersonaColumn]) -> str | None:
    lines = [
        p.text.format(value=_text(attributes[p.name]))
        for p in columns
        if p.text and attributes.get(p.name) is not None
    ]
    return " ".join(lines) or None


def persuasion_from_frame(
    frame: pd.DataFrame,
    mapping: PersuasionMapping | dict[str, Any] | str | Path,
    *,
    origin: str = "<DataFrame>",
    persona_frame: pd.DataFrame | None = None,
    persona_origin: str = "<persona DataFrame>",
    people: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Records from a long attitude-change table (see the module docstring). ``people``
    keeps a seeded sample of that many people."""
    m = as_mapping(mapping)
    r = _Reader(frame, m, origin)
    points: dict[tuple[str, str, float], list[int]] = {}
    for row in range(len(r.frame)):
        pid = r.required(row, m.person)
        item = r.required(row, m.item) if m.item else "position"
        points.setdefault((pid, item, r.time(row)), []).append(row)
    persona_key = m.persona_key or m.person
    if persona_frame is not None:
        personas = _persona_rows(persona_frame, persona_key, m.persona, persona_origin)
    else:
        personas = _own_persona(r, m) if m.persona else {}
    episodes: dict[tuple[str, str], list[Step]] = {}
    texts = _argument_texts(r)
    options, scale_meta = m.scale.options(), m.scale.to_meta()
    for (pid, item, time), rows in sorted(points.items(), key=lambda kv: kv[0]):
        stance, strength = r.stance(rows[0]), r.strength(rows[0])
        for row in rows[1:]:
            if (r.stance(row), r.strength(row)) != (stance, strength):
                column = m.stance if r.stance(row) != stance else str(m.strength)
                raise PersuasionDataError(
                    f"{r.where(row, column)}: person {pid!r}, item {item!r}, time {time:g} "
                    f"reports another stance or strength than {r.unit} {r.number(rows[0])}; "
                    "one time point has one answer, repeated on each of its rows"
                )
        if m.argument_order is not None:
            rows = sorted(rows, key=r.order)
        shown: list[dict[str, str]] = []
        seen: dict[str, int] = {}
        for row in rows:
            arg = r.argument(row)
            if arg is None:
                continue
            if arg["id"] in seen:
                raise PersuasionDataError(
                    f"{r.where(row, str(m.argument_id))}: argument {arg['id']!r} is listed "
                    f"twice for person {pid!r}, item {item!r}, time {time:g} (also "
                    f"{r.unit} {r.number(seen[arg['id']])}); an argument is shown once per "
                    "time point, so keep one of the two rows"
                )
            seen[arg["id"]] = row
            arg["text"] = arg["text"] or texts.get((item, arg["id"]), "")
            if not arg["text"]:
                raise PersuasionDataError(
                    f"{r.where(row, str(m.argument_text))}: argument {arg['id']!r} has no "
                    "text on any row; give its text at least once"
                )
            shown.append(arg)
        steps = episodes.setdefault((pid, item), [])
        if shown and not steps:
            raise PersuasionDataError(
                f"{r.where(rows[0], str(m.argument_id))}: person {pid!r}, item {item!r}: "
                f"arguments are shown before time {time:g}, the first time point, so there is "
                "no earlier answer to move from; add the answer given before them (a time "
                "point with the argument columns empty) or drop these rows"
            )
        claim = m.claim_text or item
        if m.claim is not None and not _empty(r.cell(rows[0], m.claim)):
            claim = _text(r.cell(rows[0], m.claim))
        steps.append(
            Step(
                index=len(steps),
                step_id=f"t{time:g}",
                observation=Observation(
                    kind="question",
                    content=claim,
                    options=list(options),
                    meta={
                        "item": item,
                        "time": time,
                        "question": m.question,
                        "arguments": shown,
                        "scale": scale_meta,
                    },
                ),
                action=Action(
                    action_type="answer",
                    value=m.scale.code(stance, strength),
                    attributes={"stance": stance, "strength": strength},
                ),
            )
        )
    ids = sorted({pid for pid, _ in episodes})
    if persona_frame is not None:
        absent = [p for p in ids if p not in personas]
        if absent:
            raise PersuasionDataError(
                f"{persona_origin}, column {persona_key!r}: no persona row for person(s) "
                f"{absent[:5]}; every person of {origin} needs one"
            )
    if people is not None and people < len(ids):
        ids = sorted(random.Random(seed).sample(ids, people))
    keep = set(ids)
    persons = {
        pid: Person(
            person_id=pid,
            attributes=personas.get(pid, {}),
            description=_describe(personas.get(pid, {}), m.persona),
        )
        for pid in ids
    }
    return Dataset(
        name=m.name,
        version=m.version,
        source=m.source or origin,
        license=m.license,
        persons=persons,
        episodes=[
            Episode(episode_id=f"{pid}:{item}", person_id=pid, kind=EPISODE_KIND, steps=steps)
            for (pid, item), steps in sorted(episodes.items())
            if pid in keep
        ],
        meta={"mapping": m.name},
    )


def _argument_texts(r: _Reader) -> dict[tuple[str, str], str]:
    """Each argument's text by (item, id), from any row that gives it; the same id in one
    item with another text or side is an error naming both rows (ids may repeat across
    items)."""
    m = r.m
    texts: dict[tuple[str, str], tuple[str, int]] = {}
    sides: dict[tuple[str, str], tuple[str, int]] = {}
    for row in range(len(r.frame)):
        arg = r.argument(row)
        if arg is None:
            continue
        key = (r.required(row, m.item) if m.item else "position", arg["id"])
        for found, value, column in (
            (texts, arg["text"], str(m.argument_text)),
            (sides, arg["side"], str(m.argument_side)),
        ):
            if not value:
                continue
            first = found.setdefault(key, (value, row))
            if first[0] != value:
                raise PersuasionDataError(
                    f"{r.where(row, column)}: argument {arg['id']!r} of item {key[0]!r} is "
                    f"{value!r} here and {first[0]!r} in {r.unit} {r.number(first[1])}; one id "
                    "is one argument (same text, same side): give the other one its own id"
                )
    return {key: text for key, (text, _) in texts.items()}


def _own_persona(r: _Reader, m: PersuasionMapping) -> dict[str, dict[str, Any]]:
    """The persona columns of the table itself: one value per person (checked)."""
    missing = [p.column for p in m.persona if p.column not in r.frame.columns]
    if missing:
        raise PersuasionDataError(
            f"{r.origin}: no persona column {', '.join(repr(c) for c in missing)}; the file "
            f"has: {', '.join(map(str, r.frame.columns))} (or give a persona table)"
        )
    out: dict[str, dict[str, Any]] = {}
    first_row: dict[tuple[str, str], int] = {}
    for row in range(len(r.frame)):
        pid = _text(r.cell(row, m.person))
        attrs = out.setdefault(pid, {})
        for p in m.persona:
            value: Hashable | None = _plain(r.cell(row, p.column))
            if p.name not in attrs or attrs[p.name] is None:
                attrs[p.name] = value
                first_row.setdefault((pid, p.name), row)
            elif value is not None and value != attrs[p.name]:
                raise PersuasionDataError(
                    f"{r.where(row, p.column)}: person {pid!r} has {_shown(value)} here and "
                    f"{_shown(attrs[p.name])} in {r.unit} {r.number(first_row[(pid, p.name)])}; "
                    "a persona column holds one value per person"
                )
    return out


def load_persuasion_file(
    path: str | Path,
    mapping: PersuasionMapping | dict[str, Any] | str | Path,
    *,
    persona_file: str | Path | None = None,
    people: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Records from an attitude-change file and its mapping; the persona from the file's own
    columns (``mapping.persona``) or joined from ``persona_file`` on the person."""
    m = as_mapping(mapping)
    ids = tuple(c for c in (m.person, m.item, m.argument_id) if c is not None)
    frame = read_table(path, ids)
    persona_key = m.persona_key or m.person
    persona = read_table(persona_file, (persona_key,)) if persona_file is not None else None
    return persuasion_from_frame(
        frame,
        m,
        origin=str(path),
        persona_frame=persona,
        persona_origin=str(persona_file),
        people=people,
        seed=seed,
    )
