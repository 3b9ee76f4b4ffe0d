"""Aggregate answer shares: rows of (item, option, count or share, n [, group]) as records.

Published distributions (public-opinion toplines, choice rates, SimBench-style tables) have
no per-person rows, only how many of ``n`` people gave each option. Inventing people from
them would make person-clustered intervals meaningless, so here the subject of a trial is the
item: each item becomes one :class:`~behaviorlab.data.Person` (the cluster every interval
resamples) and each (item, group) one episode with one question step. The step's action holds
the people's distribution (``attributes["shares"]``, ``attributes["n"]``) and, as its value,
the most chosen option (ties: the first in the item's option order). Groups are nested in
their item, so a split by person is a split by item: every group of an item lands on one
side.

The item's wording and option labels come from the file (``question``, ``option_label``
columns) or from the mapping (``questions``, ``option_labels``); an item without wording is an
error. Every error names the file (or frame), the row (CSV: the file's line) and the column.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
from behaviorlab.data._sources import dataset

SHARE_SUM_TOLERANCE = 0.02
"""Shares of one item (and group) may sum to 1 ± this (published shares are rounded); they are
then rescaled to sum to 1. Further off is an error."""
SHARE_COUNT_TOLERANCE = 0.01
"""A row with both a count and a share: the share may differ from count / n by this much
(a share rounded to a whole percent is off by at most 0.005); further off is an error."""
GROUP_SEPARATOR = " | "
"""Between the item and its group in a unit's id (``item_id`` of its trials)."""


class SharesDataError(ValueError):
    """Shares data or a mapping that cannot be used; the message names the file, the row and
    the column, and what to do."""


class SharesMapping(BaseModel):
    """Which columns of a shares table hold what, and what the file does not say.

    A row gives one option of one item (and group): either ``count`` (how many chose it;
    ``n`` is then the sum over the item's options unless an ``n`` column says it) or
    ``share`` (with ``n``, required then). ``group`` names the columns of a subgroup (the
    group is shown to the simulator as its persona)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str = Field(default="item", description="Column of the item (question) id.")
    option: str = Field(default="option", description="Column of the option code.")
    count: str = Field(default="count", description="Column of the count (if present).")
    share: str = Field(default="share", description="Column of the share (if no count).")
    n: str = Field(default="n", description="Column of the number of people asked.")
    group: list[str] = Field(default_factory=list, description="Columns of the subgroup.")
    question: str = Field(default="question", description="Column of the item's wording.")
    option_label: str = Field(default="option_label", description="Column of option labels.")
    questions: dict[str, str] = Field(
        default_factory=dict, description="Wording per item id (instead of a column)."
    )
    option_labels: dict[str, str] = Field(
        default_factory=dict, description="Label per option code, for every item."
    )
    options: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The option codes of an item in order (key: item id, or '*' for every "
        "item): codes the file leaves out count 0; a code not listed is an error.",
    )


@dataclass
class ShareUnit:
    """One item (and group): the options in the file's order, the people's shares, n."""

    item: str
    group: dict[str, str]
    question: str
    codes: list[str]
    labels: list[str]
    shares: list[float]
    n: float
    first_row: int
    rows: list[int] = field(default_factory=list)

    @property
    def unit_id(self) -> str:
        if not self.group:
            return self.item
        return self.item + GROUP_SEPARATOR + ", ".join(self.group.values())

    @property
    def mode(self) -> str:
        return self.codes[int(np.argmax(self.shares))]


@dataclass(frozen=True)
class _Where:
    origin: str
    csv: bool

    def row(self, i: int) -> str:
        return f"line {i + 2}" if self.csv else f"row {i + 1}"

    def at(self, i: int, column: str) -> str:
        return f"{self.origin}, {self.row(i)}, column {column!r}"


def _utf8(path: Path) -> str:
    """The file's text (UTF-8, a byte-order mark allowed), or an error naming the line and
    the byte that is not UTF-8."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SharesDataError(
            f"shares file {str(path)!r}, line {line} (byte {exc.start}): "
            f"{raw[exc.start : exc.end]!r} is not UTF-8; save the file as UTF-8 (in a "
            "spreadsheet: 'CSV UTF-8'), or convert it, e.g. iconv -f latin1 -t utf-8"
        ) from None


