"""A survey table (one row per respondent) → a :class:`Dataset` of people and survey episodes.

Each row becomes a :class:`Person` whose persona is built from the mapping's persona columns,
and one :class:`Episode` (``kind="survey"``) whose steps are the target questions the person
answered: the question as an :class:`Observation` and the answer code as an :class:`Action`.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from behaviorlab.data._mapping import (
    QuestionSpec,
    SurveyMapping,
    as_mapping,
    normalise_code,
)
from behaviorlab.data._records import Action, Dataset, Episode, Observation, Option, Person, Step

if TYPE_CHECKING:
    import pandas as pd

OnInvalid = Literal["error", "skip"]
SURVEY_SUFFIXES = (".csv", ".parquet", ".pq")
SURVEY_KIND = "survey"
"""The episode kind of a survey table's people (and of correctness-only data's)."""


@dataclass(frozen=True)
class _Origin:
    """Where the frame came from, for error messages that point at a line of the file."""

    path: str | None = None
    first_line: int | None = None  # file line of the frame's first row (CSV: 2)

    def row(self, position: int, label: object) -> str:
        where = f"row {label!r}" if label != position else f"row {position}"
        if self.path is None:
            return where
        if self.first_line is not None:
            return f"{where} (line {self.first_line + position} of {self.path})"
        return f"{where} of {self.path}"


def survey_from_frame(
    df: pd.DataFrame,
    mapping: SurveyMapping | dict[str, Any] | str | Path,
    *,
    targets: str | Sequence[str] | None = None,
    people: int | None = None,
    seed: int = 0,
    on_invalid: OnInvalid = "error",
) -> Dataset:
    """Turn a survey table into people and survey episodes.

    Args:
        df: one row per respondent.
        mapping: a :class:`SurveyMapping`, a dict, or the path of a YAML mapping.
        targets: ids of the questions to predict (all of the mapping's questions when
            ``None``); they become the steps of each episode, in the mapping's order.
        people: sample this many people (among those who answered a target question),
            reproducibly with ``seed``.
        on_invalid: a value that is not one of the options: ``"error"`` raises, ``"skip"``
            omits it and counts it in ``Dataset.meta["skipped_values"]``.

    A missing answer omits the step; a person with no answered target is dropped and counted
    in ``Dataset.meta["dropped_people"]``. A missing persona value omits its sentence.
    """
    return _convert(df, as_mapping(mapping), targets, people, seed, on_invalid, _Origin())


def load_survey_file(
    path: str | Path,
    mapping: SurveyMapping | dict[str, Any] | str | Path,
    *,
    targets: str | Sequence[str] | None = None,
    people: int | None = None,
    seed: int = 0,
    on_invalid: OnInvalid = "error",
) -> Dataset:
    """:func:`survey_from_frame` on a CSV or Parquet file (errors point at lines of the file).

    The id column of a CSV is read as text, so ids such as ``007`` keep their zeros. A file
    that cannot be a survey table (a folder, an image or other binary file, NUL bytes, not
    UTF-8, empty, YAML saved as ``.csv``, a column named twice, no data rows) is an error
    naming the file and what is wrong with it.
    """
    p = Path(path)
    m = as_mapping(mapping)
    suffix = p.suffix.lower()
    if suffix not in SURVEY_SUFFIXES:
        raise ValueError(
            f"cannot read survey file {str(p)!r}: unsupported suffix {p.suffix!r}; "
            f"use one of {', '.join(SURVEY_SUFFIXES)}"
        )
    if p.is_dir():
        raise ValueError(f"survey file {str(p)!r} is a folder; give the CSV or Parquet file")
    if not p.is_file():
        raise FileNotFoundError(f"survey file {str(p)!r} does not exist")
    if suffix == ".csv":
        df = read_survey_csv(p, id_column=m.id_column)
        origin = _Origin(str(p), first_line=2)
    else:
        df = read_survey_parquet(p)
        origin = _Origin(str(p))
    if len(df) == 0:
        raise ValueError(
            f"survey file {str(p)!r} has no data rows (only its column names): a survey "
            "table has one row per respondent"
        )
    if not m.source:
        m = m.model_copy(update={"source": str(p)})
    return _convert(df, m, targets, people, seed, on_invalid, origin)


BINARY_SIGNATURES: dict[bytes, str] = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook is one: save it as CSV)",
    b"\x1f\x8b": "a gzip archive (decompress it first)",
    b"PAR1": "a Parquet file (name it .parquet)",
    b"SQLite format 3\x00": "an SQLite database",
}
"""The first bytes of files people give as a CSV by mistake, and what they are."""


def _is_yaml_mapping(text: str) -> bool:
    """Whether a file of one column is a YAML mapping (a mapping or spec saved as .csv)."""
    import yaml

    try:
        return isinstance(yaml.safe_load(text), dict)
    except yaml.YAMLError:
        return False


def read_survey_csv(path: Path, *, id_column: str | None = None) -> pd.DataFrame:
    """A CSV file as a frame (``id_column`` as text), after checking it is a CSV table.

    Every refusal is a ``ValueError`` naming the file, the line where it can, and what to do.
    """
    import pandas as pd

    raw = path.read_bytes()
    what = next((w for sig, w in BINARY_SIGNATURES.items() if raw.startswith(sig)), None)
    if what is not None:
        raise ValueError(f"survey file {str(path)!r} is {what}, not a CSV text file")
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise ValueError(
            f"{path}:{line}: a NUL byte (offset {nul}): the file is binary or damaged, not a "
            "CSV text file; export the table again as CSV (UTF-8)"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ValueError(
            f"{path}:{line}: not UTF-8 text (byte {raw[exc.start : exc.start + 1]!r} at offset "
            f"{exc.start}); save the file as CSV in UTF-8"
        ) from None
    if not text.strip():
        raise ValueError(
            f"survey file {str(path)!r} is empty: a survey CSV has a header line naming the "
            "columns, then one row per respondent"
        )
    header = next(csv.reader(io.StringIO(text)), [])
    if len(header) <= 1 and len(text) < 1_000_000 and _is_yaml_mapping(text):
        raise ValueError(
            f"survey file {str(path)!r} looks like YAML saved as .csv (a mapping, not a "
            "table); give the survey table here, and a YAML file as data.mapping"
        )
    seen: dict[str, int] = {}
    for column, name in enumerate(header, start=1):
        if name in seen and name.strip():
            raise ValueError(
                f"{path}:1: column {name!r} appears twice in the header (columns "
                f"{seen[name]} and {column}); rename or remove one"
            )
        seen.setdefault(name, column)
    dtype = {id_column: str} if id_column else None
    try:
        return pd.read_csv(io.StringIO(text), dtype=dtype)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(
            f"survey file {str(path)!r} is not a CSV table pandas can read: "
            f"{str(exc).strip()}; check its delimiters and quotes"
        ) from None


def read_survey_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file as a frame; a damaged or foreign file is a ``ValueError`` naming it."""
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except ImportError:
        raise
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid / ArrowIOError among them
        raise ValueError(
            f"survey file {str(path)!r} cannot be read as Parquet: {exc}; check that it is a "
            "complete Parquet file (or give a .csv)"
        ) from None


