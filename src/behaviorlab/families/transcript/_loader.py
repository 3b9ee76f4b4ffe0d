"""Read Psych-101/201 JSON Lines (plain or zipped, one or many experiments) into records.

Each line is a participant: a :class:`Person` (``person_id`` = ``<experiment>/<participant>``;
the optional scalar fields such as ``age``, ``gender``, ``condition``, ``diagnosis`` or
questionnaire scores become its attributes, numbers written as text like ``'31.0'`` read as
numbers) and an :class:`Episode` (kind ``"transcript"``) whose steps are the marked responses:
the observation is the transcript text since the previous response (its ``options`` the
options the text states, when an :class:`OptionRule` finds them and the response is one of
them; otherwise None: a free-text response), the action the marked text. List or object fields
(``RTs``) are behaviour, never persona: ``RTs`` of the right length go to each step's
``meta["rt"]``, every other such field to the episode's meta.

Errors (:class:`TranscriptFormatError`) name the file (``archive.zip:member`` inside a zip),
the line, the participant and, for markers, the character offset in ``text``.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behaviorlab.data._records import Action, Dataset, Episode, Observation, Option, Person, Step
from behaviorlab.data._sources import dataset
from behaviorlab.families.transcript._format import (
    DEFAULT_RULES,
    EXPERIMENT_RULES,
    OptionRule,
    TranscriptFormatError,
    Where,
    check_rules,
    parse_options,
    split_transcript,
)

REQUIRED = ("text", "experiment", "participant")
STEP_KIND = "transcript_segment"
EPISODE_KIND = "transcript"
SOURCE = "psych101"


@dataclass
class ExperimentCounts:
    """What the loader found in one experiment (``Dataset.meta["experiments"]``)."""

    participants: int = 0
    steps: int = 0
    with_options: int = 0
    free_text: int = 0
    not_an_option: int = 0
    """Responses outside the options their segment states (kept as free text)."""
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "participants": self.participants,
            "steps": self.steps,
            "with_options": self.with_options,
            "free_text": self.free_text,
            "not_an_option": self.not_an_option,
            "files": list(self.files),
        }


def _lines(path: Path) -> Iterator[tuple[str, int, str]]:
    """(file label, line number, line) of a .jsonl file or of every .jsonl member of a zip."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.endswith(".jsonl")]
            if not members:
                raise TranscriptFormatError(
                    f"{path}: the zip archive holds no .jsonl file (it holds "
                    f"{', '.join(archive.namelist()[:5]) or 'nothing'})"
                )
            for member in members:
                with archive.open(member) as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8")
                    for n, line in enumerate(text, start=1):
                        yield f"{path}:{member}", n, line
        return
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            yield str(path), n, line


def transcript_files(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files to read: each path itself, or a folder's ``*.jsonl`` and ``*.zip`` files."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    if not items:
        raise TranscriptFormatError("psych101: data.options.path is empty; give a file or folder")
    out: list[Path] = []
    for item in items:
        p = Path(item).expanduser()
        if p.is_dir():
            found = sorted([*p.glob("*.jsonl"), *p.glob("*.zip")])
            if not found:
                raise TranscriptFormatError(f"{p}: the folder holds no .jsonl or .zip file")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise TranscriptFormatError(
                f"{p}: no such file or folder; give the path of a Psych-101 prompts.jsonl, a "
                "zip of one, or a folder of them"
            )
    return out


def _scalar(value: Any) -> Any:
    """A persona attribute: numbers written as text (``'31.0'``) become numbers."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):
            return value
        return int(number) if number.is_integer() else number
    return value


def _record(file: str, n: int, line: str) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise TranscriptFormatError(
            f"{file}, line {n}: not valid JSON ({e.msg} at column {e.colno})"
        ) from e
    if not isinstance(obj, dict):
        raise TranscriptFormatError(
            f"{file}, line {n}: a line is one JSON object per participant, not a "
            f"{type(obj).__name__}"
        )
    for key in REQUIRED:
        if key not in obj or obj[key] is None:
            raise TranscriptFormatError(
                f"{file}, line {n}: field {key!r} is missing; every line needs "
                f"{', '.join(REQUIRED)}"
            )
    if not isinstance(obj["text"], str):
        raise TranscriptFormatError(
            f"{file}, line {n}: field 'text' is a {type(obj['text']).__name__}, not a string"
        )
    return obj


def _rts(value: Any, n_steps: int) -> list[Any] | None:
    if isinstance(value, list) and len(value) == n_steps:
        return value
    return None


def load_transcripts(
    path: str | Path | Sequence[str | Path],
    *,
    experiments: Sequence[str] | None = None,
    option_rules: Mapping[str, Sequence[OptionRule | str]] | None = None,
    test_experiments: Sequence[str] | None = None,
    participants: int | None = None,
) -> Dataset:
    """Read Psych-101 JSON Lines into a :class:`Dataset` (see the module docstring).

    ``experiments``: keep only these (None: all). ``option_rules``: per experiment name (``"*"``
    for every other one) the :class:`OptionRule`\\ s or regular expressions that find a
    segment's options (default: :data:`EXPERIMENT_RULES` for the experiments it names, else
    :data:`DEFAULT_RULES`; an empty list: every response free text). ``test_experiments``:
    these experiments' trials are the test side of ``split: {by: data}`` (held-out
    experiments), the others train. ``participants``: keep the first N of
    each experiment (in file order).
    """
    files = transcript_files(path)
    return _read(
        (item for f in files for item in _lines(f)),
        label=str(path),
        source=", ".join(str(p) for p in files),
        experiments=experiments,
        option_rules=option_rules,
        test_experiments=test_experiments,
        participants=participants,
    )


def transcripts_from_records(
    records: Sequence[Mapping[str, Any]],
    *,
    label: str,
    license: str,
    option_rules: Mapping[str, Sequence[OptionRule | str]] | None = None,
) -> Dataset:
    """:func:`load_transcripts` on records held in memory (a generated experiment): each
    record is one participant's JSON object; ``label`` names them in errors (line = index
    + 1) and in the dataset's source."""
    lines = ((label, n, json.dumps(r)) for n, r in enumerate(records, start=1))
    data = _read(lines, label=label, source=label, option_rules=option_rules)
    return data.model_copy(update={"license": license})


