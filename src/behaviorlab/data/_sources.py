"""The dataset registry and :func:`load_dataset` (a registered source, or a survey file).

A source is a function ``(target=None, persona=None, people=None, seed=0) -> Dataset``
registered with ``@dataset(name)``; users register their own the same way::

    @dataset("my_panel")
    def my_panel(target=None, persona=None, people=None, seed=0):
        return load_survey_file("panel.csv", "panel.yaml", targets=target, people=people,
                                seed=seed)

``target`` names the held-out question(s) to predict; ``persona`` the columns that describe
the person. When ``persona`` is not given, the source's default persona is used minus any
target column; a target listed in an explicit ``persona`` is an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from behaviorlab._registry import Registry, UnknownComponentError, call_with_options
from behaviorlab.data._mapping import SurveyMapping, as_mapping
from behaviorlab.data._records import Dataset
from behaviorlab.data._survey import SURVEY_SUFFIXES, OnInvalid, load_survey_file

if TYPE_CHECKING:
    pass

DatasetFactory = Callable[..., Dataset]
DatasetFactoryT = TypeVar("DatasetFactoryT", bound=DatasetFactory)

datasets: Registry[DatasetFactory] = Registry("dataset")


def dataset(name: str, *, replace: bool = False) -> Callable[[DatasetFactoryT], DatasetFactoryT]:
    """Register a dataset source (a function returning a :class:`Dataset`) under ``name``."""
    return datasets.register(name, replace=replace)  # type: ignore[return-value]


def load_dataset(source: str | Path, **options: Any) -> Dataset:
    """Load a registered source by name, or a survey file (``.csv`` / ``.parquet``).

    For a registered name, ``options`` go to its function (``target``, ``persona``,
    ``people``, ``seed``). For a file, ``mapping=`` (a YAML path, a dict or a
    :class:`SurveyMapping`) is required; ``target``, ``persona``, ``people``, ``seed`` and
    ``on_invalid`` are optional.
    """
    name = str(source)
    if name in datasets:
        return call_with_options("dataset", name, datasets.get(name), **options)  # type: ignore[no-any-return]
    suffix = Path(name).suffix.lower()
    if suffix in SURVEY_SUFFIXES:
        return call_with_options("dataset", name, _survey_file, path=name, **options)  # type: ignore[no-any-return]
    if suffix:
        raise ValueError(
            f"cannot load dataset {name!r}: files must end in {', '.join(SURVEY_SUFFIXES)}; "
            f"registered datasets: {', '.join(datasets.names())}"
        )
    raise UnknownComponentError("dataset", name, datasets.names())


def _survey_file(
    path: str,
    mapping: SurveyMapping | dict[str, Any] | str | Path | None = None,
    target: str | Sequence[str] | None = None,
    persona: Sequence[str] | None = None,
    people: int | None = None,
    seed: int = 0,
    on_invalid: OnInvalid = "error",
) -> Dataset:
    if mapping is None:
        raise ValueError(
            f"dataset {path!r} is a survey file: pass mapping= (the path of a YAML mapping, "
            "see docs/own-survey.md)"
        )
    m = as_mapping(mapping)
    selected = select_questions(
        m, target, persona, default_targets=m.question_ids(), default_persona=None
    )
    return load_survey_file(path, selected, people=people, seed=seed, on_invalid=on_invalid)


def select_questions(
    mapping: SurveyMapping,
    target: str | Sequence[str] | None,
    persona: Sequence[str] | None,
    *,
    default_targets: list[str],
    default_persona: list[str] | None,
) -> SurveyMapping:
    """The mapping restricted to the chosen targets (in that order) and persona columns.

    ``persona=None`` takes ``default_persona`` minus the target columns, or the mapping's
    whole persona when ``default_persona`` is None.
    """
    if target is None:
        target = default_targets
    wanted = list(dict.fromkeys([target] if isinstance(target, str) else target))
    if not wanted:
        raise ValueError(f"dataset {mapping.name!r}: target is empty; name at least one question")
    by_id = {q.question_id: q for q in mapping.questions}
    for t in wanted:
        if t not in by_id:
            raise ValueError(
                f"dataset {mapping.name!r}: unknown target {t!r}.{_hint(t, list(by_id))} "
                f"Valid targets: {', '.join(by_id)}"
            )
    questions = [by_id[t] for t in wanted]
    available = list(dict.fromkeys(f.column for f in mapping.persona))
    held_out = {q.column: q.question_id for q in questions}
    if persona is None and default_persona is None:
        columns = available
    elif persona is None:
        columns = [c for c in default_persona or [] if c not in held_out]
    else:
        columns = [persona] if isinstance(persona, str) else list(persona)
        for c in columns:
            if c in held_out:
                raise ValueError(
                    f"dataset {mapping.name!r}: persona column {c!r} is the target question "
                    f"{held_out[c]!r}; held-out questions are never part of the persona. "
                    f"Remove {c!r} from persona."
                )
            if c not in available:
                raise ValueError(
                    f"dataset {mapping.name!r}: unknown persona column {c!r}."
                    f"{_hint(c, available)} Valid persona columns: {', '.join(available)}"
                )
    fields = [f for c in columns for f in mapping.persona if f.column == c]
    return mapping.model_copy(update={"questions": questions, "persona": fields})


def _hint(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
