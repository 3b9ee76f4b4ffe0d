"""Answers made elsewhere, stored as a run: :func:`import_answers` (``behaviorlab import``).

A file of answers another tool produced (rows: person, item, value, simulator label, and
optionally a rationale and a condition) becomes a run like any other: the trials are built
from the human data by the task, each row is matched to the trial of its person and item, its
value becomes an :class:`~behaviorlab.simulators.Answer` (an option code for an option task;
for a task whose answer is a JSON object, that object, or the value of its one field) that
the task scores, and the rows are stored in ``runs/NAME/results.sqlite`` with a manifest. So
``behaviorlab gap``, ``report``, ``results`` and ``open_run`` read it unchanged.

Trial ids are the runner's own (task, simulator label, condition, seed, trial key), so
importing the same file again adds nothing and an import cut short resumes; the store's write
lock refuses a second process. Rows that match nothing are counted and listed (file, row,
field); the others are stored. A (label, condition, person, item) given twice is an error
naming both rows. The manifest records the file, its SHA-256 and the labels, and that no model
was run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from behaviorlab._registry import call_with_options, import_plugins
from behaviorlab.data._records import Dataset
from behaviorlab.data._yaml_strict import load_strict
from behaviorlab.runs._build import load_data
from behaviorlab.runs._import_table import (
    AnswerColumns,
    AnswerImportError,
    Table,
    UnmatchedRow,
    code_order,
    columns_of,
    probabilities_of,
    read_table,
    structured_value,
    text_of,
)
from behaviorlab.runs._manifest import build_manifest, data_manifest, task_manifest
from behaviorlab.runs._planning import trial_id
from behaviorlab.runs._rows import result_row
from behaviorlab.runs._spec import (
    DataSpec,
    ExperimentSpec,
    SimulatorSpec,
    SpecError,
    _line_of,
)
from behaviorlab.runs._stored import Run
from behaviorlab.runs._types import Job
from behaviorlab.simulators._base import Answer
from behaviorlab.simulators._prompts import prompting_of, schema_problem
from behaviorlab.store._schema import TrialResult
from behaviorlab.store._sqlite import ResultStore
from behaviorlab.tasks._base import Task, Trial, TrialInput, tasks

IMPORTED = "imported"
"""The simulator name an imported label has in the run's spec and manifest."""
BATCH = 500
"""Rows committed per transaction (an import cut short keeps every batch before)."""
SHOWN_DUPLICATES = 5


@dataclass
class ImportSummary:
    """What one import did."""

    run_id: str
    results_path: Path
    file: str
    sha256: str
    rows: int
    """Rows read from the file."""
    matched: dict[str, int]
    """Rows matched to a trial, by simulator label."""
    stored: int
    """Trials stored by this import."""
    already_stored: int
    """Matched rows whose trial was stored before (an earlier import of the same file)."""
    unmatched: list[UnmatchedRow] = field(default_factory=list)
    status: str = "finished"

    def run(self) -> Run:
        """The run the answers were stored in (as ``open_run`` gives it)."""
        return Run(self.run_id, self.results_path)

    def unmatched_frame(self) -> pd.DataFrame:
        """The unmatched rows: file, row, field, value, reason."""
        cols = ["file", "row", "field", "value", "reason"]
        return pd.DataFrame([[getattr(u, c) for c in cols] for u in self.unmatched], columns=cols)


# -- the human side: data spec, task, trials -------------------------------------------------


@dataclass(frozen=True)
class _Source:
    task: str
    task_options: dict[str, Any]
    plugins: list[str]
    data: DataSpec
    seed: int


def _spec_from_mapping(
    obj: Mapping[str, Any], origin: str, root: yaml.Node | None = None
) -> _Source:
    """The task, data and seed of an experiment spec's mapping (one with ``data:``), or a
    data spec's; errors name ``origin``, the line (from the YAML ``root``) and the field."""
    spec = "data" in obj
    try:
        if spec:
            unknown = sorted(set(obj) - set(ExperimentSpec.model_fields))
            if unknown:
                line = _line_of(root, (unknown[0],))
                raise AnswerImportError(
                    f"{origin}:{line or '?'}: {', '.join(unknown)}: not a field of an experiment "
                    "spec"
                )
            seeds = obj.get("seeds") or [0]
            return _Source(
                task=str(obj.get("task") or ""),
                task_options=dict(obj.get("task_options") or {}),
                plugins=list(obj.get("plugins") or []),
                data=DataSpec.model_validate(obj["data"]),
                seed=int(seeds[0]),
            )
        return _Source("", {}, [], DataSpec.model_validate(dict(obj)), 0)
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            loc = ("data", *e["loc"]) if spec else tuple(e["loc"])
            line = _line_of(root, loc)
            lines.append(f"{origin}:{line or '?'}: {'.'.join(map(str, loc))}: {e['msg']}")
        raise AnswerImportError("invalid data spec\n" + "\n".join(lines)) from None


