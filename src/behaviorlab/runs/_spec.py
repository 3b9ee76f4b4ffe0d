"""Experiment specs: task × simulators × conditions × seeds, from YAML or Python.

Validation errors from a YAML file name the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from behaviorlab.data._yaml_strict import load_strict
from behaviorlab.models._base import Pricing
from behaviorlab.runs._sweep import LocatedError, SweepSpec


class SpecError(ValueError):
    """An experiment spec that cannot be used; the message says where and why."""


MAX_CONCURRENCY = 1024
"""Trials in flight at most (each is a worker; more only queue on the backend)."""
MAX_RESAMPLES = 100_000
"""Bootstrap resamples at most (the resample matrix is held in memory)."""
Seed = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
"""A seed is stored as a 64-bit integer."""


SplitBy = Literal["person", "data", "time"]


class SplitSpec(BaseModel):
    """How trials are split into training and test sides.

    ``by: person`` (default): a seeded share ``test`` of the people is held out, with all
    their trials; no person is on both sides. ``by: data``: the split recorded in the data
    (each trial's ``meta["split"]``, e.g. OPeRA's split by session); a person can be on both
    sides. ``by: time``: within each person, the last ``test`` share of their episodes (by
    start time) are test, at least one when they have two or more, never all of them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    by: SplitBy = Field(default="person", description="person | data | time")
    test: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of people (by: person) or of each person's episodes (by: time); "
        "1.0 (by: person) tests everyone: for benchmarks where the subject is the agent and "
        "no simulator learns from training people.",
    )
    seed: int = 0


class DataSpec(BaseModel):
    """Where the human records come from (see ``behaviorlab datasets``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(description="A registered dataset name, or a path to CSV / Parquet.")

    @field_validator("source", mode="before")
    @classmethod
    def _source_is_a_name_or_path(cls, value: Any) -> Any:
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if value is not None and not isinstance(value, str):
            kind = type(value).__name__
            raise ValueError(
                f"data.source is a dataset name or a CSV / Parquet path, not a {kind}: a spec "
                "is saved with its run and hashed, so the data it names must be a file; write "
                "it first (df.to_parquet('answers.parquet')) and give source: answers.parquet"
            )
        return value

    target: str | list[str] | None = Field(default=None, description="Question(s) to predict.")
    persona: list[str] | None = Field(default=None, description="Persona columns.")
    people: int | None = Field(default=None, gt=1, description="Sample this many people.")
    mapping: str | dict[str, Any] | None = Field(
        default=None, description="Survey mapping (YAML path or inline) for a CSV/Parquet file."
    )
    split: SplitSpec = SplitSpec()
    options: dict[str, Any] = Field(default_factory=dict, description="Extra loader options.")


class SubsetSpec(BaseModel):
    """Which test trials one simulator answers (default: all): a slice for a slow model.

    Applied to the test trials before conditions, so every condition of the simulator gets
    the same trials (or, with ``max_steps_by_condition``, a prefix of them) and paired
    differences stay paired.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    people: int | None = Field(
        default=None, ge=1, description="This many test people (a seeded draw, by split seed)."
    )
    max_steps: int | None = Field(
        default=None, ge=1, description="The first this many trials of each episode."
    )
    max_steps_by_condition: dict[str, int] = Field(
        default_factory=dict, description="A smaller max_steps for some conditions."
    )