def read_shares_file(path: str | Path) -> pd.DataFrame:
    """A shares table from CSV or Parquet."""
    p = Path(path)
    if not p.exists():
        raise SharesDataError(f"shares file {str(p)!r} not found")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(io.StringIO(_utf8(p)), dtype=str, keep_default_na=False)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(p)
    raise SharesDataError(f"shares file {str(p)!r}: use a .csv or .parquet file, not {suffix!r}")


def _text(value: Any) -> str | None:
    """A cell as stripped text; None for an empty cell (None, NaN, pd.NA, NaT, blank)."""
    if value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value))):
        return None
    text = str(value).strip()
    return text or None


def _number(frame: pd.DataFrame, i: int, column: str, where: _Where, what: str) -> float | None:
    raw = _text(frame[column].iloc[i])
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SharesDataError(
            f"{where.at(i, column)}: {what} {raw!r} is not a number; write a number"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise SharesDataError(f"{where.at(i, column)}: {what} {raw!r} must be 0 or more")
    return value


def _mapping(mapping: SharesMapping | Mapping[str, Any] | None, origin: str) -> SharesMapping:
    if mapping is None:
        return SharesMapping()
    if isinstance(mapping, SharesMapping):
        return mapping
    try:
        return SharesMapping.model_validate(dict(mapping))
    except ValidationError as exc:
        raise SharesDataError(f"{origin}: the shares mapping is not valid: {exc}") from None


class _Reader:
    def __init__(self, frame: pd.DataFrame, mapping: SharesMapping, where: _Where) -> None:
        self.frame, self.m, self.where = frame.reset_index(drop=True), mapping, where
        cols = set(self.frame.columns)
        self.has_count = mapping.count in cols
        self.has_share = mapping.share in cols
        self.has_n = mapping.n in cols
        self.row_shares: dict[int, tuple[float, float]] = {}  # row: (count, share) when both

    def check_columns(self) -> None:
        m, cols = self.m, set(self.frame.columns)
        needed = [m.item, m.option, *m.group]
        missing = [c for c in needed if c not in cols]
        if not self.has_count and not self.has_share:
            missing.append(f"{m.count} or {m.share}")
        if self.has_share and not self.has_count and not self.has_n:
            missing.append(f"{m.n} (shares need the number of people asked)")
        if missing:
            raise SharesDataError(
                f"{self.where.origin}: no column {', '.join(repr(c) for c in missing)}; "
                f"the columns are {', '.join(map(repr, self.frame.columns))} (name yours in "
                "the mapping: item, option, count / share, n, group)"
            )
        if self.frame.empty:
            raise SharesDataError(f"{self.where.origin}: the table has no rows")

    def key(self, i: int) -> tuple[str, dict[str, str], str]:
        m, f = self.m, self.frame
        item = _text(f[m.item].iloc[i])
        if item is None:
            raise SharesDataError(f"{self.where.at(i, m.item)}: empty item id; fill it in")
        option = _text(f[m.option].iloc[i])
        if option is None:
            raise SharesDataError(f"{self.where.at(i, m.option)}: empty option; fill it in")
        group: dict[str, str] = {}
        for col in m.group:
            value = _text(f[col].iloc[i])
            if value is None:
                raise SharesDataError(
                    f"{self.where.at(i, col)}: empty group value; fill it in (a row for the "
                    "whole sample needs its own value, such as 'all')"
                )
            group[col] = value
        return item, group, option

    def amount(self, i: int) -> tuple[float, bool, float | None]:
        """(count or share, whether it is a share, n on the row)."""
        m, f = self.m, self.frame
        n = _number(f, i, m.n, self.where, "n") if self.has_n else None
        if self.has_count and (c := _number(f, i, m.count, self.where, "count")) is not None:
            if self.has_share and (s := _number(f, i, m.share, self.where, "share")) is not None:
                self.row_shares[i] = (c, s)  # checked against count / n once n is known
            return c, False, n
        if self.has_share and (s := _number(f, i, m.share, self.where, "share")) is not None:
            if s > 1.0:
                raise SharesDataError(
                    f"{self.where.at(i, m.share)}: share {s:g} is above 1; write shares as "
                    "fractions (0.42, not 42) or give counts"
                )
            if n is None:
                raise SharesDataError(
                    f"{self.where.at(i, m.n)}: a share needs the number of people asked (n)"
                )
            return s, True, n
        col = m.count if self.has_count else m.share
        raise SharesDataError(f"{self.where.at(i, col)}: empty count / share; fill it in")

    def wording(self, i: int, item: str) -> str:
        m = self.m
        if m.question in self.frame.columns and (text := _text(self.frame[m.question].iloc[i])):
            return text
        if item in m.questions:
            return m.questions[item]
        raise SharesDataError(
            f"{self.where.at(i, m.question)}: no wording for item {item!r}; add a "
            f"{m.question!r} column or give it in the mapping's questions"
        )

    def label(self, i: int, code: str) -> str:
        m = self.m
        if m.option_label in self.frame.columns and (
            text := _text(self.frame[m.option_label].iloc[i])
        ):
            return text
        return m.option_labels.get(code, code)

    def units(self) -> list[ShareUnit]:
        self.check_columns()
        units: dict[tuple[str, tuple[tuple[str, str], ...]], ShareUnit] = {}
        kinds: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[bool, list[float | None]]] = {}
        seen: dict[tuple[str, tuple[tuple[str, str], ...], str], int] = {}
        for i in range(len(self.frame)):
            item, group, code = self.key(i)
            gkey = tuple(group.items())
            if (item, gkey, code) in seen:
                raise SharesDataError(
                    f"{self.where.at(i, self.m.option)}: option {code!r} of item {item!r} "
                    f"{'(group ' + ', '.join(group.values()) + ') ' if group else ''}"
                    f"is also on {self.where.row(seen[(item, gkey, code)])}; give each option "
                    "of an item (and group) once"
                )
            seen[(item, gkey, code)] = i
            amount, is_share, n = self.amount(i)
            unit = units.get((item, gkey))
            if unit is None:
                unit = units[(item, gkey)] = ShareUnit(
                    item, group, self.wording(i, item), [], [], [], 0.0, i
                )
                kinds[(item, gkey)] = (is_share, [])
            elif kinds[(item, gkey)][0] != is_share:
                raise SharesDataError(
                    f"{self.where.at(i, self.m.count)}: item {item!r} mixes counts and shares; "
                    "give one kind per item"
                )
            unit.codes.append(code)
            unit.labels.append(self.label(i, code))
            unit.shares.append(amount)
            unit.rows.append(i)
            kinds[(item, gkey)][1].append(n)
        self.distinct_ids(list(units.values()))
        self.same_options(list(units.values()), {k: v[0] for k, v in kinds.items()})
        for key, unit in units.items():
            self.finish(unit, *kinds[key])
        return list(units.values())

    def distinct_ids(self, units: list[ShareUnit]) -> None:
        """Two units whose ids (item, then ' | ' and the group values joined by ', ') are
        the same text are an error naming both rows."""
        seen: dict[str, ShareUnit] = {}

        def what(u: ShareUnit) -> str:
            group = (
                f" in group {', '.join(f'{k}={v!r}' for k, v in u.group.items())}"
                if u.group
                else ""
            )
            return f"item {u.item!r}{group}"

        for unit in units:
            other = seen.setdefault(unit.unit_id, unit)
            if other is not unit:
                raise SharesDataError(
                    f"{self.where.at(unit.rows[0], self.m.item)}: {what(unit)} gets the id "
                    f"{unit.unit_id!r}, as {what(other)} on {self.where.row(other.rows[0])} "
                    f"does (an id is the item, {GROUP_SEPARATOR!r} and the group values "
                    "joined by ', '); rename the item or a group value so they differ"
                )

    def same_options(
        self, units: list[ShareUnit], is_share: Mapping[tuple[str, Any], bool]
    ) -> None:
        """Give every group of an item the item's options (their union, in the order they
        first appear): a group's missing option counts 0; with shares it is an error, since
        a missing share cannot be told from a forgotten row. Options the mapping declares
        for the item are filled in by :meth:`declared` instead."""
        by_item: dict[str, list[ShareUnit]] = {}
        for unit in units:
            by_item.setdefault(unit.item, []).append(unit)
        m = self.m
        for item, group in by_item.items():
            if len(group) < 2 or m.options.get(item, m.options.get("*")) is not None:
                continue
            where: dict[str, tuple[ShareUnit, int, str]] = {}
            for unit in group:
                for code, row, label in zip(unit.codes, unit.rows, unit.labels, strict=True):
                    where.setdefault(code, (unit, row, label))
            for unit in group:
                for code, (other, row, label) in where.items():
                    if code in unit.codes:
                        continue
                    if is_share[(unit.item, tuple(unit.group.items()))]:
                        raise SharesDataError(
                            f"{self.where.at(unit.rows[0], m.option)}: {unit.unit_id!r} has "
                            f"no row for option {code!r}, which {other.unit_id!r} has on "
                            f"{self.where.row(row)}; give every group of an item the same "
                            "options (a share of 0 for an option nobody chose)"
                        )
                    unit.codes.append(code)
                    unit.labels.append(label)
                    unit.shares.append(0.0)
                order = sorted(
                    range(len(unit.codes)), key=lambda k: list(where).index(unit.codes[k])
                )
                unit.codes = [unit.codes[k] for k in order]
                unit.labels = [unit.labels[k] for k in order]
                unit.shares = [unit.shares[k] for k in order]

    def declared(self, unit: ShareUnit) -> None:
        """Put the unit's options in the mapping's order, those it lacks at 0."""
        m = self.m
        codes = m.options.get(unit.item, m.options.get("*"))
        if codes is None:
            return
        for r, code in zip(unit.rows, unit.codes, strict=True):
            if code not in codes:
                raise SharesDataError(
                    f"{self.where.at(r, m.option)}: option {code!r} of item {unit.item!r} is "
                    f"not one of its options in the mapping ({', '.join(codes)}); add it there "
                    "or fix the code"
                )
        given = dict(zip(unit.codes, zip(unit.labels, unit.shares, strict=True), strict=True))
        unit.labels = [given[c][0] if c in given else m.option_labels.get(c, c) for c in codes]
        unit.shares = [given[c][1] if c in given else 0.0 for c in codes]
        unit.codes = list(codes)

    def finish(self, unit: ShareUnit, is_share: bool, ns: list[float | None]) -> None:
        where, m = self.where, self.m
        first = unit.rows[0]
        named = [v for v in ns if v is not None]
        for r, v in zip(unit.rows, ns, strict=True):
            if v is not None and named and not math.isclose(v, named[0], rel_tol=1e-9):
                raise SharesDataError(
                    f"{where.at(r, m.n)}: n {v:g} differs from n {named[0]:g} on "
                    f"{where.row(first)} of the same item {unit.unit_id!r}; one n per item"
                )
        self.declared(unit)
        if len(unit.codes) < 2:
            raise SharesDataError(
                f"{where.at(first, m.option)}: item {unit.unit_id!r} has one option; an "
                "item needs at least two (write options chosen by nobody with count 0)"
            )
        total = float(sum(unit.shares))
        if is_share:
            if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
                raise SharesDataError(
                    f"{where.at(first, m.share)}: the shares of item {unit.unit_id!r} "
                    f"({where.row(first)} to {where.row(unit.rows[-1])}) sum to {total:.3f}, "
                    f"not 1 (± {SHARE_SUM_TOLERANCE}); give every option of the item"
                )
            unit.n = named[0]
        else:
            if total <= 0:
                raise SharesDataError(
                    f"{where.at(first, m.count)}: item {unit.unit_id!r} has no answers "
                    "(every count is 0)"
                )
            if named and not math.isclose(named[0], total, rel_tol=1e-6, abs_tol=0.5):
                raise SharesDataError(
                    f"{where.at(first, m.n)}: n {named[0]:g} of item {unit.unit_id!r} is not "
                    f"the sum of its counts ({total:g}); fix n or the counts"
                )
            unit.n = named[0] if named else total
            for r in unit.rows:
                if r in self.row_shares:
                    count, share = self.row_shares[r]
                    if abs(count / unit.n - share) > SHARE_COUNT_TOLERANCE:
                        raise SharesDataError(
                            f"{where.at(r, m.share)}: share {share:g} is not count {count:g} "
                            f"/ n {unit.n:g} = {count / unit.n:.3f} (± {SHARE_COUNT_TOLERANCE}); "
                            "fix one of them, or give only counts"
                        )
        if unit.n < 1:
            raise SharesDataError(
                f"{where.at(first, m.n)}: item {unit.unit_id!r} has n {unit.n:g}; n is the "
                "number of people asked (1 or more)"
            )
        unit.shares = [s / total for s in unit.shares]