def _source(data: str | Path | DataSpec | ExperimentSpec | Mapping[str, Any]) -> _Source:
    if isinstance(data, ExperimentSpec):
        return _Source(
            data.task, dict(data.task_options), list(data.plugins), data.data, data.seeds[0]
        )
    if isinstance(data, DataSpec):
        return _Source("", {}, [], data, 0)
    if isinstance(data, Mapping):
        return _spec_from_mapping(data, "data spec")
    path = Path(data)
    if path.suffix.lower() in (".csv", ".parquet"):
        return _Source("", {}, [], DataSpec(source=os.fspath(data)), 0)  # needs a mapping
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise AnswerImportError(f"data spec {str(path)!r} not found")
        try:
            text = path.read_text(encoding="utf-8-sig")
            obj, root = load_strict(text), yaml.compose(text)
        except Exception as exc:
            raise AnswerImportError(f"{path}: not a readable YAML spec ({exc})") from None
        if not isinstance(obj, dict):
            raise AnswerImportError(
                f"{path}: a data spec is a YAML mapping (source:, mapping:, ... or an "
                "experiment spec with data:)"
            )
        return _spec_from_mapping(obj, str(path), root)
    return _Source("", {}, [], DataSpec(source=os.fspath(data)), 0)  # a registered dataset


def _index(trials: Sequence[Trial]) -> dict[tuple[str, str], list[Trial]]:
    out: dict[tuple[str, str], list[Trial]] = {}
    for t in trials:
        out.setdefault((t.person_id, t.item_id), []).append(t)
    return out


# -- one row to an answer --------------------------------------------------------------------


def _answer(
    trial: Trial, raw: Any, rationale: str | None, probs: Any = None
) -> tuple[str, Answer | str]:
    """The answer a row gives for its trial, or (the field at fault, why it fits no answer of
    the trial)."""
    meta = {"rationale": rationale} if rationale else {}
    obs = trial.input.observation
    if probs is not None and not obs.options:
        return "probabilities", f"item {trial.item_id!r} has no options to give probabilities of"
    if obs.options:
        text = text_of(raw)
        codes = obs.option_codes()
        if text in codes:
            code = text
        else:
            folded = (text or "").casefold()
            by_label = [o.code for o in obs.options if o.label.strip().casefold() == folded]
            if len(by_label) != 1:
                return "value", (
                    f"{text!r} is not an option of item {trial.item_id!r} (its codes: "
                    f"{', '.join(sorted(codes, key=code_order))})"
                )
            code = by_label[0]
        dist: dict[str, float] | None = None
        if probs is not None:
            found = probabilities_of(probs, sorted(codes, key=code_order))
            if isinstance(found, str):
                return "probabilities", found
            dist = found
        # assembled from checked values (a code of the trial), without a second validation
        return "", Answer.model_construct(
            choice=code, value={"answer": code}, raw=str(raw), probabilities=dist, meta=meta
        )
    inp: TrialInput = trial.input
    value = structured_value(raw, inp.answer_schema)
    if isinstance(value, str):
        return "value", value
    prompting = prompting_of(inp.task)
    problem = schema_problem(value, prompting.validation_schema(inp.answer_schema))
    if problem is not None:
        return "value", f"does not fit the answer of item {trial.item_id!r}: {problem}"
    text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
    return "", Answer(choice=prompting.choice_of(value), value=value, raw=text, meta=meta)


@dataclass
class _ImportedLabel:
    """One label of the file as the runner's jobs name a simulator (it is never asked)."""

    label: str

    def fit(self, train: Sequence[Trial]) -> None:
        return None

    async def answer(self, trial: TrialInput) -> Answer:
        return Answer(
            error="an imported simulator answers from its file only", error_kind="invalid"
        )

    def identity(self) -> dict[str, Any]:
        return {"simulator": IMPORTED, "label": self.label}


@dataclass
class _Matched:
    label: str
    condition: str
    trial: Trial
    answer: Answer
    where: str