def _convert(
    df: pd.DataFrame,
    mapping: SurveyMapping,
    targets: str | Sequence[str] | None,
    people: int | None,
    seed: int,
    on_invalid: OnInvalid,
    origin: _Origin,
) -> Dataset:
    if on_invalid not in ("error", "skip"):
        raise ValueError(f"on_invalid must be 'error' or 'skip', not {on_invalid!r}")
    if people is not None and people < 1:
        raise ValueError(f"survey {mapping.name!r}: people must be at least 1, not {people}")
    _check_columns(df, mapping)
    questions = _select_targets(mapping, targets)
    _check_held_out(mapping, questions)

    observations = {q.question_id: _observation(q, mapping, origin) for q in questions}
    counter = _Counter()
    persons: dict[str, Person] = {}
    episodes: list[Episode] = []
    rows_of: dict[str, int] = {}
    columns = [c for c in dict.fromkeys(_used_columns(mapping)) if c in df.columns]
    records = df[columns].to_dict("records")
    for position, (label, row) in enumerate(zip(df.index, records, strict=True)):
        where = origin.row(position, label)
        person_id = _person_id(mapping, row, label, where)
        if person_id in rows_of:
            raise ValueError(
                f"survey {mapping.name!r}: person id {person_id!r} appears twice "
                f"(rows {rows_of[person_id]} and {position}; id column {mapping.id_column!r})"
            )
        rows_of[person_id] = position
        steps = _steps(mapping, observations, questions, person_id, row, where, on_invalid, counter)
        if not steps:
            counter.dropped += 1
            continue
        persons[person_id] = _person(mapping, person_id, row, position, where, on_invalid, counter)
        episodes.append(
            Episode(
                episode_id=f"{mapping.name}:{person_id}",
                person_id=person_id,
                kind=SURVEY_KIND,
                steps=steps,
            )
        )

    available = len(episodes)
    if people is not None:
        if people > available:
            raise ValueError(
                f"survey {mapping.name!r}: asked for people={people} but only {available} "
                f"people answered the target question(s) {', '.join(observations)}"
            )
        keep = sorted(random.Random(seed).sample(range(available), people))
        episodes = [episodes[i] for i in keep]
        persons = {ep.person_id: persons[ep.person_id] for ep in episodes}

    return Dataset(
        name=mapping.name,
        version=mapping.version,
        source=mapping.source,
        license=mapping.license,
        persons=persons,
        episodes=episodes,
        meta={
            "mapping": mapping_record(mapping),
            "targets": list(observations),
            "people_available": available,
            "people": people,
            "seed": seed,
            "dropped_people": counter.dropped,
            "skipped_values": counter.skipped,
            "source_rows": len(df),
            "source_file": origin.path,
        },
    )