def _read(
    stream: Iterable[tuple[str, int, str]],
    *,
    label: str,
    source: str,
    experiments: Sequence[str] | None = None,
    option_rules: Mapping[str, Sequence[OptionRule | str]] | None = None,
    test_experiments: Sequence[str] | None = None,
    participants: int | None = None,
) -> Dataset:
    rules = {
        name: check_rules(list(r), f"option_rules[{name!r}]")
        for name, r in (option_rules or {}).items()
    }
    fallback = rules.get("*", DEFAULT_RULES)
    wanted = None if experiments is None else set(experiments)
    held_out = set(test_experiments or ())
    persons: dict[str, Person] = {}
    episodes: list[Episode] = []
    seen: dict[str, str] = {}
    counts: dict[str, ExperimentCounts] = {}
    for file, n, line in stream:
        obj = _record(file, n, line)
        if obj is None:
            continue
        experiment = str(obj["experiment"])
        if wanted is not None and experiment not in wanted:
            continue
        c = counts.setdefault(experiment, ExperimentCounts())
        if participants is not None and c.participants >= participants:
            continue
        participant = str(_scalar(obj["participant"]))
        where = Where(file, n, participant)
        person_id = f"{experiment}/{participant}"
        if person_id in seen:
            raise TranscriptFormatError(
                f"{where}: participant {participant!r} of experiment {experiment!r} was "
                f"already read at {seen[person_id]}; participant ids must be unique within "
                "an experiment"
            )
        seen[person_id] = f"{file}, line {n}"
        transcript = split_transcript(obj["text"], where)
        if experiment in rules:
            experiment_rules = rules[experiment]
        else:
            experiment_rules = EXPERIMENT_RULES.get(experiment, fallback)
        extra = {k: v for k, v in obj.items() if k not in REQUIRED}
        rts = _rts(extra.get("RTs"), len(transcript.responses))
        steps: list[Step] = []
        for k, r in enumerate(transcript.responses):
            found = parse_options(r.segment, experiment_rules)
            options = None
            meta: dict[str, Any] = {"offset": r.offset, "experiment": experiment}
            if found is not None and r.text in found.codes:
                options = [
                    Option(code=co, label=la)
                    for co, la in zip(found.codes, found.labels, strict=True)
                ]
                c.with_options += 1
            else:
                c.free_text += 1
                if found is not None:
                    c.not_an_option += 1
                    meta["stated_options"] = list(found.codes)
            if rts is not None:
                meta["rt"] = rts[k]
            steps.append(
                Step(
                    index=k,
                    step_id=f"choice-{k + 1}",
                    observation=Observation(
                        kind=STEP_KIND, content=r.segment, options=options, meta=meta
                    ),
                    action=Action(action_type="response", value=r.text),
                )
            )
        attributes = {
            k: _scalar(v)
            for k, v in extra.items()
            if v is None or isinstance(v, str | int | float | bool)
        }
        behaviour = {k: v for k, v in extra.items() if k not in attributes}
        if rts is not None:
            behaviour.pop("RTs")
        persons[person_id] = Person(
            person_id=person_id,
            attributes=attributes,
            meta={"experiment": experiment, "participant": participant},
        )
        episode_meta: dict[str, Any] = {
            "experiment": experiment,
            "participant": participant,
            "tail": transcript.tail,
            "file": file,
            "line": n,
            **behaviour,
        }
        if held_out:
            episode_meta["split"] = "test" if experiment in held_out else "train"
        episodes.append(
            Episode(
                episode_id=person_id,
                person_id=person_id,
                kind=EPISODE_KIND,
                steps=steps,
                meta=episode_meta,
            )
        )
        c.participants += 1
        c.steps += len(steps)
        if file not in c.files:
            c.files.append(file)
    if wanted is not None:
        missing = sorted(wanted - set(counts))
        if missing:
            raise TranscriptFormatError(
                f"psych101: no participant of experiment(s) {', '.join(missing)} in "
                f"{label}; the files hold {', '.join(sorted(counts)) or 'none'}"
            )
    if held_out - set(counts):
        raise TranscriptFormatError(
            f"psych101: test_experiments names {', '.join(sorted(held_out - set(counts)))}, "
            f"which the files do not hold ({', '.join(sorted(counts))})"
        )
    if not episodes:
        raise TranscriptFormatError(f"psych101: no participant read from {label}")
    return Dataset(
        name=SOURCE,
        source=source,
        license="see the data's own terms (Psych-101/201: per experiment)",
        persons=persons,
        episodes=episodes,
        meta={"experiments": {k: v.as_dict() for k, v in sorted(counts.items())}},
    )


@dataset(SOURCE)
def psych101(
    path: str | Sequence[str],
    experiments: Sequence[str] | None = None,
    option_rules: Mapping[str, Sequence[str]] | None = None,
    test_experiments: Sequence[str] | None = None,
    participants: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Psych-101/201 transcripts from ``path`` (a ``prompts.jsonl``, a zip of one, a folder or
    a list of them); see :func:`load_transcripts`. ``seed`` is accepted for the loader
    interface (nothing here is random)."""
    return load_transcripts(
        path,
        experiments=experiments,
        option_rules=option_rules,
        test_experiments=test_experiments,
        participants=participants,
    )
