"""The attitude scale a persuasion item is answered on: ordered stances and, optionally, a
strength (confidence) from ``low`` to ``high``.

Stances are listed from one end of the position to the other (the first is the most against,
the last the most in favour), so an argument that *supports* the position pulls toward the
last stance and one that *attacks* it toward the first. Each answer option is one stance with
one strength, code ``"<stance>/<strength>"`` (``"<stance>"`` when there is no strength).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from behaviorlab.data._records import Option

Side = Literal["supports", "attacks"]
SIDES: tuple[Side, ...] = ("supports", "attacks")


class Stance(BaseModel):
    """One stance: its code (no ``/``), how it reads, and its value in the data file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[^/]+$")
    label: str
    value: str | None = Field(
        default=None, description="The stance as the data file writes it (default: the code)."
    )


class AttitudeScale(BaseModel):
    """Ordered stances (against → in favour) and an optional integer strength range."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stances: list[Stance] = Field(min_length=2)
    strength: tuple[int, int] | None = Field(
        default=None, description="(lowest, highest) strength; None: the data has none."
    )
    strength_name: str = "confidence"

    @model_validator(mode="after")
    def _check(self) -> AttitudeScale:
        codes = [s.code for s in self.stances]
        if len(set(codes)) != len(codes):
            raise ValueError(f"stance codes must be distinct: {codes}")
        if self.strength is not None and self.strength[0] >= self.strength[1]:
            raise ValueError(f"strength range {self.strength} must go from low to high")
        return self

    # -- codes ------------------------------------------------------------------------------

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.stances]

    def strengths(self) -> list[int]:
        if self.strength is None:
            return []
        return list(range(self.strength[0], self.strength[1] + 1))

    def code(self, stance: str, strength: int | None) -> str:
        return stance if self.strength is None or strength is None else f"{stance}/{strength}"

    def parse(self, code: str | None) -> tuple[str, int | None] | None:
        """(stance, strength) of an option code; None when it is not one of this scale's."""
        if not code:
            return None
        stance, _, rest = code.partition("/")
        if stance not in self.codes:
            return None
        if self.strength is None:
            return (stance, None) if not rest else None
        try:
            value = int(rest)
        except ValueError:
            return None
        return (stance, value) if self.strength[0] <= value <= self.strength[1] else None

    def index(self, stance: str) -> int:
        return self.codes.index(stance)

    def label(self, stance: str, strength: int | None) -> str:
        text = self.stances[self.index(stance)].label
        if self.strength is None or strength is None:
            return text
        return f"{text}, {self.strength_name} {strength} of {self.strength[1]}"

    def options(self) -> list[Option]:
        """Every (stance, strength) as an option, in scale order."""
        levels: list[int | None] = [*self.strengths()] or [None]
        pairs = [(s, k) for s in self.codes for k in levels]
        return [Option(code=self.code(s, k), label=self.label(s, k)) for s, k in pairs]

    # -- positions --------------------------------------------------------------------------

    def side_of(self, stance: str) -> int:
        """+1 for a stance in the favourable half, -1 in the unfavourable half, 0 the middle."""
        i, mid = self.index(stance), (len(self.stances) - 1) / 2
        return 0 if i == mid else (1 if i > mid else -1)

    def moved(self, stance: str, strength: int | None, toward: int) -> tuple[str, int | None]:
        """One step toward ``toward`` (+1: the last stance, -1: the first); at that end of
        the scale, one more strength (capped) instead."""
        i = self.index(stance) + toward
        if 0 <= i < len(self.stances):
            return self.codes[i], strength
        if strength is None or self.strength is None:
            return stance, strength
        return stance, min(strength + 1, self.strength[1])

    def to_meta(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def majority_side(sides: list[str]) -> int:
    """+1 when more shown arguments support the position, -1 when more attack it, 0 a tie."""
    support, attack = sides.count("supports"), sides.count("attacks")
    return (support > attack) - (support < attack)