@dataclass
class _Counter:
    dropped: int = 0
    skipped: int = 0
    answers: dict[tuple[str, str | None], Action] = field(default_factory=dict)
    """One frozen ``answer`` action per (option code, answer key), shared by every step that
    gave it."""

    def answer(self, code: str, key: str | None) -> Action:
        """The person's answer; a keyed question's carries the key in ``attributes``
        (``answer_key``), hidden from simulators like the rest of the target."""
        action = self.answers.get((code, key))
        if action is None:
            attributes = {"answer_key": key} if key is not None else {}
            action = Action(action_type="answer", value=code, attributes=attributes)
            self.answers[(code, key)] = action
        return action


_STEP_FIELDS = {"index", "step_id", "observation", "action"}
"""The fields a survey step sets: one set shared by every step (never changed, a step is
frozen) rather than one set per step, about 200 bytes of each of millions of steps."""


def _steps(
    mapping: SurveyMapping,
    observations: dict[str, Observation],
    questions: list[QuestionSpec],
    person_id: str,
    row: dict[Any, Any],
    where: str,
    on_invalid: OnInvalid,
    counter: _Counter,
) -> list[Step]:
    """One step per answered target question, in the mapping's order."""
    steps: list[Step] = []
    for q in questions:
        code = normalise_code(row[q.column])
        if code is None:
            continue
        if q.type == "numeric":
            code = _numeric_value(mapping, q, where, code, on_invalid)
            if code is None:
                counter.skipped += 1
                continue
        elif code not in q.codes:
            _invalid(
                mapping, f"column {q.column!r}", where, code, q.codes, on_invalid, question=True
            )
            counter.skipped += 1
            continue
        # the question and an answer code are shared by everyone who gave it, not copied
        # per person (a million-trial survey holds ten million steps); every value here is
        # already checked, so the step is assembled without validating it again
        action = counter.answer(code, q.answer)
        steps.append(
            Step.model_construct(
                _STEP_FIELDS,
                index=len(steps),
                step_id=f"{person_id}:{q.question_id}",
                observation=observations[q.question_id],
                action=action,
            )
        )
    return steps


def _used_columns(mapping: SurveyMapping) -> list[str]:
    cols = [mapping.id_column] if mapping.id_column else []
    return cols + [f.column for f in mapping.persona] + [q.column for q in mapping.questions]


def _check_columns(df: pd.DataFrame, mapping: SurveyMapping) -> None:
    present = [str(c) for c in df.columns]
    roles = [("id_column", mapping.id_column)] if mapping.id_column else []
    roles += [("persona", f.column) for f in mapping.persona]
    roles += [("question", q.column) for q in mapping.questions]
    for role, column in roles:
        if column not in df.columns:
            close = difflib.get_close_matches(column, present, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"survey {mapping.name!r}: {role} column {column!r} is not in the data.{hint} "
                f"The data's columns: {', '.join(present)}"
            )


def _select_targets(
    mapping: SurveyMapping, targets: str | Sequence[str] | None
) -> list[QuestionSpec]:
    if targets is None:
        return list(mapping.questions)
    wanted = [targets] if isinstance(targets, str) else list(targets)
    if not wanted:
        raise ValueError(f"survey {mapping.name!r}: targets is empty; name at least one question")
    valid = mapping.question_ids()
    for t in wanted:
        if t not in valid:
            close = difflib.get_close_matches(t, valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"survey {mapping.name!r}: unknown target question {t!r}.{hint} "
                f"Valid question ids: {', '.join(valid)}"
            )
    return [q for q in mapping.questions if q.question_id in wanted]


def _check_held_out(mapping: SurveyMapping, questions: list[QuestionSpec]) -> None:
    persona_columns = {f.column for f in mapping.persona}
    for q in questions:
        if q.column in persona_columns:
            raise ValueError(
                f"survey {mapping.name!r}: target question {q.question_id!r} (column "
                f"{q.column!r}) is also a persona column; held-out questions are never part of "
                f"the persona. Remove {q.column!r} from the persona or from the targets."
            )


