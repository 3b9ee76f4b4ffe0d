"""The mapping of a per-person choice file onto records (see docs/choice.md).

Two layouts are read:

* ``long``: one row per option per choice situation, with a column naming the option
  (``option``) and a flag column marking the chosen one (``chosen``: 1/0, true/false,
  yes/no). The options offered in a situation are the rows it has.
* ``wide``: one row per choice situation; each option attribute has one column per option
  (``column`` is a template such as ``"cost_{option}"``, filled with the option's ``value``)
  and ``chosen`` names the chosen option, by its ``value`` or, with ``chosen_values``, by
  any value map (``{1: A, 0: B}``: a 0/1 column next to option columns ``cost_Ha``,
  ``cost_Hb``). An option whose attribute cells are all empty is not offered in that
  situation.

Chooser attributes (``persona``) become the person's attributes and description; option
attributes become the option's label in words (``text``) and numbers in the observation's
``meta["option_attributes"]`` (for the logit baseline).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

Unit = Literal["number", "minutes", "text"]


class ChoiceDataError(ValueError):
    """Choice data or a choice mapping that cannot be used; the message names the file, the
    row and the column, and what to do."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceAttribute(_Model):
    """One attribute of every option (travel time, cost, ...)."""

    name: str = Field(description="Key in meta['option_attributes'] and for the logit.")
    column: str = Field(
        description="long: the column; wide: a template with '{option}' (the option's value)."
    )
    text: str | None = Field(
        default="{name} {value}",
        description="How the attribute reads in the option's label, '{value}' formatted per "
        "'unit'; None: a number for the logit only, not shown.",
    )
    unit: Unit = Field(
        default="number", description="number: as is; minutes: '6 h 12 min'; text: not numeric."
    )


class ChoiceOption(_Model):
    """One option: its stored code, its display name and how the data writes it."""

    code: str
    name: str = Field(description="Shown first in the label: 'Train: ...'.")
    value: str | None = Field(
        default=None, description="How the data writes it (default: the code)."
    )
    describe: list[str] | None = Field(
        default=None, description="Attributes named in its label (default: every shown one)."
    )

    @property
    def data_value(self) -> str:
        return self.value if self.value is not None else self.code


def _string_keys(v: Any) -> Any:
    """YAML reads ``1: A`` with an integer key; cells are compared as text."""
    if isinstance(v, dict):
        return {format_value(k, "number"): str(x) for k, x in v.items()}
    return v


class PersonaAttribute(_Model):
    """One attribute of the chooser, constant over their choices."""

    name: str
    column: str
    text: str = Field(default="{name}: {value}.", description="Sentence of the description.")
    unit: Unit = "number"
    values: dict[str, str] | None = Field(
        default=None,
        description="Code → readable label in the description ({1: female, 2: male}); the "
        "attribute keeps the code. A code not listed is an error naming the row.",
    )

    @field_validator("values", mode="before")
    @classmethod
    def _codes_as_text(cls, v: Any) -> Any:
        return _string_keys(v)

    def label(self, value: Any) -> Any:
        """The value as the description reads it (its label when ``values`` is given)."""
        if self.values is None:
            return value
        return self.values[format_value(value, "number")]


