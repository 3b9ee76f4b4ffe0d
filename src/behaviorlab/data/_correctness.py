"""Correctness-only data (person, item, correct) with an item table → a :class:`Dataset`.

A scored test often keeps only whether each person was right on each item, not the option
they chose. With the items themselves (a survey mapping whose questions are the items, each
with its ``answer:`` key, or an ``answer_key`` file) this is enough to ask a twin each item as
that person and compare its correctness with theirs. Each person becomes one
:class:`Episode` (``kind=SURVEY_KIND``) with one :class:`Step` per item they answered: the item's
question as the :class:`Observation` and an ``answer`` :class:`Action` whose ``value`` is None
(no chosen option is known) and whose ``attributes`` carry the key (``answer_key``) and the
person's correctness (``human_correct``, 1.0 or 0.0), hidden from simulators like any target.

An optional persona table (``persons``: one row per person, its id in the mapping's
``id_column``, described by the mapping's ``persona`` fields) gives the twin who it is.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from behaviorlab.data._mapping import QuestionSpec, SurveyMapping, as_mapping
from behaviorlab.data._records import Action, Dataset, Episode, Person, Step
from behaviorlab.data._sources import dataset, select_questions
from behaviorlab.data._survey import (
    SURVEY_KIND,
    _Counter,
    _observation,
    _Origin,
    _person,
    _person_id,
    mapping_record,
    read_survey_csv,
)

CORRECTNESS_FILE = "correctness_file"
HUMAN_CORRECT = "human_correct"
"""Key of the person's correctness in the target's ``attributes`` (1.0 right, 0.0 wrong)."""
TRUE = frozenset({"1", "1.0", "true", "t", "yes", "y", "correct", "right"})
FALSE = frozenset({"0", "0.0", "false", "f", "no", "n", "incorrect", "wrong"})


class CorrectnessFileError(ValueError):
    """A correctness-only file that cannot be used; the message names file, line and column."""


def _read_rows(
    path: Path, columns: tuple[str, str, str]
) -> list[tuple[int, str, str, float | None]]:
    """(line, person, item, correct) per data row; an empty ``correct`` is None."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError):
        raise CorrectnessFileError(f"correctness file {str(path)!r} is not a file") from None
    except UnicodeDecodeError as e:
        raise CorrectnessFileError(
            f"{path}: not UTF-8 text (offset {e.start}); save it as CSV in UTF-8"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for role, name in zip(("person", "item", "correct"), columns, strict=True):
        if name not in header:
            raise CorrectnessFileError(
                f"{path}:1: no {role} column {name!r}; the columns are "
                f"{', '.join(header) or '(none)'} (name yours with {role}_column=...)"
            )
    person, item, correct = columns
    out: list[tuple[int, str, str, float | None]] = []
    for record in reader:
        line = reader.line_num
        extra: list[str] = list(record.get(None) or [])
        short = any(v is None for k, v in record.items() if k is not None)
        if extra or short:  # a shifted or cut-off row
            got = f"{len(header) + len(extra)}" if extra else "fewer"
            raise CorrectnessFileError(
                f"{path}:{line}: {got} fields where the header has {len(header)}; fix the "
                "row (a comma inside a value needs quotes)"
            )
        who, what = (record.get(person) or "").strip(), (record.get(item) or "").strip()
        for name, cell in ((person, who), (item, what)):
            if not cell:
                raise CorrectnessFileError(f"{path}:{line}: column {name!r} is empty")
        raw = (record.get(correct) or "").strip()
        value: float | None = None
        if raw.lower() in TRUE:
            value = 1.0
        elif raw.lower() in FALSE:
            value = 0.0
        elif raw:
            raise CorrectnessFileError(
                f"{path}:{line}: column {correct!r} is {raw!r}; write 1 or 0 (true/false, "
                "yes/no, correct/incorrect)"
            )
        out.append((line, who, what, value))
    if not out:
        raise CorrectnessFileError(f"correctness file {str(path)!r} has no data rows")
    return out


def _keyed_items(mapping: SurveyMapping, where: str) -> dict[str, QuestionSpec]:
    """The items by id; every one needs options and a key."""
    items: dict[str, QuestionSpec] = {}
    for i, q in enumerate(mapping.questions):
        if q.type != "options" or not q.options:
            raise CorrectnessFileError(
                f"{where}: questions[{i}] (item {q.question_id!r}) is not an option question; "
                "correctness-only items need options and a key (answer:)"
            )
        if q.answer is None:
            raise CorrectnessFileError(
                f"{where}: questions[{i}] (item {q.question_id!r}) has no key; give it "
                "answer: <the correct code>, or an answer_key file (columns question, answer)"
            )
        items[q.question_id] = q
    return items


def _persons(
    persons: str | Path | None, mapping: SurveyMapping, ids: list[str], data: Path
) -> dict[str, Person]:
    """Each person with their persona from the persona table, or with none."""
    if persons is None:
        if mapping.persona:
            raise CorrectnessFileError(
                f"correctness file {str(data)!r}: the item table describes persona columns "
                f"({', '.join(f.column for f in mapping.persona)}) but no persons table is "
                "given; pass persons=<CSV of one row per person> or drop persona"
            )
        return {pid: Person(person_id=pid) for pid in ids}
    if mapping.id_column is None:
        raise CorrectnessFileError(
            f"persons table {str(persons)!r}: the item table needs id_column: naming the "
            "persons table's column of person ids (the ids of the correctness file)"
        )
    where = Path(persons)
    frame = read_survey_csv(where, id_column=mapping.id_column)
    for column in [mapping.id_column, *(f.column for f in mapping.persona)]:
        if column not in frame.columns:
            raise CorrectnessFileError(
                f"{where}:1: no column {column!r} (named in the item table's "
                f"{'id_column' if column == mapping.id_column else 'persona'}); the columns "
                f"are {', '.join(map(str, frame.columns))}"
            )
    origin = _Origin(str(where), first_line=2)
    counter = _Counter()
    found: dict[str, Person] = {}
    for position, row in enumerate(frame.to_dict("records")):
        at = origin.row(position, position)
        pid = _person_id(mapping, row, position, at)
        if pid in found:
            raise CorrectnessFileError(
                f"{at}: person id {pid!r} (column {mapping.id_column!r}) appears twice in the "
                "persons table; keep one row per person"
            )
        found[pid] = _person(mapping, pid, row, position, at, "error", counter)
    missing = [pid for pid in ids if pid not in found]
    if missing:
        raise CorrectnessFileError(
            f"persons table {str(where)!r} has no row for person(s) "
            f"{', '.join(map(repr, missing[:5]))}{' ...' if len(missing) > 5 else ''} of the "
            f"correctness file {str(data)!r} (column {mapping.id_column!r})"
        )
    return {pid: found[pid] for pid in ids}


@dataset(CORRECTNESS_FILE)
def correctness_file(
    path: str | Path,
    items: SurveyMapping | dict[str, Any] | str | Path | None = None,
    mapping: SurveyMapping | dict[str, Any] | str | Path | None = None,
    persons: str | Path | None = None,
    person_column: str = "person_id",
    item_column: str = "item_id",
    correct_column: str = "correct",
    target: str | Sequence[str] | None = None,
    persona: Sequence[str] | None = None,
    people: int | None = None,
    seed: int = 0,
) -> Dataset:
    """People's correctness on keyed items as a survey dataset a twin can answer.

    Args:
        path: CSV of one row per person and item (``person_column``, ``item_column``,
            ``correct_column``; correct is 1/0, true/false, yes/no, correct/incorrect; an
            empty cell leaves the item out for that person).
        items: the item table, a survey mapping (YAML path, dict or :class:`SurveyMapping`)
            whose questions are the items (the question id is the item id of ``path``), each
            with options and ``answer:`` (or the mapping's ``answer_key`` file). ``mapping``
            is the same thing under the spec's ``data.mapping`` name; give one of them.
        persons: optional CSV of one row per person, the id in the mapping's ``id_column``,
            described by the mapping's ``persona`` fields.
        target, persona, people, seed: as for a survey file (the items to ask, the persona
            columns, a sample of people drawn with ``seed``).

    An unknown item, a ``correct`` that is not 0/1, a person and item given twice, or an item
    without a key is a :class:`CorrectnessFileError` naming the file, the line and the column.
    """
    given = items if items is not None else mapping
    if given is None or (items is not None and mapping is not None):
        raise CorrectnessFileError(
            f"dataset {CORRECTNESS_FILE!r}: give the item table once, as items= (or the "
            "spec's data.mapping): a survey mapping whose questions are the items, with answer:"
        )
    table = as_mapping(given)
    where = table.file or f"item table {table.name!r}"
    selected = select_questions(
        table, target, persona, default_targets=table.question_ids(), default_persona=None
    )
    by_id = _keyed_items(selected, where)
    everything = set(table.question_ids())
    p = Path(path)
    rows = _read_rows(p, (person_column, item_column, correct_column))
    observations = {i: _observation(q, selected, _Origin(str(p))) for i, q in by_id.items()}
    actions = {
        (i, c): Action(
            action_type="answer",
            value=None,
            attributes={"answer_key": q.answer, HUMAN_CORRECT: c},
        )
        for i, q in by_id.items()
        for c in (0.0, 1.0)
    }
    seen: dict[tuple[str, str], int] = {}
    steps: dict[str, list[Step]] = {}
    for line, who, what, value in rows:
        if what not in everything:
            raise CorrectnessFileError(
                f"{p}:{line}: column {item_column!r} is {what!r}, not an item of {where} "
                f"(items: {', '.join(table.question_ids()[:10])}"
                f"{' ...' if len(everything) > 10 else ''})"
            )
        if (who, what) in seen:
            raise CorrectnessFileError(
                f"{p}:{line}: person {who!r} and item {what!r} appear twice (lines "
                f"{seen[(who, what)]} and {line}); keep one row per person and item"
            )
        seen[(who, what)] = line
        answered = steps.setdefault(who, [])
        if value is None or what not in by_id:
            continue
        answered.append(
            Step(
                index=len(answered),
                step_id=f"{who}:{what}",
                observation=observations[what],
                action=actions[(what, value)],
            )
        )
    ids = [pid for pid, s in steps.items() if s]
    available = len(ids)
    if people is not None:
        if not 1 <= people <= len(ids):
            raise CorrectnessFileError(
                f"correctness file {str(p)!r}: asked for people={people} but {len(ids)} "
                "people answered the chosen item(s)"
            )
        keep = sorted(random.Random(seed).sample(range(len(ids)), people))
        ids = [ids[i] for i in keep]
    return Dataset(
        name=table.name,
        version=table.version,
        source=table.source or str(p),
        license=table.license,
        persons=_persons(persons, selected, ids, p),
        episodes=[
            Episode(
                episode_id=f"{table.name}:{pid}", person_id=pid, kind=SURVEY_KIND, steps=steps[pid]
            )
            for pid in ids
        ],
        meta={
            "mapping": mapping_record(selected),
            "targets": list(by_id),
            "correctness_only": True,
            "people_available": available,
            "people": people,
            "seed": seed,
            "dropped_people": len(steps) - available,
            "source_rows": len(rows),
            "source_file": str(p),
        },
    )