def _match(
    table: Table,
    cols: dict[str, str | None],
    label: str | None,
    index: dict[tuple[str, str], list[Trial]],
    dataset: Dataset,
) -> tuple[list[_Matched], list[UnmatchedRow]]:
    items = {item for _, item in index}
    seen: dict[tuple[str, str, str, str, str], str] = {}
    trial_rows: dict[tuple[str, str, str], str] = {}  # (label, condition, trial key) -> row
    duplicates: list[str] = []
    matched: list[_Matched] = []
    unmatched: list[UnmatchedRow] = []

    def col(fld: str) -> str:
        return cols[fld] or fld

    for rec, where in zip(table.records, table.where, strict=True):

        def miss(fld: str, value: object, reason: str, where: str = where) -> None:
            unmatched.append(UnmatchedRow(table.origin, where, col(fld), str(value), reason))

        person = text_of(rec.get(col("person")))
        item = text_of(rec.get(col("item")))
        lab = label if cols["label"] is None else text_of(rec.get(col("label")))
        cond = text_of(rec.get(cols["condition"])) if cols["condition"] else None
        episode = text_of(rec.get(cols["episode"])) if cols["episode"] else None
        raw = rec.get(col("value"))
        if lab is None:
            miss("label", "", "no simulator label")
            continue
        if person is None or item is None:
            miss("person" if person is None else "item", "", "empty")
            continue
        key = (lab, cond or "full", person, item, episode or "")
        if key in seen:
            duplicates.append(
                f"{seen[key]} and {where} both answer person {person!r}, item {item!r} for "
                f"simulator {lab!r}"
                + (f" in condition {cond!r}" if cond else "")
                + (f" in episode {episode!r}" if episode else "")
            )
            continue
        seen[key] = where
        found = index.get((person, item))
        if not found:
            if person not in dataset.persons:
                miss("person", person, f"no person {person!r} in the data")
            elif item not in items:
                miss("item", item, f"no item {item!r} in the data")
            else:
                miss("item", item, f"person {person!r} has no answer to item {item!r} in the data")
            continue
        if episode is not None:
            in_episode = [t for t in found if t.episode_id == episode]
            if not in_episode:
                miss(
                    "episode",
                    episode,
                    f"person {person!r} has no episode {episode!r} with item {item!r} in the data",
                )
                continue
            found = in_episode
        if len(found) > 1:
            miss(
                "item",
                item,
                f"person {person!r} has {len(found)} trials of item {item!r} (episodes "
                f"{', '.join(t.episode_id for t in found)}): which one this row answers is "
                "ambiguous; name the episode in an episode column (--episode-col)",
            )
            continue
        if raw is None or text_of(raw) is None:
            miss("value", "", "empty")
            continue
        rationale = text_of(rec.get(cols["rationale"])) if cols["rationale"] else None
        probs = rec.get(cols["probabilities"]) if cols["probabilities"] else None
        if probs is not None and text_of(probs) is None:
            probs = None  # an empty cell: no distribution for this row
        fld, answer = _answer(found[0], raw, rationale, probs)
        if isinstance(answer, str):
            miss(fld, text_of(raw if fld == "value" else probs), answer)
            continue
        resolved = (lab, cond or "full", found[0].key)
        if resolved in trial_rows:  # another row (e.g. without its episode) answers it too
            duplicates.append(
                f"{trial_rows[resolved]} and {where} both answer person {person!r}, item "
                f"{item!r} (trial of episode {found[0].episode_id!r}) for simulator {lab!r}"
                + (f" in condition {cond!r}" if cond else "")
            )
            continue
        trial_rows[resolved] = where
        matched.append(_Matched(lab, cond or "full", found[0], answer, where))
    if duplicates:
        shown = "; ".join(duplicates[:SHOWN_DUPLICATES])
        more = len(duplicates) - SHOWN_DUPLICATES
        raise AnswerImportError(
            f"{table.origin}: {len(duplicates)} duplicate answer(s) (fields "
            f"{col('label')}, {col('person')}, {col('item')}): {shown}"
            + (f"; and {more} more" if more > 0 else "")
            + ". Keep one row per simulator, person and item"
        )
    return matched, unmatched


# -- storing ---------------------------------------------------------------------------------


