"""How a survey table maps onto people and questions: the YAML a user writes for their survey.

A :class:`SurveyMapping` names the columns that describe the person (:class:`PersonaField`,
each rendered as one sentence of the persona) and the columns that hold answers to questions
(:class:`QuestionSpec`, with the wording and the options). Codes are compared as strings, so
``1``, ``1.0`` and ``"1"`` are the same code (see :func:`normalise_code`).
"""

from __future__ import annotations

import io
import math
import numbers
import string
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from behaviorlab.data._yaml_strict import load_strict


class SurveyMappingError(ValueError):
    """A survey mapping that cannot be read or is invalid; the message names file and field."""


def normalise_code(value: object) -> str | None:
    """The string form of an answer code, or ``None`` for a missing value.

    Integral numbers lose their decimals (``1.0`` → ``"1"``, ``-1.0`` → ``"-1"``); strings
    are stripped, and an empty string counts as missing; NaN, ``None`` and ``pd.NA`` are missing.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if hasattr(value, "item") and not isinstance(value, bool):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f):
            return None
        return str(int(f)) if f.is_integer() else repr(f)
    try:
        import pandas as pd

        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _normalise_keys(value: Any, what: str) -> Any:
    """YAML reads ``1: Clinton`` with an int key; codes are strings, so normalise them."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, label in value.items():
        code = normalise_code(key)
        if code is None:
            raise ValueError(f"{what} has an empty code {key!r}")
        if code in out:
            raise ValueError(f"{what} has the code {code!r} twice (written as {key!r})")
        out[code] = str(label) if isinstance(label, int | float) else label
    return out


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonaField(_Spec):
    """One column that describes the person, rendered as one sentence of the persona."""

    column: str = Field(description="Column of the data table.")
    template: str = Field(
        description="The sentence, with {value} where the value goes: 'You are {value} years old.'"
    )
    values: dict[str, str] | None = Field(
        default=None,
        description="Code → readable label, used in place of the raw value when given.",
    )

    @field_validator("values", mode="before")
    @classmethod
    def _codes_as_strings(cls, v: Any) -> Any:
        return _normalise_keys(v, "values")

    @field_validator("template")
    @classmethod
    def _one_value_slot(cls, v: str) -> str:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(v) if f is not None]
        except ValueError as e:
            raise ValueError(f"template {v!r} is not a valid format string: {e}") from None
        if fields != ["value"]:
            raise ValueError(
                f"template {v!r} must contain {{value}} exactly once and no other {{...}} "
                "field (write {{ and }} for literal braces)"
            )
        return v

    def render(self, label: str) -> str:
        return self.template.format(value=label)