class ChoiceMapping(_Model):
    """How the columns of a choice file map onto people, observations and actions."""

    name: str = Field(description="Dataset name (ids are prefixed with it).")
    format: Literal["long", "wide"]
    person: str = Field(description="Column with the chooser's id.")
    situation: str | None = Field(
        default=None,
        description="Column with the choice situation's id within a person (long: required "
        "when a person made more than one choice; wide: default the row).",
    )
    item: str | None = Field(
        default=None,
        description="Column naming the choice set (trials of one item share the majority "
        "baseline); default: every situation is the item 'question_id'.",
    )
    question_id: str = "choice"
    question: str = Field(default="Which of these options do you choose?")
    option: str | None = Field(default=None, description="long: the column naming the option.")
    chosen: str = Field(
        description="long: the flag column (1/0, true/false, yes/no); wide: the column "
        "holding the chosen option's value."
    )
    options: list[ChoiceOption] = Field(min_length=2)
    chosen_values: dict[str, str] | None = Field(
        default=None,
        description="wide: how the chosen column writes each option, cell → option code "
        "({1: A, 0: B}), when it does not write the option's value.",
    )
    attributes: list[ChoiceAttribute] = Field(default_factory=list)
    persona: list[PersonaAttribute] = Field(default_factory=list)
    source: str = ""
    license: str = ""
    version: str = ""

    @field_validator("chosen_values", mode="before")
    @classmethod
    def _cells_as_text(cls, v: Any) -> Any:
        return _string_keys(v)

    @model_validator(mode="after")
    def _consistent(self) -> ChoiceMapping:
        if self.chosen_values is not None:
            if self.format == "long":
                raise ValueError(
                    "chosen_values is for format 'wide' (long: 'chosen' is a 1/0 flag column)"
                )
            codes = {o.code for o in self.options}
            unknown = sorted({c for c in self.chosen_values.values() if c not in codes})
            if unknown:
                raise ValueError(
                    f"chosen_values names unknown option code(s) {unknown}; the options' "
                    f"codes are: {sorted(codes)}"
                )
        if self.format == "long" and self.option is None:
            raise ValueError("format 'long' needs 'option': the column naming each row's option")
        if self.format == "wide" and self.option is not None:
            raise ValueError("format 'wide' has no 'option' column: each row is one situation")
        if self.format == "wide":
            bad = [a.column for a in self.attributes if "{option}" not in a.column]
            if bad:
                raise ValueError(
                    f"format 'wide': attribute column(s) {bad} need '{{option}}' in the "
                    "template (e.g. 'cost_{option}'), filled with each option's value"
                )
        for what, names in (
            ("option code", [o.code for o in self.options]),
            ("option value", [o.data_value for o in self.options]),
            ("attribute name", [a.name for a in self.attributes]),
            ("persona name", [p.name for p in self.persona]),
        ):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"duplicate {what}(s): {', '.join(dup)}")
        known = {a.name for a in self.attributes}
        for o in self.options:
            unknown = [d for d in o.describe or [] if d not in known]
            if unknown:
                raise ValueError(
                    f"option {o.code!r}: describe names unknown attribute(s) {unknown}; "
                    f"attributes: {sorted(known)}"
                )
        return self

    def required_columns(self) -> dict[str, str]:
        """Column → the mapping field naming it (wide templates are expanded per option)."""
        cols: dict[str, str] = {self.person: "person", self.chosen: "chosen"}
        for key in ("situation", "item", "option"):
            value = getattr(self, key)
            if value is not None:
                cols[value] = key
        for i, a in enumerate(self.attributes):
            if self.format == "long":
                cols[a.column] = f"attributes[{i}].column"
            else:
                for o in self.options:
                    cols[a.column.format(option=o.data_value)] = f"attributes[{i}].column"
        for i, p in enumerate(self.persona):
            cols[p.column] = f"persona[{i}].column"
        return cols


def as_choice_mapping(mapping: ChoiceMapping | dict[str, Any] | str | Path) -> ChoiceMapping:
    """A mapping from a :class:`ChoiceMapping`, a dict, or a YAML file path."""
    if isinstance(mapping, ChoiceMapping):
        return mapping
    origin = "choice mapping"
    if isinstance(mapping, str | Path):
        path = Path(mapping)
        if not path.exists():
            raise ChoiceDataError(f"choice mapping {str(path)!r} not found")
        origin = str(path)
        mapping = yaml.safe_load(path.read_text())
        if not isinstance(mapping, dict):
            raise ChoiceDataError(f"{origin}: a choice mapping is a YAML mapping (name:, ...)")
    try:
        return ChoiceMapping.model_validate(mapping)
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise ChoiceDataError(f"{origin}: invalid choice mapping\n" + "\n".join(lines)) from None


def duration(minutes: float) -> str:
    """'6 h 12 min', '45 min', '2 h' from a number of minutes (rounded to the minute)."""
    total = round(minutes)
    hours, rest = divmod(total, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def format_value(value: Any, unit: Unit) -> str:
    """A cell as it reads in a label or a persona sentence."""
    if unit == "minutes":
        return duration(float(value))
    if unit == "number" and isinstance(value, float) and math.isfinite(value):
        return f"{value:g}" if value != int(value) else str(int(value))
    return str(value)


def render(template: str, name: str, value: Any, unit: Unit) -> str:
    return template.replace("{name}", name).replace("{value}", format_value(value, unit))
