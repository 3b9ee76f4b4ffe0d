"""Read per-person choice data (long or wide, see :mod:`._choice_mapping`) into records.

Each chooser is a :class:`Person` (attributes and a description from the ``persona``
columns) with one episode (kind ``"choice"``) whose steps are their choice situations: the
observation is a question with the offered options (labels in words from their attributes,
numbers in ``meta["option_attributes"]``), the action is ``answer`` with the chosen code.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from behaviorlab.data._records import (
    Action,
    Dataset,
    Episode,
    Observation,
    Option,
    Person,
    Step,
    stable_hash,
)
from behaviorlab.families.choice._mapping import (
    ChoiceDataError,
    ChoiceMapping,
    ChoiceOption,
    as_choice_mapping,
    format_value,
    render,
)

CHOICE_SUFFIXES = (".csv", ".parquet", ".jsonl")
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f"}


def read_choice_file(path: str | Path) -> pd.DataFrame:
    """A choice file as a frame (CSV, Parquet or JSON Lines)."""
    p = Path(path)
    if not p.exists():
        raise ChoiceDataError(f"choice file {str(p)!r} not found")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(p)
    if suffix == ".parquet":
        return pd.read_parquet(p)
    if suffix == ".jsonl":
        return pd.read_json(p, lines=True)
    raise ChoiceDataError(
        f"choice file {str(p)!r}: use one of {', '.join(CHOICE_SUFFIXES)} (not {suffix!r})"
    )


def cell_text(value: Any) -> str | None:
    """A cell as a trimmed string; None when empty. Whole floats lose their '.0' (1.0 → '1')."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value == int(value):
            return str(int(value))
    text = str(value).strip()
    return text or None


@dataclass
class _Where:
    """Names places in the input for error messages."""

    origin: str
    csv: bool

    def row(self, i: int) -> str:
        return f"line {i + 2}" if self.csv else f"row {i + 1}"

    def at(self, i: int, column: str) -> str:
        return f"{self.origin}, {self.row(i)}, column {column!r}"


@dataclass
class _Situation:
    person: str
    situation: str
    item: str
    offered: list[tuple[ChoiceOption, dict[str, float | str | None]]]
    chosen: str
    rows: list[int]


@dataclass
class _Chooser:
    attributes: dict[str, Any]
    first_row: int
    situations: list[_Situation] = field(default_factory=list)