class QuestionSpec(_Spec):
    """One column that holds answers to a question: the wording and the answer options.

    A question is either a choice among ``options`` (the default ``type: options``; with
    ``ordered: true`` when the codes are points on a scale, a Likert item) or a number
    (``type: numeric``, no options, ``range: [lo, hi]`` for the metrics that need the scale's
    width). ``answer`` is the correct option of an assessment item (an answer key).
    """

    column: str = Field(description="Column of the data table.")
    id: str | None = Field(default=None, description="Question id; defaults to the column.")
    text: str = Field(description="The wording shown to the respondent.")
    type: Literal["options", "numeric"] = Field(
        default="options",
        description="'options' (one of the codes) or 'numeric' (a number, within range).",
    )
    options: dict[str, str] | None = Field(
        default=None,
        description="Code → label, in the order the options are presented; codes are strings. "
        "Required for type 'options', absent for 'numeric'.",
    )
    range: tuple[float, float] | None = Field(
        default=None,
        description="[lo, hi] of a numeric answer; values outside are invalid. Range-based "
        "metrics (accuracy 1 − |h − s| / range, the uniform baseline) need it.",
    )
    ordered: bool = Field(
        default=False,
        description="The option codes are numbers on one scale (a Likert item): numeric "
        "metrics apply to them, the range being the smallest to the largest code.",
    )
    answer: str | None = Field(
        default=None, description="The correct option code (an answer key), if there is one."
    )
    paraphrases: list[str] = Field(
        default_factory=list, description="Other wordings of the same question."
    )

    @field_validator("options", mode="before")
    @classmethod
    def _codes_as_strings(cls, v: Any) -> Any:
        return _normalise_keys(v, "options")

    @field_validator("answer", mode="before")
    @classmethod
    def _answer_as_code(cls, v: Any) -> Any:
        return normalise_code(v)

    @field_validator("range")
    @classmethod
    def _ordered_range(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not (math.isfinite(v[0]) and math.isfinite(v[1]) and v[0] < v[1]):
            raise ValueError(f"range must be [lo, hi] with finite lo < hi, not {list(v)}")
        return v

    @model_validator(mode="after")
    def _fits_its_type(self) -> QuestionSpec:
        if self.type == "numeric":
            if self.options is not None:
                raise ValueError(
                    "a numeric question has no options (remove options, or use type: options)"
                )
            if self.ordered:
                raise ValueError("ordered applies to options; a numeric question is a scale")
            if self.answer is not None:
                raise ValueError("answer (an answer key) applies to questions with options")
            return self
        if self.options is None:
            raise ValueError(
                "a question needs options (code: label), or type: numeric with range: [lo, hi]"
            )
        if len(self.options) < 2:
            raise ValueError("a question needs at least two options")
        if self.range is not None:
            raise ValueError("range applies to numeric questions (type: numeric)")
        if self.ordered:
            bad = [c for c in self.options if _number(c) is None]
            if bad:
                raise ValueError(
                    f"ordered options need numeric codes (their positions on the scale); "
                    f"not numbers: {', '.join(map(repr, bad))}"
                )
        if self.answer is not None and self.answer not in self.options:
            raise ValueError(
                f"answer {self.answer!r} is not one of the option codes "
                f"{', '.join(map(repr, self.options))}"
            )
        return self

    @property
    def question_id(self) -> str:
        return self.id if self.id is not None else self.column

    @property
    def codes(self) -> dict[str, str]:
        """The options (empty for a numeric question)."""
        return self.options or {}

    def scale(self) -> tuple[float, float] | None:
        """The range of a numeric or ordered question's values (None when unknown)."""
        if self.type == "numeric":
            return self.range
        if self.ordered:
            values = [v for v in map(_number, self.codes) if v is not None]
            return (min(values), max(values))
        return None


def _number(code: str) -> float | None:
    try:
        value = float(code)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class SurveyMapping(_Spec):
    """Which columns of a survey table are the persona and which are questions."""

    name: str = Field(description="Name of the survey; also the dataset name.")
    id_column: str | None = Field(
        default=None, description="Column with the respondent id; the row index when absent."
    )
    persona: list[PersonaField] = Field(default_factory=list)
    questions: list[QuestionSpec]
    source: str = Field(default="", description="Where the data came from (URL, citation).")
    license: str = ""
    version: str = ""
    answer_key: str | None = Field(
        default=None,
        description="A CSV file of correct answers (columns question, answer), for keys kept "
        "apart from the mapping; relative to the mapping file. Same as answer: per question.",
    )
    _file: str | None = PrivateAttr(default=None)
    """The YAML file the mapping was read from (for messages), when it came from one."""

    @property
    def file(self) -> str | None:
        """The YAML file this mapping was read from, if any."""
        return self._file

    @model_validator(mode="after")
    def _unique_question_ids(self) -> SurveyMapping:
        if not self.questions:
            raise ValueError("a survey mapping needs at least one question")
        seen: set[str] = set()
        for q in self.questions:
            if q.question_id in seen:
                raise ValueError(f"question id {q.question_id!r} appears twice")
            seen.add(q.question_id)
        return self

    def question_ids(self) -> list[str]:
        return [q.question_id for q in self.questions]

    @classmethod
    def from_dict(
        cls, data: Any, *, where: str = "survey mapping", base: Path | None = None
    ) -> SurveyMapping:
        """Validate a mapping; errors name ``where`` (a file) and each bad field. An
        ``answer_key`` file is read (relative to ``base``) into the questions' ``answer``."""
        try:
            mapping = cls.model_validate(data)
        except ValidationError as e:
            raise SurveyMappingError(_describe(e, where, data)) from None
        if mapping.answer_key is None:
            return mapping
        key = Path(mapping.answer_key)
        return with_answers(mapping, key if key.is_absolute() or base is None else base / key)

    @classmethod
    def from_yaml(cls, path: str | Path) -> SurveyMapping:
        """Read a mapping from a YAML file.

        Malformed YAML is reported with its line number; invalid fields with their path in
        the file (``questions[0].options``).
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SurveyMappingError(f"survey mapping file {str(p)!r} does not exist") from None
        except IsADirectoryError:
            raise SurveyMappingError(
                f"survey mapping {str(p)!r} is a folder; give the YAML file in it"
            ) from None
        except UnicodeDecodeError as e:
            raise SurveyMappingError(
                f"{p}: not a UTF-8 text YAML file (byte {e.object[e.start : e.start + 1]!r} at "
                f"offset {e.start}); give the survey mapping's YAML"
            ) from None
        try:
            data = load_strict(text)  # a key given twice is an error naming both lines
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problem = getattr(e, "problem", None) or str(e)
            at = f" line {mark.line + 1}, column {mark.column + 1}:" if mark is not None else ""
            raise SurveyMappingError(f"{p}:{at} malformed YAML: {problem}") from None
        if not isinstance(data, dict):
            raise SurveyMappingError(
                f"{p}: a survey mapping is a YAML mapping with keys name, questions, ...; "
                f"found {type(data).__name__}"
            )
        mapping = cls.from_dict(data, where=str(p), base=p.parent)
        mapping._file = str(p)
        return mapping


def _describe(err: ValidationError, where: str, data: Any) -> str:
    lines = [f"{where}: invalid survey mapping"]
    for e in err.errors():
        loc = ""
        for part in e["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        column = _column_at(data, e["loc"])
        hint = f" (column {column!r})" if column else ""
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"  {loc or '<top>'}{hint}: {msg}")
    return "\n".join(lines)


def _column_at(data: Any, loc: tuple[int | str, ...]) -> str | None:
    """The ``column`` of the persona field / question an error points into, if any."""
    if len(loc) >= 2 and isinstance(data, dict) and isinstance(loc[1], int):
        items = data.get(loc[0])
        if isinstance(items, list) and 0 <= loc[1] < len(items):
            item = items[loc[1]]
            if isinstance(item, dict) and isinstance(item.get("column"), str):
                return str(item["column"])
    return None


def as_mapping(mapping: SurveyMapping | dict[str, Any] | str | Path) -> SurveyMapping:
    """A :class:`SurveyMapping` from itself, a dict, or the path of a YAML file."""
    if isinstance(mapping, SurveyMapping):
        return mapping
    if isinstance(mapping, dict):
        return SurveyMapping.from_dict(mapping)
    if isinstance(mapping, str | Path):
        return SurveyMapping.from_yaml(mapping)
    raise TypeError(
        f"a survey mapping is a SurveyMapping, a dict or a YAML path; got {type(mapping).__name__}"
    )


def with_answers(mapping: SurveyMapping, key_file: str | Path) -> SurveyMapping:
    """``mapping`` with the correct answers of a key file (CSV: ``question``, ``answer``)
    in its questions' ``answer``; every problem names the file, the line and the column."""
    import csv

    p = Path(key_file)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        raise SurveyMappingError(
            f"answer key file {str(p)!r} (answer_key of survey mapping {mapping.name!r}) is not "
            "a file"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not {"question", "answer"} <= set(reader.fieldnames or []):
        raise SurveyMappingError(
            f"{p}:1: an answer key has the columns question and answer; found "
            f"{', '.join(reader.fieldnames or []) or '(none)'}"
        )
    by_id = {q.question_id: q for q in mapping.questions}
    answers: dict[str, str] = {}
    for row in reader:
        line = reader.line_num  # the file's line (blank lines and quoted line breaks count)
        qid, code = (row.get("question") or "").strip(), normalise_code(row.get("answer"))
        q = by_id.get(qid)
        if q is None:
            raise SurveyMappingError(
                f"{p}:{line}: column 'question': {qid!r} is not a question of survey mapping "
                f"{mapping.name!r} (its questions: {', '.join(by_id)})"
            )
        if code is None or code not in q.codes:
            raise SurveyMappingError(
                f"{p}:{line}: column 'answer': {row.get('answer')!r} is not one of the option "
                f"codes of question {qid!r} ({', '.join(map(repr, q.codes)) or 'it has none'})"
            )
        if (q.answer is not None and q.answer != code) or answers.get(qid, code) != code:
            raise SurveyMappingError(
                f"{p}:{line}: question {qid!r} has another answer already "
                f"({q.answer or answers[qid]!r}); give one answer per question"
            )
        answers[qid] = code
    questions = [
        q.model_copy(update={"answer": answers[q.question_id]}) if q.question_id in answers else q
        for q in mapping.questions
    ]
    out = mapping.model_copy(update={"questions": questions})
    out._file = mapping.file
    return out
