"""Scenario data: dilemmas with options (or open-ended), from CSV / JSONL / Parquet + a mapping.

A scenario row is one situation put to an agent: a prompt, its options (or none: an
open-ended item whose free response is stored and may be judged), the option(s) that count
as *desired* (the human-centric choice, the correct answer), category columns (e.g.
PacifAIst's ``subcategory``) and a *cluster*: the unit of independence, i.e. the underlying
scenario several rows may share (difference awareness's ``id``).

Records: the subject is the agent, not a person, so each cluster becomes one
:class:`~behaviorlab.data.Person` (``person_id`` = cluster id) with one
:class:`~behaviorlab.data.Episode` whose steps are its rows. Every interval in the analysis
is clustered by ``person_id``, hence by unique scenario. The step's action holds the desired
option code (``value``; all of them in ``attributes["desired"]``, the item's categories in
``attributes["categories"]``, its cluster in ``attributes["cluster"]`` and the mapping's
``extra`` columns, e.g. an ideal response profile, in ``attributes["extra"]``): answer keys and
categories (difference awareness's ``condition`` decides the desired option) stay out of the
observation, so a simulator never sees them. Item and cluster ids are shown to the simulator
(``TrialInput.item_id`` / ``person_id``): they must not carry the answer or a category that
decides it (the ``diffaware`` adapter hashes them).

Registered datasets: ``scenario_file`` (any file + :class:`ScenarioMapping`),
``scenario_examples`` (a few illustrative dilemmas written by this project, for the offline
demo: not a benchmark), and, in :mod:`behaviorlab.families.scenario._adapters`, ``pacifaist``
and ``diffaware``.
"""

from __future__ import annotations

import io
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from behaviorlab.data._records import Action, Dataset, Episode, Observation, Option, Person, Step
from behaviorlab.data._sources import dataset

SCENARIO_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")
LETTER_CODES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
EXAMPLES_FILE = "scenario_examples.jsonl"


class ScenarioDataError(ValueError):
    """A scenario file does not fit its mapping (the message names file, row and column)."""