class _Reader:
    def __init__(self, frame: pd.DataFrame, mapping: ChoiceMapping, where: _Where) -> None:
        self.frame = frame.reset_index(drop=True)
        self.m = mapping
        self.where = where
        self.by_value = {o.data_value: o for o in mapping.options}
        self.people: dict[str, _Chooser] = {}

    def check_columns(self) -> None:
        present = set(map(str, self.frame.columns))
        missing = {c: f for c, f in self.m.required_columns().items() if c not in present}
        if missing:
            named = "; ".join(f"{c!r} (mapping field {f})" for c, f in missing.items())
            raise ChoiceDataError(
                f"{self.where.origin}: column(s) not in the file: {named}. "
                f"The file's columns are: {', '.join(map(str, self.frame.columns))}"
            )
        if self.frame.empty:
            raise ChoiceDataError(f"{self.where.origin}: the file has no rows")

    def text(self, i: int, column: str, *, what: str) -> str:
        value = cell_text(self.frame.at[i, column])
        if value is None:
            raise ChoiceDataError(f"{self.where.at(i, column)}: empty {what}; fill it in")
        return value

    def number(self, i: int, column: str, unit: str) -> float | str | None:
        raw: Any = self.frame.at[i, column]
        text = cell_text(raw)
        if text is None or unit == "text":
            return text
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ChoiceDataError(
                f"{self.where.at(i, column)}: {text!r} is not a number (the mapping reads this "
                "column as numbers; give it unit: text if it is a category)"
            ) from None

    def option_of(self, i: int, column: str) -> ChoiceOption:
        value = self.text(i, column, what="option")
        if value not in self.by_value:
            known = ", ".join(f"{o.code} ({o.data_value})" for o in self.m.options)
            raise ChoiceDataError(
                f"{self.where.at(i, column)}: unknown option {value!r}; the mapping's options "
                f"(code (value in the data)) are: {known}. Add it to the mapping's options"
            )
        return self.by_value[value]

    def chooser(self, i: int, person: str) -> None:
        attrs = {p.name: self.number(i, p.column, p.unit) for p in self.m.persona}
        for p in self.m.persona:
            value = attrs[p.name]
            if p.values is not None and value is not None:
                try:
                    p.label(value)
                except KeyError:
                    raise ChoiceDataError(
                        f"{self.where.at(i, p.column)}: {format_value(value, 'number')!r} is "
                        f"not in persona {p.name!r}'s values ({', '.join(p.values)}); add it "
                        "there"
                    ) from None
        known = self.people.get(person)
        if known is None:
            self.people[person] = _Chooser(attrs, i)
            return
        for p in self.m.persona:
            a, b = known.attributes[p.name], attrs[p.name]
            if a != b and not (a is None and b is None):
                raise ChoiceDataError(
                    f"{self.where.at(i, p.column)}: chooser {person!r} has {p.name} = {b!r} "
                    f"here but {a!r} on {self.where.row(known.first_row)}; chooser attributes "
                    "must be the same on every row of a person"
                )

    def item(self, rows: Sequence[int]) -> str:
        if self.m.item is None:
            return self.m.question_id
        items = {self.text(i, self.m.item, what="item") for i in rows}
        if len(items) > 1:
            raise ChoiceDataError(
                f"{self.where.origin}, {self.where.row(rows[0])}: one choice situation has "
                f"several items in column {self.m.item!r}: {sorted(items)}"
            )
        return items.pop()

    def flag(self, i: int) -> bool:
        value = self.text(i, self.m.chosen, what="chosen flag")
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        raise ChoiceDataError(
            f"{self.where.at(i, self.m.chosen)}: chosen flag {value!r} is not 1/0, true/false "
            "or yes/no"
        )

    def read_long(self) -> None:
        m = self.m
        assert m.option is not None
        keys = [self.text(i, m.person, what="person id") for i in range(len(self.frame))]
        sits = [
            self.text(i, m.situation, what="situation id") if m.situation else "1"
            for i in range(len(self.frame))
        ]
        groups: dict[tuple[str, str], list[int]] = {}
        for i, key in enumerate(zip(keys, sits, strict=True)):
            groups.setdefault(key, []).append(i)
        for (person, sid), rows in groups.items():
            offered: list[tuple[ChoiceOption, dict[str, float | str | None]]] = []
            chosen: list[tuple[int, ChoiceOption]] = []
            for i in rows:
                self.chooser(i, person)
                opt = self.option_of(i, m.option)
                if any(o.code == opt.code for o, _ in offered):
                    raise ChoiceDataError(
                        f"{self.where.at(i, m.option)}: option {opt.code!r} appears twice in "
                        f"the choice situation of person {person!r}, situation {sid!r}"
                    )
                attrs = {a.name: self.number(i, a.column, a.unit) for a in m.attributes}
                offered.append((opt, attrs))
                if self.flag(i):
                    chosen.append((i, opt))
            self.add(person, sid, rows, offered, chosen)

    def read_wide(self) -> None:
        m = self.m
        for i in range(len(self.frame)):
            person = self.text(i, m.person, what="person id")
            sid = self.text(i, m.situation, what="situation id") if m.situation else str(i + 1)
            self.chooser(i, person)
            offered = []
            for opt in m.options:
                attrs = {
                    a.name: self.number(i, a.column.format(option=opt.data_value), a.unit)
                    for a in m.attributes
                }
                if not attrs or any(v is not None for v in attrs.values()):
                    offered.append((opt, attrs))
            pick = self.chosen_option(i) if m.chosen_values else self.option_of(i, m.chosen)
            self.add(person, sid, [i], offered, [(i, pick)])

    def chosen_option(self, i: int) -> ChoiceOption:
        """wide with ``chosen_values``: the chosen column's cell, through the value map."""
        values = self.m.chosen_values or {}
        cell = self.text(i, self.m.chosen, what="chosen option")
        if cell not in values:
            known = ", ".join(f"{k} → {v}" for k, v in values.items())
            raise ChoiceDataError(
                f"{self.where.at(i, self.m.chosen)}: {cell!r} is not in the mapping's "
                f"chosen_values ({known}); add it there"
            )
        code = values[cell]
        return next(o for o in self.m.options if o.code == code)

    def add(
        self,
        person: str,
        sid: str,
        rows: list[int],
        offered: list[tuple[ChoiceOption, dict[str, float | str | None]]],
        chosen: list[tuple[int, ChoiceOption]],
    ) -> None:
        where = f"{self.where.origin}, {self.where.row(rows[0])}"
        what = f"the choice situation of person {person!r}, situation {sid!r}"
        if len(chosen) != 1:
            marked = ", ".join(self.where.row(i) for i, _ in chosen) or "none"
            raise ChoiceDataError(
                f"{where}: {len(chosen)} options are marked chosen in column "
                f"{self.m.chosen!r} for {what} (marked: {marked}); each situation needs "
                "exactly one"
            )
        pick = chosen[0][1]
        if all(o.code != pick.code for o, _ in offered):
            raise ChoiceDataError(
                f"{where}: {what} chose {pick.code!r}, which it does not offer (its attribute "
                "columns are empty)"
            )
        if len(offered) < 2:
            raise ChoiceDataError(f"{where}: {what} offers fewer than two options")
        self.people[person].situations.append(
            _Situation(person, sid, self.item(rows), offered, pick.code, rows)
        )

    def check_categories(self) -> None:
        seen = {o.code for c in self.people.values() for s in c.situations for o, _ in s.offered}
        empty = [o.code for o in self.m.options if o.code not in seen]
        if empty:
            raise ChoiceDataError(
                f"{self.where.origin}: option(s) {', '.join(map(repr, empty))} of the mapping "
                "are never offered in the file; remove them from the mapping's options"
            )