def _observation(q: QuestionSpec, mapping: SurveyMapping, origin: _Origin) -> Observation:
    """The question as shown; a numeric or ordered question says so in its meta (the keys
    are absent for a plain question, so its records and data hash stay as they were)."""
    meta: dict[str, Any] = {"question_id": q.question_id}
    if q.type == "numeric":
        meta["answer_type"] = "numeric"
        meta["range"] = list(q.range) if q.range is not None else None
        if q.range is None:  # for the message of a metric that needs the range
            meta["defined_in"] = mapping.file or origin.path or f"survey mapping {mapping.name!r}"
    elif q.ordered:
        meta["answer_type"] = "ordered"
        meta["range"] = list(q.scale() or ())
    return Observation(
        kind="question",
        content=q.text,
        options=[Option(code=c, label=label) for c, label in q.options.items()]
        if q.options is not None
        else None,
        alternatives=list(q.paraphrases),
        meta=meta,
    )


def _numeric_value(
    mapping: SurveyMapping, q: QuestionSpec, where: str, code: str, on_invalid: OnInvalid
) -> str | None:
    """A numeric answer as its normalised string (``3.0`` → ``"3"``), or None when it is not a
    number or lies outside the question's range and invalid values are skipped."""
    try:
        value = float(code)
    except ValueError:
        value = math.nan
    problem = None
    if not math.isfinite(value):
        problem = "is not a number"
    elif q.range is not None and not q.range[0] <= value <= q.range[1]:
        problem = f"is outside the question's range [{q.range[0]:g}, {q.range[1]:g}]"
    if problem is None:
        return normalise_code(value)
    if on_invalid == "error":
        raise ValueError(
            f"survey {mapping.name!r}: column {q.column!r} (numeric question "
            f"{q.question_id!r}), {where}: value {code!r} {problem} (fix the data or the "
            "mapping's range, or pass on_invalid='skip')"
        )
    return None


def _is_number(code: str) -> bool:
    try:
        return math.isfinite(float(code))
    except ValueError:
        return False


def mapping_record(mapping: SurveyMapping) -> dict[str, Any]:
    """The mapping as stored in ``Dataset.meta``: the question fields added for numeric,
    ordered and keyed questions appear only where they are set."""
    data = mapping.model_dump()
    for q in data["questions"]:
        for key, default in (("type", "options"), ("range", None), ("ordered", False)):
            if q.get(key) == default:
                q.pop(key)
        if q.get("answer") is None:
            q.pop("answer", None)
        if q.get("options") is None:
            q.pop("options", None)
    if data.get("answer_key") is None:
        data.pop("answer_key", None)
    return data


def _invalid(
    mapping: SurveyMapping,
    what: str,
    where: str,
    code: str,
    valid: dict[str, str],
    on_invalid: OnInvalid,
    *,
    question: bool = False,
) -> None:
    """Raise for a value that is not a known code, unless invalid values are skipped."""
    if on_invalid == "error":
        numeric = (
            "; if the answer is a number rather than a code, declare the question "
            "type: numeric with range: [lo, hi] in the mapping"
            if question and _is_number(code)
            else ""
        )
        raise ValueError(
            f"survey {mapping.name!r}: {what}, {where}: value {code!r} is not one of the codes; "
            f"valid codes: {', '.join(map(repr, valid))} "
            f"(fix the data or the mapping, or pass on_invalid='skip'){numeric}"
        )


def _person_id(mapping: SurveyMapping, row: dict[Any, Any], label: object, where: str) -> str:
    if mapping.id_column is None:
        return str(label)
    pid = normalise_code(row[mapping.id_column])
    if pid is None:
        raise ValueError(
            f"survey {mapping.name!r}: {where} has no value in the id column {mapping.id_column!r}"
        )
    return pid


def _person(
    mapping: SurveyMapping,
    person_id: str,
    row: dict[Any, Any],
    position: int,
    where: str,
    on_invalid: OnInvalid,
    counter: _Counter,
) -> Person:
    attributes: dict[str, Any] = {}
    sentences: list[str] = []
    for f in mapping.persona:
        attributes[f.column] = plain_value(row[f.column])
        code = normalise_code(row[f.column])
        if code is None:
            continue
        if f.values is not None:
            if code not in f.values:
                _invalid(mapping, f"persona column {f.column!r}", where, code, f.values, on_invalid)
                counter.skipped += 1
                continue
            code = f.values[code]
        sentences.append(f.render(code))
    return Person(
        person_id=person_id,
        attributes=attributes,
        description=" ".join(sentences) or None,
        meta={"row": position, "survey": mapping.name},
    )


def plain_value(value: object) -> str | int | float | bool | None:
    """A table cell as plain Python: missing → None, integral floats → int, numpy → builtin."""
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    import pandas as pd

    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return None
    except (TypeError, ValueError):
        pass
    return str(value)