def read_units(
    frame: pd.DataFrame,
    mapping: SharesMapping | Mapping[str, Any] | None = None,
    *,
    origin: str = "shares table",
    csv: bool = False,
) -> list[ShareUnit]:
    """The items (and groups) of a shares table, checked (errors name origin, row, column)."""
    return _Reader(frame, _mapping(mapping, origin), _Where(origin, csv)).units()


def _group_text(group: Mapping[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in group.items())


def units_to_dataset(units: Sequence[ShareUnit], *, name: str, source: str) -> Dataset:
    """Records of the units: one person per item, one episode per (item, group)."""
    persons: dict[str, Person] = {}
    episodes: list[Episode] = []
    for u in units:
        persons.setdefault(u.item, Person(person_id=u.item, meta={"subject": "item"}))
        options = [Option(code=c, label=lab) for c, lab in zip(u.codes, u.labels, strict=True)]
        step = Step(
            index=0,
            step_id=u.item,
            observation=Observation(
                kind="question", content=u.question, options=options, meta={"question_id": u.item}
            ),
            action=Action(
                action_type="answer",
                value=u.mode,
                attributes={
                    "shares": dict(zip(u.codes, u.shares, strict=True)),
                    "n": u.n,
                    "group": dict(u.group),
                },
            ),
        )
        episodes.append(
            Episode(
                episode_id=stable_hash("shares", u.unit_id) if u.group else u.item,
                person_id=u.item,
                kind="shares",
                steps=[step],
                meta={
                    "group": dict(u.group),
                    "group_text": _group_text(u.group),
                    "unit": u.unit_id,
                },
            )
        )
    return Dataset(name=name, source=source, persons=persons, episodes=episodes)


def _sample_items(
    units: list[ShareUnit], items: int | None, seed: int, origin: str
) -> list[ShareUnit]:
    if items is None:
        return units
    ids = sorted({u.item for u in units})
    if items > len(ids):
        raise SharesDataError(f"{origin}: items={items}, but the table has {len(ids)} items")
    rng = np.random.default_rng(seed)
    keep = set(rng.choice(np.array(ids, dtype=object), size=items, replace=False).tolist())
    return [u for u in units if u.item in keep]


def shares_from_frame(
    frame: pd.DataFrame,
    mapping: SharesMapping | Mapping[str, Any] | None = None,
    *,
    origin: str = "shares table",
    csv: bool = False,
    items: int | None = None,
    seed: int = 0,
    name: str = "shares",
) -> Dataset:
    """A shares table (a DataFrame) as records; ``items`` samples that many items (seeded)."""
    units = _sample_items(read_units(frame, mapping, origin=origin, csv=csv), items, seed, origin)
    return units_to_dataset(units, name=name, source=origin)


def load_shares_file(
    path: str | Path,
    mapping: SharesMapping | Mapping[str, Any] | None = None,
    *,
    items: int | None = None,
    seed: int = 0,
) -> Dataset:
    """A shares table from a CSV or Parquet file as records."""
    frame = read_shares_file(path)
    csv = Path(path).suffix.lower() == ".csv"
    return shares_from_frame(
        frame, mapping, origin=str(path), csv=csv, items=items, seed=seed, name=Path(path).stem
    )


@dataset("shares_file")
def shares_file(
    path: str,
    mapping: dict[str, Any] | None = None,
    people: int | None = None,
    items: int | None = None,
    seed: int = 0,
) -> Dataset:
    """A shares table (CSV / Parquet) of (item, option, count or share, n [, group]) rows;
    ``people`` (the spec's ``data.people``) or ``items`` samples that many items."""
    return load_shares_file(path, mapping, items=items if items is not None else people, seed=seed)