def _label(opt: ChoiceOption, attrs: dict[str, Any], mapping: ChoiceMapping) -> str:
    parts = []
    for a in mapping.attributes:
        shown = opt.describe is None or a.name in opt.describe
        value = attrs.get(a.name)
        if a.text is None or not shown or value is None:
            continue
        parts.append(render(a.text, a.name, value, a.unit))
    return f"{opt.name}: {', '.join(parts)}" if parts else opt.name


def _person(pid: str, chooser: _Chooser, mapping: ChoiceMapping) -> Person:
    sentences = [
        render(p.text, p.name, p.label(chooser.attributes[p.name]), "text" if p.values else p.unit)
        for p in mapping.persona
        if chooser.attributes[p.name] is not None
    ]
    return Person(
        person_id=pid,
        attributes=chooser.attributes,
        description=" ".join(sentences) or None,
    )


def _step(index: int, s: _Situation, mapping: ChoiceMapping) -> Step:
    options = [Option(code=o.code, label=_label(o, a, mapping)) for o, a in s.offered]
    numbers = {o.code: {k: v for k, v in a.items() if not isinstance(v, str)} for o, a in s.offered}
    obs = Observation(
        kind="question",
        content=mapping.question,
        options=options,
        meta={"question_id": s.item, "situation_id": s.situation, "option_attributes": numbers},
    )
    return Step(
        index=index,
        step_id=f"{s.person}:{s.situation}",
        observation=obs,
        action=Action(action_type="answer", value=s.chosen),
        meta={"rows": [r + 1 for r in s.rows]},
    )


def choice_from_frame(
    frame: pd.DataFrame,
    mapping: ChoiceMapping | dict[str, Any] | str | Path,
    *,
    origin: str = "choice data",
    csv: bool = False,
    people: int | None = None,
    persona: Sequence[str] | None = None,
    seed: int = 0,
) -> Dataset:
    """Choice records from a frame in the mapping's layout. ``origin`` names the data in
    errors (rows are counted from 1, or as CSV lines with ``csv=True``); ``people`` samples
    that many choosers (seeded); ``persona`` keeps only those chooser attributes."""
    m = as_choice_mapping(mapping)
    if persona is not None:
        names = [p.name for p in m.persona]
        unknown = [p for p in persona if p not in names]
        if unknown:
            raise ChoiceDataError(
                f"{origin}: unknown persona attribute(s) {unknown}; the mapping has: {names}"
            )
        m = m.model_copy(update={"persona": [p for p in m.persona if p.name in persona]})
    reader = _Reader(frame, m, _Where(origin, csv))
    reader.check_columns()
    if m.format == "long":
        reader.read_long()
    else:
        reader.read_wide()
    reader.check_categories()
    ids = list(reader.people)
    if people is not None:
        if people > len(ids):
            raise ChoiceDataError(f"{origin}: people={people}, but the data has {len(ids)}")
        keep = set(random.Random(stable_hash("people", seed)).sample(sorted(ids), people))
        ids = [p for p in ids if p in keep]
    persons = {pid: _person(pid, reader.people[pid], m) for pid in ids}
    episodes = [
        Episode(
            episode_id=f"{m.name}:{pid}",
            person_id=pid,
            kind="choice",
            steps=[_step(i, s, m) for i, s in enumerate(reader.people[pid].situations)],
        )
        for pid in ids
    ]
    return Dataset(
        name=m.name,
        version=m.version,
        source=m.source or origin,
        license=m.license,
        persons=persons,
        episodes=episodes,
        meta={"format": m.format, "options": [o.code for o in m.options]},
    )


def load_choice_file(
    path: str | Path,
    mapping: ChoiceMapping | dict[str, Any] | str | Path,
    *,
    people: int | None = None,
    persona: Sequence[str] | None = None,
    seed: int = 0,
) -> Dataset:
    """Choice records from a CSV / Parquet / JSON Lines file and its mapping."""
    frame = read_choice_file(path)
    csv = Path(path).suffix.lower() == ".csv"
    return choice_from_frame(
        frame, mapping, origin=str(path), csv=csv, people=people, persona=persona, seed=seed
    )