class ThroughputSpec(BaseModel):
    """How fast a model endpoint answers, for ``behaviorlab plan`` when it cannot be measured
    here (a remote endpoint, a GPU server): one call takes ``latency_s`` + its prompt tokens /
    ``prompt_tokens_per_s`` + its output tokens / ``tokens_per_s``, and ``concurrency`` calls
    run at once (the endpoint serves them in parallel)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    latency_s: float = Field(
        default=0.0, ge=0, description="Seconds per call besides token processing."
    )
    tokens_per_s: float | None = Field(
        default=None, gt=0, description="Output tokens per second of one call (decode speed)."
    )
    prompt_tokens_per_s: float | None = Field(
        default=None, gt=0, description="Prompt tokens per second (None: part of latency_s)."
    )
    output_tokens: float | None = Field(
        default=None,
        ge=0,
        description="Expected output tokens per call (default: measured, else max_tokens).",
    )

    def describe(self) -> str:
        parts = [f"{self.latency_s:g} s per call"]
        if self.tokens_per_s is not None:
            parts.append(f"{self.tokens_per_s:g} output tokens/s")
        if self.prompt_tokens_per_s is not None:
            parts.append(f"{self.prompt_tokens_per_s:g} prompt tokens/s")
        return ", ".join(parts)


class SimulatorSpec(BaseModel):
    """A simulator by registered name, with its options (any other keys are passed on).

    ``pricing`` (token prices of its model) and ``throughput`` (speed of its endpoint) are
    read by the runner and ``behaviorlab plan``, not passed to the simulator."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str
    label: str | None = None
    conditions: list[str] | None = Field(
        default=None, description="Conditions for this simulator (default: the experiment's)."
    )
    subset: SubsetSpec | None = Field(
        default=None, description="Answer only a slice of the test trials (see SubsetSpec)."
    )
    pricing: Pricing | None = Field(
        default=None, description="Token prices of this simulator's model (over the backend's)."
    )
    throughput: ThroughputSpec | None = Field(
        default=None, description="Configured endpoint speed for budget planning."
    )

    def options(self) -> dict[str, Any]:
        opts = dict(self.model_extra or {})
        if self.label is not None:
            opts["label"] = self.label
        return opts


class PartiesSpec(BaseModel):
    """One assignment of simulators to the roles of a multi-party task (``parties:``).

    ``label`` names the assignment in the results (their ``simulator`` column); ``roles``
    maps every role the task names to a simulator spec. Several entries expand into the plan
    as simulators do, each with the experiment's conditions (or its own) and seeds. The same
    model may play several roles (an LLM against itself): each role gets its own simulator.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str = Field(description="Name of this assignment in the results.")
    roles: dict[str, SimulatorSpec] = Field(
        min_length=1, description="role → simulator playing it (every role of the task)."
    )
    conditions: list[str] | None = Field(
        default=None, description="Conditions for this assignment (default: the experiment's)."
    )
    subset: SubsetSpec | None = Field(
        default=None, description="Play only a slice of the test trials (see SubsetSpec)."
    )


ExecutorKind = Literal["local", "ray"]


class ExecutorSpec(BaseModel):
    """Where trials are answered: ``local`` (this process, ``concurrency`` trials in flight)
    or ``ray`` (one actor per worker, each with its own simulator replicas, on the cluster at
    ``address`` or a local one). Either way this process is the one writer of the store."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ExecutorKind = "local"
    address: str | None = Field(
        default=None, description="Ray cluster address (e.g. 'ray://head:10001', 'auto')."
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CONCURRENCY,
        description="Ray actors (default: the spec's concurrency; never more than chains).",
    )
    cpus_per_worker: float = Field(default=1.0, gt=0, description="CPUs Ray reserves per actor.")
    gpus_per_worker: float = Field(default=0.0, ge=0, description="GPUs Ray reserves per actor.")


class TimeSeriesReportSpec(BaseModel):
    """The run's trial rows read as time series, for the report's early-warning,
    difference-in-differences and within-person sections (docs/time-series.md).

    A column is a trial-row column (``correct``, ``step_index``, ``person_id``, ...) or a key
    of a row's ``scores`` or ``meta`` (``scores.f1``, ``meta.nudge``). The series of each arm
    (simulator x condition) is ``value`` averaged per ``time`` (over units, or per unit with
    ``per_unit``); ``treatment`` (0/1 per unit and time) adds within-person effects per unit;
    ``group`` (the first treated time of each unit, empty for never-treated) adds a staggered
    difference-in-differences over units."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str = Field(default="correct", description="The measured column (fidelity).")
    time: str = Field(default="step_index", description="The time column (evenly spaced).")
    unit: str = Field(default="person_id", description="The unit column (a person, a twin).")
    per_unit: bool = Field(
        default=False, description="Early warnings per unit instead of the arm's mean series."
    )
    treatment: str | None = Field(default=None, description="A 0/1 treatment column.")
    group: str | None = Field(
        default=None, description="Each unit's first treated time (a DiD's cohort) column."
    )
    window: float = Field(default=0.25, gt=0, description="Early-warning rolling window.")
    n_surrogates: int = Field(default=200, ge=19, le=10_000, description="Surrogate series.")
    n_boot: int = Field(default=200, ge=50, le=10_000, description="Bootstrap replicates.")


class ReportSpec(BaseModel):
    """Report settings (left out of the spec hash: they change no trial)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    time_series: TimeSeriesReportSpec | None = Field(
        default=None, description="Read the run's rows as time series (see the class)."
    )