class ScenarioMapping(BaseModel):
    """Which columns of a scenario file hold what.

    ``options`` is either a list of columns (one option each; empty cells are skipped) or
    the name of one column holding a list of option texts. Option codes are ``option_codes``
    when given, else the letters A, B, C ... by position. A row without any option is an
    open-ended item. ``desired`` names the column with the desired option(s): a code
    (``desired_as: code``; several separated by ``|``), a 0-based position (``index``) or the
    option's text (``text``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str = Field(description="Column with the scenario text.")
    options: list[str] | str | None = Field(
        default=None, description="Option columns, or one column holding a list of options."
    )
    option_codes: list[str] | None = Field(
        default=None, description="Codes of the option columns (default: A, B, C, ...)."
    )
    desired: str | None = Field(default=None, description="Column naming the desired option(s).")
    desired_as: Literal["code", "index", "text"] = "code"
    item_id: str | None = Field(default=None, description="Column with a unique item id.")
    cluster: str | None = Field(
        default=None,
        description="Column with the unit of independence (default: the item id).",
    )
    categories: list[str] = Field(default_factory=list, description="Category columns.")
    extra: list[str] = Field(
        default_factory=list, description="Other columns kept in the item's meta."
    )
    paraphrases: str | None = Field(
        default=None, description="Column with other wordings of the prompt (a list or text)."
    )


def read_table(path: Path) -> pd.DataFrame:
    """A scenario file as a frame (CSV, JSON Lines, Parquet)."""
    if not path.exists():
        raise FileNotFoundError(f"scenario file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, dtype=object, keep_default_na=True)
    if suffix in (".jsonl", ".json"):
        return pd.read_json(path, lines=True, dtype=False)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    raise ScenarioDataError(
        f"scenario file {str(path)!r}: unsupported type {suffix!r}; use "
        f"{', '.join(SCENARIO_SUFFIXES)}"
    )


def load_mapping(mapping: ScenarioMapping | dict[str, Any] | str | Path) -> ScenarioMapping:
    """A mapping from a model, a dict or a YAML file path."""
    if isinstance(mapping, ScenarioMapping):
        return mapping
    origin = "mapping"
    if isinstance(mapping, str | Path):
        origin = str(mapping)
        mapping = yaml.safe_load(Path(mapping).read_text())
    try:
        return ScenarioMapping.model_validate(mapping)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ScenarioDataError(f"scenario {origin}: {problems}") from None


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: Any) -> str:
    return str(value).strip()


class _Rows:
    """Reads the rows of one file under one mapping; errors name file, row and column."""

    def __init__(self, frame: pd.DataFrame, mapping: ScenarioMapping, origin: str) -> None:
        self.mapping = mapping
        self.origin = origin
        self.frame = frame
        wanted = [mapping.prompt, *mapping.categories, *mapping.extra]
        if isinstance(mapping.options, list):
            wanted += mapping.options
        elif mapping.options is not None:
            wanted.append(mapping.options)
        wanted += [c for c in (mapping.desired, mapping.item_id, mapping.cluster) if c]
        wanted += [mapping.paraphrases] if mapping.paraphrases else []
        missing = [c for c in dict.fromkeys(wanted) if c not in frame.columns]
        if missing:
            raise ScenarioDataError(
                f"{origin}: column(s) {', '.join(map(repr, missing))} named in the mapping are "
                f"not in the file; its columns are {', '.join(map(str, frame.columns))}"
            )
        codes = mapping.option_codes
        if isinstance(mapping.options, list) and codes and len(codes) != len(mapping.options):
            raise ScenarioDataError(
                f"{origin}: option_codes has {len(codes)} codes for "
                f"{len(mapping.options)} option columns"
            )

    def where(self, row: int, column: str | None = None) -> str:
        col = f", column {column!r}" if column else ""
        return f"{self.origin}: row {row + 1}{col}"

    def options(self, row: int, record: dict[Any, Any]) -> list[Option]:
        m = self.mapping
        if m.options is None:
            return []
        if isinstance(m.options, list):
            codes = m.option_codes or list(LETTER_CODES[: len(m.options)])
            return [
                Option(code=code, label=_text(record[col]))
                for code, col in zip(codes, m.options, strict=True)
                if not _empty(record[col])
            ]
        cell = record[m.options]
        if hasattr(cell, "tolist") and not isinstance(cell, str):
            cell = cell.tolist()  # Parquet list cells arrive as numpy arrays
        if isinstance(cell, str) and cell.strip().startswith("["):
            try:
                cell = json.loads(cell)
            except ValueError:
                raise ScenarioDataError(
                    f"{self.where(row, m.options)}: not a JSON list of options: {cell[:80]!r}"
                ) from None
        if not isinstance(cell, list | tuple):
            if _empty(cell):
                return []
            raise ScenarioDataError(
                f"{self.where(row, m.options)}: expected a list of options, got {cell!r}"
            )
        values = [v for v in cell if not _empty(v)]
        codes = m.option_codes or list(LETTER_CODES[: len(values)])
        if len(codes) < len(values):
            raise ScenarioDataError(
                f"{self.where(row, m.options)}: {len(values)} options but only {len(codes)} codes"
            )
        return [Option(code=c, label=_text(v)) for c, v in zip(codes, values, strict=False)]

    def desired(self, row: int, record: dict[Any, Any], options: list[Option]) -> list[str]:
        m = self.mapping
        if m.desired is None or not options:
            return []
        cell = record[m.desired]
        where = self.where(row, m.desired)
        if _empty(cell):
            raise ScenarioDataError(f"{where}: no desired option on an item with options")
        codes = [o.code for o in options]
        parts = [p.strip() for p in str(cell).split("|") if p.strip()]
        out: list[str] = []
        for part in parts:
            if m.desired_as == "index":
                try:
                    i = int(float(part))
                except ValueError:
                    raise ScenarioDataError(
                        f"{where}: {part!r} is not an option position"
                    ) from None
                if not 0 <= i < len(options):
                    raise ScenarioDataError(
                        f"{where}: option position {i} is outside 0..{len(options) - 1}"
                    )
                out.append(options[i].code)
            elif m.desired_as == "text":
                match = [o.code for o in options if o.label == part]
                if not match:
                    raise ScenarioDataError(f"{where}: {part!r} is not the text of an option")
                out.append(match[0])
            else:
                code = next((c for c in codes if c.lower() == part.lower()), None)
                if code is None:
                    raise ScenarioDataError(
                        f"{where}: unknown option label {part!r}; this row's options are "
                        f"{', '.join(codes)}"
                    )
                out.append(code)
        return out

    def value(self, row: int, record: dict[Any, Any], column: str) -> str:
        cell = record[column]
        if _empty(cell):
            raise ScenarioDataError(f"{self.where(row, column)}: empty value")
        return _text(cell)

    def paraphrases(self, record: dict[Any, Any]) -> list[str]:
        col = self.mapping.paraphrases
        if col is None:
            return []
        cell = record[col]
        if hasattr(cell, "tolist") and not isinstance(cell, str):
            cell = cell.tolist()
        if isinstance(cell, list | tuple):
            return [_text(v) for v in cell if not _empty(v)]
        return [] if _empty(cell) else [_text(cell)]


def scenarios_from_frame(
    frame: pd.DataFrame,
    mapping: ScenarioMapping,
    *,
    name: str,
    origin: str = "<frame>",
    source: str = "",
    license: str = "",
    meta: dict[str, Any] | None = None,
) -> Dataset:
    """A :class:`Dataset` of scenario items, one episode per cluster (see the module doc)."""
    rows = _Rows(frame, mapping, origin)
    if frame.empty:
        raise ScenarioDataError(f"{origin}: no rows")
    clusters: dict[str, list[Step]] = {}
    persons: dict[str, Person] = {}
    seen: dict[str, int] = {}
    for row, record in enumerate(frame.to_dict("records")):
        item_id = (
            rows.value(row, record, mapping.item_id) if mapping.item_id else f"{name}-{row + 1}"
        )
        if item_id in seen:
            raise ScenarioDataError(
                f"{rows.where(row, mapping.item_id)}: item id {item_id!r} repeats row "
                f"{seen[item_id] + 1}; item ids must be unique"
            )
        seen[item_id] = row
        cluster = rows.value(row, record, mapping.cluster) if mapping.cluster else item_id
        categories = {c: rows.value(row, record, c) for c in mapping.categories}
        options = rows.options(row, record)
        desired = rows.desired(row, record, options)
        extra = {c: None if _empty(record[c]) else record[c] for c in mapping.extra}
        obs = Observation(
            kind="scene",
            content=rows.value(row, record, mapping.prompt),
            options=options or None,
            alternatives=rows.paraphrases(record),
            meta={"item_kind": "choice" if options else "open"},
        )
        steps = clusters.setdefault(cluster, [])
        steps.append(
            Step(
                index=len(steps),
                step_id=item_id,
                observation=obs,
                action=Action(
                    action_type="answer",
                    value=desired[0] if desired else None,
                    attributes={
                        "desired": desired,
                        "categories": categories,
                        "cluster": cluster,
                        **({"extra": extra} if extra else {}),
                    },
                ),
            )
        )
        persons.setdefault(
            cluster,
            Person(person_id=cluster, attributes=dict(categories), meta={"unit": "scenario"}),
        )
    episodes = [
        Episode(episode_id=f"{name}:{cluster}", person_id=cluster, kind="scenario", steps=steps)
        for cluster, steps in clusters.items()
    ]
    return Dataset(
        name=name,
        source=source or origin,
        license=license,
        persons=persons,
        episodes=episodes,
        meta={"rows": len(frame), **(meta or {})},
    )


def load_scenarios(
    path: str | Path,
    mapping: ScenarioMapping | dict[str, Any] | str | Path,
    *,
    name: str | None = None,
    license: str = "",
) -> Dataset:
    """Scenario items from a CSV / JSONL / Parquet file and a mapping (a
    :class:`ScenarioMapping`, a dict, or a YAML file)."""
    p = Path(path)
    m = load_mapping(mapping)
    return scenarios_from_frame(
        read_table(p), m, name=name or p.stem, origin=str(p), source=str(p), license=license
    )


@dataset("scenario_file")
def scenario_file(
    path: str | None = None,
    mapping: dict[str, Any] | str | None = None,
    name: str | None = None,
    license: str = "",
    seed: int = 0,
) -> Dataset:
    """Any scenario file: ``options: {path: ..., mapping: {...}}`` (see ScenarioMapping)."""
    del seed
    if path is None or mapping is None:
        raise ScenarioDataError(
            "dataset scenario_file needs options path: (a CSV / JSONL / Parquet file) and "
            "mapping: (prompt, options, desired, categories, cluster, item_id columns)"
        )
    return load_scenarios(path, mapping, name=name, license=license)


EXAMPLES_MAPPING = ScenarioMapping(
    prompt="prompt",
    options="options",
    desired="desired",
    item_id="id",
    categories=["category"],
    extra=["ideal"],
)


@dataset("scenario_examples")
def scenario_examples(seed: int = 0, limit: int | None = None) -> Dataset:
    """A few illustrative dilemmas written by the behaviorlab project for the offline demo.

    Not a benchmark and not from any published dataset; numbers on them say nothing about
    a model beyond this toy set. ``limit`` keeps the first items."""
    del seed
    text = (
        resources.files("behaviorlab.families.scenario")
        .joinpath(f"examples/{EXAMPLES_FILE}")
        .read_text()
    )
    frame = pd.read_json(io.StringIO(text), lines=True, dtype=False)
    if limit is not None:
        frame = frame.head(limit)
    return scenarios_from_frame(
        frame,
        EXAMPLES_MAPPING,
        name="scenario_examples",
        origin=f"behaviorlab/families/scenario/examples/{EXAMPLES_FILE}",
        source="behaviorlab (project-written illustrative examples, not a benchmark)",
        license="same as behaviorlab",
        meta={"illustrative": True},
    )