def _run_id(name: str, src: _Source, task_name: str, seed: int) -> str:
    """The imported run's id: its name and a hash of the task, data and the trial seed used
    (``seed``: the effective one, ``--seed`` included, as the trial ids use it)."""
    payload = {
        "import": 1,
        "task": task_name,
        "task_options": src.task_options,
        "plugins": src.plugins,
        "data": src.data.model_dump(mode="json"),
        "seed": seed,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
    return f"{name}-{digest.hexdigest()[:8]}"


def _batches(rows: Sequence[TrialResult]) -> Iterator[Sequence[TrialResult]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def import_answers(
    answers: str | Path | pd.DataFrame,
    *,
    run: str,
    data: str | Path | DataSpec | ExperimentSpec | Mapping[str, Any],
    task: str | None = None,
    columns: AnswerColumns | None = None,
    label: str | None = None,
    seed: int | None = None,
    out: str | Path = "runs",
    limit: int | None = None,
) -> ImportSummary:
    """Store answers made elsewhere as the run ``run`` (in ``out/run/results.sqlite``).

    ``answers``: a CSV / TSV / JSONL / Parquet file or a DataFrame, one row per answer
    (person, item, value, simulator label; optional rationale and condition; see
    :class:`AnswerColumns`). ``label`` gives every row that simulator label (the file then
    needs no label column). ``data``: the human side, as an experiment spec (YAML path, dict
    or :class:`ExperimentSpec`: its task, data and first seed), a data spec (``source:``,
    ``mapping:``, ...) or a registered dataset name. ``task``: the task (default: the spec's,
    else the default family's). ``seed``: the trial seed (default: the spec's first).
    ``limit``: store at most this many new trials (the run is then ``partial``; import again
    to store the rest).

    Every row is matched to the trial of its person and item; rows that match none are in
    ``unmatched`` and the rest are stored. Importing the same file again stores nothing new;
    a second process importing into or running the same run is refused (the store's lock).
    """
    table = read_table(answers)
    src = _source(data)
    import_plugins(src.plugins)
    spec = _spec(run, src, task, seed, [label or IMPORTED], ["full"])
    the_task: Task = call_with_options("task", spec.task, tasks.get(spec.task), **spec.task_options)
    cols = columns_of(table, columns or AnswerColumns(), label)
    dataset = load_data(spec)
    index = _index(the_task.trials(dataset, seed=spec.seeds[0]))
    matched, unmatched = _match(table, cols, label, index, dataset)
    if not matched:
        first = "; ".join(str(u) for u in unmatched[:3]) or "the file has no rows"
        raise AnswerImportError(
            f"{table.origin}: no row matched a trial of task {spec.task!r} on data "
            f"{src.data.source!r} ({len(unmatched)} unmatched: {first}). Check that the file "
            "and the data spec name the same people and items"
        )
    by_label: dict[str, int] = {}
    for m in matched:
        by_label[m.label] = by_label.get(m.label, 0) + 1
    source = {
        "file": table.origin,
        "sha256": table.sha256,
        "columns": cols,
        "label": label,
        "rows": len(table.records),
        "matched": by_label,
        "conditions": sorted({m.condition for m in matched}),
        "unmatched": len(unmatched),
    }
    run_id = _run_id(run, src, spec.task, spec.seeds[0])
    path = Path(out) / run / "results.sqlite"
    with ResultStore(path) as store:  # the write lock: a second process is refused here
        held = set(store.runs()["run_id"])
        other = sorted(held - {run_id})
        if other:
            raise AnswerImportError(
                f"{str(path)!r} already holds run {other[0]!r}, made from other data, task or "
                f"seed (this import is {run_id!r}, seed {spec.seeds[0]}): answers on other "
                "trials would be mixed into one run. Import into another --run, or give the "
                "same data spec and seed as before"
            )
        previous = store.manifest(run_id) if run_id in held else {}
        sources = _merge_sources(previous, source, path)
        labels = list(dict.fromkeys(lab for s in sources for lab in s["matched"]))
        conds = sorted({c for s in sources for c in s.get("conditions") or ["full"]})
        spec = _spec(run, src, spec.task, spec.seeds[0], labels, conds)
        people = sorted({m.trial.person_id for m in matched})
        manifest = _manifest(spec, run_id, dataset, sources)
        store.start_run(run_id, run, spec.model_dump(mode="json"))
        store.write_persons(run_id, ((p, dataset.persons[p].attributes) for p in people))
        store.set_manifest(run_id, manifest)
        done = store.done_ids(run_id)
        rows: list[TrialResult] = []
        for m in matched:
            tid = trial_id(the_task.name, m.label, m.condition, spec.seeds[0], m.trial.key)
            if tid not in done:
                job = Job(tid, m.trial, _ImportedLabel(m.label), m.condition, spec.seeds[0])
                row = result_row(job, the_task, m.answer, run_id, 0.0)
                row.meta["imported_from"] = f"{table.origin}, {m.where}"
                rows.append(row)
        already = len(matched) - len(rows)
        rows = rows if limit is None else rows[:limit]
        before = store.count(run_id)
        for start in range(0, len(rows), BATCH):  # each batch is committed on its own
            store.write_many(rows[start : start + BATCH])
        stored = store.count(run_id)
        written = stored - before
        status = "finished" if stored >= manifest["trials_planned"] else "partial"
        store.finish_run(run_id, status)
        manifest["status"] = status
        manifest["totals"] = {"trials": stored, "tokens_in": 0, "tokens_out": 0, "cost": 0.0}
        store.set_manifest(run_id, manifest)
        (path.parent / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return ImportSummary(
        run_id=run_id,
        results_path=path,
        file=table.origin,
        sha256=table.sha256,
        rows=len(table.records),
        matched=by_label,
        stored=written,
        already_stored=already,
        unmatched=unmatched,
        status=status,
    )


def _spec(
    run: str,
    src: _Source,
    task: str | None,
    seed: int | None,
    labels: Sequence[str],
    conditions: Sequence[str],
) -> ExperimentSpec:
    """The spec recorded with the imported run: its task and data, one ``imported``
    simulator per label (never built: no model runs)."""
    try:
        return ExperimentSpec(
            name=run,
            task=task or src.task,
            task_options=src.task_options,
            plugins=src.plugins,
            data=src.data,
            simulators=[SimulatorSpec(name=IMPORTED, label=lab) for lab in labels],
            conditions=list(conditions),
            seeds=[src.seed if seed is None else seed],
        )
    except ValidationError as exc:
        raise SpecError(
            "; ".join(
                f"run name {run!r}: {e['msg'].removeprefix('Value error, ')}"
                if tuple(e["loc"]) == ("name",)
                else f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors()
            )
        ) from None


def _manifest(
    spec: ExperimentSpec, run_id: str, dataset: Dataset, sources: list[dict[str, Any]]
) -> dict[str, Any]:
    manifest = build_manifest(
        run_id=run_id,
        spec=spec.model_dump(mode="json"),
        spec_hash=run_id.rsplit("-", 1)[1],
        dataset=data_manifest(dataset, len(dataset.persons)),
        simulators=[
            {"label": lab, "simulator": IMPORTED, "source": s["file"], "sha256": s["sha256"]}
            for s in sources
            for lab in s["matched"]
        ],
        trials_planned=sum(sum(s["matched"].values()) for s in sources),
    )
    manifest["task"] = task_manifest(spec.task)
    manifest["split"] = {"by": "import"}
    manifest["import"] = {"model_run": False, "sources": sources}
    manifest["status"] = "partial"
    return manifest


def _merge_sources(
    previous: Mapping[str, Any], source: dict[str, Any], path: Path
) -> list[dict[str, Any]]:
    """The run's sources with this one: the same file (same content and columns) replaces its
    earlier entry; a label another file already gave is refused (its trial ids would be the
    same, so its answers would be silently kept)."""
    same = ("sha256", "columns", "label")
    kept: list[dict[str, Any]] = []
    for old in (previous.get("import") or {}).get("sources") or []:
        if all(old.get(k) == source[k] for k in same):
            continue
        clash = sorted(set(old.get("matched") or {}) & set(source["matched"]))
        conds = set(old.get("conditions") or ["full"]) & set(source.get("conditions") or ["full"])
        if clash and conds:  # the condition is part of the trial id: other conditions are fine
            raise AnswerImportError(
                f"{source['file']}: simulator label(s) {', '.join(map(repr, clash))} in "
                f"condition(s) {', '.join(map(repr, sorted(conds)))} are "
                f"already in {str(path)!r}, imported from {old.get('file')!r} (sha256 "
                f"{str(old.get('sha256'))[:12]}…, other content or columns); a label comes "
                "from one file: give these answers another label (--label / the label column) "
                "or import them into another --run"
            )
        kept.append(old)
    return [*kept, source]


__all__ = [
    "AnswerColumns",
    "AnswerImportError",
    "ImportSummary",
    "UnmatchedRow",
    "import_answers",
]
