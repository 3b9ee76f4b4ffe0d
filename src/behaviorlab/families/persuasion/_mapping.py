"""How a long attitude-change table maps onto behaviorlab's records.

One row per (person, item, time point, argument shown before that time point): the columns
named by :class:`PersuasionMapping` give the person, the time point, the stance and strength
the person reported at that time point, and the argument (id, text, whether it supports or
attacks the position). A time point with nothing shown before it is one row with the argument
columns empty. The stance and strength repeat on every row of a time point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from behaviorlab.families.persuasion._scale import AttitudeScale, Side

DEFAULT_QUESTION = "Where do you stand on this position?"


class PersuasionDataError(ValueError):
    """Attitude data that cannot be read as mapped (the message names the file, row and
    column, and what to do)."""


class PersonaColumn(BaseModel):
    """One persona attribute: the column holding it and how it reads in the persona."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    column: str
    text: str | None = Field(
        default=None,
        description="How it reads, with {value} ('You are {value} years old.'); None: the "
        "attribute is kept for baselines and subgroups but not shown.",
    )


def _default_sides() -> dict[str, Side]:
    return {"supports": "supports", "attacks": "attacks"}


class PersuasionMapping(BaseModel):
    """Which column holds what in a long attitude-change table (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "persuasion_file"
    person: str = "person"
    time: str = Field(default="time", description="Time point (numbers; sorted numerically).")
    stance: str = "stance"
    strength: str | None = Field(default=None, description="Strength / confidence column.")
    scale: AttitudeScale
    item: str | None = Field(default=None, description="Item (position) column; None: one.")
    claim: str | None = Field(default=None, description="Column with the position's text.")
    claim_text: str | None = Field(default=None, description="The position, when one for all.")
    question: str = DEFAULT_QUESTION
    argument_id: str | None = "argument_id"
    argument_text: str | None = "argument_text"
    argument_side: str | None = "argument_side"
    argument_order: str | None = Field(
        default=None, description="Order of the arguments within a time point (else: row order)."
    )
    sides: dict[str, Side] = Field(
        default_factory=_default_sides,
        description="How the side column writes 'supports' and 'attacks'.",
    )
    persona: list[PersonaColumn] = Field(default_factory=list)
    persona_key: str | None = Field(
        default=None,
        description="Person column of a separate survey table (persona_file); default: the "
        "person column's name.",
    )
    source: str = ""
    license: str = ""
    version: str = ""

    @model_validator(mode="after")
    def _arguments_named_together(self) -> PersuasionMapping:
        named = [self.argument_id, self.argument_side]
        if any(n is None for n in named) and any(n is not None for n in named):
            raise ValueError("argument_id and argument_side are named together (or neither)")
        if (self.strength is None) != (self.scale.strength is None):
            given = "strength (the column)" if self.strength else "scale.strength (the range)"
            raise ValueError(
                f"strength (the column) and scale.strength (its range) are given together or "
                f"neither; only {given} is given. Name the strength column and its range, or "
                "drop both"
            )
        return self

    def columns(self) -> list[str]:
        """The columns the data file must have."""
        named = [self.person, self.time, self.stance, self.strength, self.item, self.claim]
        named += [self.argument_id, self.argument_text, self.argument_side, self.argument_order]
        return [c for c in named if c is not None]


def as_mapping(value: PersuasionMapping | dict[str, Any] | str | Path) -> PersuasionMapping:
    """A mapping from itself, a dict, or a YAML file (errors name the file and field)."""
    if isinstance(value, PersuasionMapping):
        return value
    where = "the mapping"
    if isinstance(value, str | Path):
        path = Path(value)
        if not path.exists():
            raise PersuasionDataError(f"persuasion mapping {path} does not exist")
        where = str(path)
        value = yaml.safe_load(path.read_text())
        if not isinstance(value, dict):
            raise PersuasionDataError(f"{where}: a persuasion mapping is a YAML mapping")
    try:
        return PersuasionMapping.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise PersuasionDataError(
            f"{where}: field {field}: {first['msg']} (see docs/persuasion.md for the fields)"
        ) from exc