class ExperimentSpec(BaseModel):
    """An experiment: one task on one dataset, several simulators, conditions and seeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(description="Run name: letters, digits, '-', '_', '.'.")
    description: str = Field(default="", description="One line on what this experiment asks.")
    task: str = Field(
        default="",
        description="A registered task (`behaviorlab tasks` lists them); left out, the default "
        "family's task (the survey task, as always).",
    )
    task_options: dict[str, Any] = Field(default_factory=dict)
    plugins: list[str] = Field(
        default_factory=list,
        description="Modules to import before planning (a family, simulator or metric of "
        "your own not installed as an entry point); also imported on every Ray worker.",
    )
    data: DataSpec
    simulators: list[SimulatorSpec] = Field(
        default_factory=list, description="Who answers a one-party trial (or plays it alone)."
    )
    parties: list[PartiesSpec] = Field(
        default_factory=list,
        description="For a multi-party task: simulators assigned to its roles, per entry.",
    )
    sweep: SweepSpec | None = Field(
        default=None,
        description="A factorial sweep of one simulator entry (temperature, model, prompt, "
        "seed); each cell is added to simulators: (docs/sensitivity.md).",
    )
    conditions: list[str] = Field(default_factory=lambda: ["full"], min_length=1)
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1)
    concurrency: int = Field(
        default=1, ge=1, le=MAX_CONCURRENCY, description="Trials in flight at once."
    )
    cache: bool | str = Field(
        default=True, description="LLM-call cache: true (default path), false, or a file path."
    )
    n_resamples: int = Field(
        default=2000, ge=100, le=MAX_RESAMPLES, description="Bootstrap resamples in reports."
    )
    executor: ExecutorSpec = Field(
        default_factory=ExecutorSpec, description="local (default) or ray; see ExecutorSpec."
    )
    report: ReportSpec = Field(
        default_factory=ReportSpec, description="Report settings (not in the spec hash)."
    )

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", v):
            raise ValueError("use letters, digits, '-', '_' and '.' only (it names a folder)")
        return v

    @model_validator(mode="after")
    def _expand_sweep(self) -> ExperimentSpec:
        """Each cell of ``sweep:`` becomes a simulator entry; an entry already there with a
        cell's label must be that cell (a spec saved after expansion reads back as it was)."""
        if self.sweep is None:
            return self
        if not self.plugins:  # a spec's own plugins register theirs only when it is planned
            try:
                self.sweep.check_registered()
            except LocatedError as exc:
                raise LocatedError(str(exc), ("sweep", *exc.loc)) from None
        given = {s.label: (i, s) for i, s in enumerate(self.simulators) if s.label is not None}
        added: list[SimulatorSpec] = []
        for _, entry in self.sweep.cells():
            try:
                cell = SimulatorSpec.model_validate(entry)
            except ValidationError as exc:
                err = exc.errors()[0]
                raise LocatedError(_message(err), ("sweep", "simulator", *err["loc"])) from None
            if cell.label in given:
                i, plain = given[cell.label]
                if plain != cell:
                    raise LocatedError(
                        f"simulators: has an entry labelled {cell.label!r}, the label of a "
                        "sweep cell; rename it",
                        ("simulators", i, "label"),
                    )
                continue
            added.append(cell)
        object.__setattr__(self, "simulators", [*self.simulators, *added])
        return self

    @model_validator(mode="after")
    def _default_task(self) -> ExperimentSpec:
        if not self.task:
            from behaviorlab.plugins import default_task

            found = default_task()
            if found is None:
                raise ValueError("no task given, and no task family is the default: add task:")
            object.__setattr__(self, "task", found)
        if not self.simulators and not self.parties:
            raise ValueError(
                "no simulators: list at least one under simulators: (or, for a task played "
                "by several parties, under parties:)"
            )
        return self

    def spec_hash(self) -> str:
        """Hash of everything that decides which trials run and how they are answered
        (not concurrency, executor, cache location, prices, speeds or report settings)."""
        payload = self.model_dump(
            mode="json",
            exclude={"concurrency", "cache", "n_resamples", "description", "executor", "report"},
        )
        # fields added later are left out at their defaults, so older runs keep their ids
        if payload["data"]["split"].get("by") == "person":
            del payload["data"]["split"]["by"]
        if not payload.get("plugins"):
            payload.pop("plugins", None)
        if not payload.get("parties"):
            payload.pop("parties", None)
        if payload.get("sweep") is None:
            payload.pop("sweep", None)
        role_specs = [r for p in payload.get("parties", []) for r in p["roles"].values()]
        for sim in [*payload["simulators"], *role_specs]:
            if sim.get("subset") is None:
                sim.pop("subset", None)
            sim.pop("pricing", None)
            sim.pop("throughput", None)
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def run_id(self) -> str:
        return f"{self.name}-{self.spec_hash()[:8]}"


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (or its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            nxt = node.value[part] if part < len(node.value) else None
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def _loc(err: Any) -> tuple[int | str, ...]:
    """Where an error sits: pydantic's location, and below it the one a validator gave."""
    found = (err.get("ctx") or {}).get("error")
    return (*err["loc"], *(found.loc if isinstance(found, LocatedError) else ()))


def _message(err: Any) -> str:
    """A validation error in words; an unknown key under ``data:`` says where loader options
    go (``data: {options: {on_invalid: skip}}``)."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden" and len(loc) == 2 and loc[0] == "data":
        return (
            f"not a field of data: (source, target, persona, people, mapping, split, options); "
            f"a loader option goes under data.options, e.g. data: {{options: {{{loc[1]}: ...}}}}"
        )
    return str(err["msg"]).removeprefix("Value error, ")


def parse_spec(text: str, *, origin: str = "<spec>") -> ExperimentSpec:
    """Parse and validate a YAML spec; errors name ``origin``, the line and the field."""
    try:
        data = load_strict(text)  # a key given twice is an error naming both lines
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        raise SpecError(f"{where}: malformed YAML: {exc.problem}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: an experiment spec is a YAML mapping (name:, data:, ...)")
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = _loc(err)
            line = _line_of(root, loc)
            field = ".".join(str(p) for p in loc) or "(top level)"
            lines.append(f"{origin}:{line or '?'}: {field}: {_message(err)}")
        raise SpecError("invalid experiment spec\n" + "\n".join(lines)) from None


def load_spec(source: str | Path | ExperimentSpec | dict[str, Any]) -> ExperimentSpec:
    """An ExperimentSpec from a YAML path, a dict, or a spec (returned as is)."""
    if isinstance(source, ExperimentSpec):
        return source
    if isinstance(source, dict):
        try:
            return ExperimentSpec.model_validate(source)
        except ValidationError as exc:  # from Python: each field and what is wrong
            lines = [
                f"{'.'.join(str(p) for p in _loc(err)) or '(top level)'}: {_message(err)}"
                for err in exc.errors()
            ]
            raise SpecError("invalid experiment spec\n" + "\n".join(lines)) from None
    path = Path(source)
    if not path.exists():
        raise SpecError(f"experiment spec {str(path)!r} not found")
    if path.is_dir():
        raise SpecError(f"experiment spec {str(path)!r} is a folder; give the YAML file in it")
    return parse_spec(_spec_text(path), origin=str(path))


def _spec_text(path: Path) -> str:
    """The text of a spec file; a binary or non-UTF-8 file is a SpecError naming it."""
    data = path.read_bytes()
    nul = data.find(b"\0")
    if nul >= 0:
        raise SpecError(
            f"{path}: not a text YAML file (a NUL byte at offset {nul}); give the "
            "experiment's YAML spec"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"{path}:{line}: not UTF-8 text (byte {data[exc.start : exc.start + 1]!r} at "
            f"offset {exc.start}); save the spec as UTF-8"
        ) from None
