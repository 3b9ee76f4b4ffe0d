"""A task family: one folder that tells the core what it brings.

The core (records, the Trial / Answer / Simulator / Task contracts, models, runs, store, the
statistics, the report frame, the CLI) never names a family. Each family registers one
:class:`Family` when its package is imported (by its entry point, see
:mod:`behaviorlab._registry`), and the core loops over the families present in a run: the
report asks each for its blocks and sections, ``behaviorlab plan`` for its notes, ``behaviorlab
demo`` for its demos. Its tasks, simulators, metrics, conditions and datasets register
themselves in their own registries as any plugin's do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from behaviorlab._registry import Registry

if TYPE_CHECKING:
    from behaviorlab.report._collect import RunData
    from behaviorlab.report._document import Block, Section
    from behaviorlab.runs._estimate import Estimate
    from behaviorlab.runs._spec import ExperimentSpec
    from behaviorlab.runs._stored import Run


@dataclass(frozen=True)
class DemoRequest:
    """What ``behaviorlab demo NAME`` was asked: where runs go, which backend the LLM
    simulators use (``llamacpp``: the spec's own model), how many people (None: the demo's
    default)."""

    out: Path
    backend: str = "llamacpp"
    people: int | None = None


@dataclass(frozen=True)
class DemoPlan:
    """A demo made ready: the spec to run and what to print around it (Rich markup)."""

    spec: dict[str, Any]
    intro: Sequence[str] = ()
    outro: Sequence[str] = ()
    estimate: bool = False
    """After the run, print the plan estimate of the spec from the run's own timings."""
    finish: Callable[[Run], Sequence[str]] | None = None
    """The family's own result lines (Rich markup) computed from the finished run, printed
    after the gap table and before ``outro`` (a table the gap report has no place for)."""


@dataclass(frozen=True)
class Demo:
    """``behaviorlab demo NAME``: an offline first result of a family."""

    name: str
    summary: str
    build: Callable[[DemoRequest], DemoPlan]
    default: bool = False
    """The demo ``behaviorlab demo`` runs without a name (one across all families)."""


@dataclass(frozen=True)
class RatingQuestion:
    """One question of a rating form: ``name`` (the key of the answer), ``prompt`` (shown),
    ``options`` (the labels to choose from) and ``multiple`` (several may be chosen, none
    included; otherwise exactly one)."""

    name: str
    prompt: str
    options: tuple[str, ...]
    multiple: bool = False


@dataclass(frozen=True)
class RatingForm:
    """What a person rating one stored trial sees (``behaviorlab view`` at ``/rate``): a
    ``title``, the ``text`` to read (a transcript: never the hidden truth) and the
    ``questions`` to answer."""

    title: str
    text: str
    questions: tuple[RatingQuestion, ...]


@dataclass(frozen=True)
class Family:
    """What a task family brings, beyond what it registers itself.

    ``tasks``: the task names it registers (the report and the plan find a run's family by
    its task). ``builds_on``: families whose modules it imports (choice builds on survey);
    no family imports another that it does not declare. The hooks are optional:

    - ``report_blocks(data)``: blocks appended to the report's metrics section;
    - ``report_sections(data)``: whole sections after the metrics section;
    - ``plan_notes(spec, estimate)``: lines ``behaviorlab plan`` prints after the estimate;
    - ``full_scope(spec)``: the spec on its whole test split when ``spec`` runs a slice of it
      (``behaviorlab plan`` then estimates both); None when it already covers it;
    - ``demos``: its ``behaviorlab demo`` entries;
    - ``splits``: the ``split: {by: ...}`` values its data support (shown in listings);
    - ``metric_labels``: display names of metrics in its reports, by metric name (OPeRA calls
      ``accuracy`` "exact match"); the metric keeps its name in results and specs;
    - ``rating_form(row)``: the :class:`RatingForm` to rate one stored result row (as
      ``Run.to_pandas()`` gives it) in the viewer, None for a row it does not rate; the
      ratings are kept in the run's ``ratings.sqlite``, which the family's metrics may read.
    """

    name: str
    summary: str
    tasks: tuple[str, ...]
    builds_on: tuple[str, ...] = ()
    report_blocks: Callable[[RunData], Sequence[Block]] | None = None
    report_sections: Callable[[RunData], Sequence[Section]] | None = None
    plan_notes: Callable[[ExperimentSpec, Estimate], Sequence[str]] | None = None
    full_scope: Callable[[ExperimentSpec], ExperimentSpec | None] | None = None
    demos: tuple[Demo, ...] = ()
    splits: tuple[str, ...] = ("person",)
    metric_labels: Mapping[str, str] = field(default_factory=dict, compare=False)
    rating_form: Callable[[dict[str, Any]], RatingForm | None] | None = field(
        default=None, compare=False
    )
    default: bool = False
    """A spec without ``task:`` runs this family's first task (one family says so: survey,
    the task such specs always ran)."""
    docs: str = field(default="", compare=False)
    """Where its documentation lives (a docs/ page), for listings."""


families: Registry[Family] = Registry("family")


def family(value: Family, *, replace: bool = False) -> Family:
    """Register a family (its package calls this once, on import)."""
    return families.register(value.name, replace=replace, description=value.summary)(value)


def families_for(task_names: Iterable[str]) -> list[Family]:
    """The registered families that own any of these tasks, in name order."""
    wanted = {str(t) for t in task_names}
    return [e.factory for e in families.entries() if wanted & set(e.factory.tasks)]


def family_of(task_name: str) -> Family | None:
    """The family owning the task ``task_name`` (None: a task no family declares)."""
    found = families_for([task_name])
    return found[0] if found else None


def default_task() -> str | None:
    """The task a spec without ``task:`` runs (None: no family is the default)."""
    found = [e.factory for e in families.entries() if e.factory.default]
    return found[0].tasks[0] if found and found[0].tasks else None


def demos() -> list[Demo]:
    """Every family's demos: the default one first, then by name."""
    out = [d for e in families.entries() for d in e.factory.demos]
    return sorted(out, key=lambda d: (not d.default, d.name))


def find_demo(name: str | None) -> Demo:
    """The demo called ``name`` (None: the default one)."""
    every = demos()
    for d in every:
        if (name is None and d.default) or d.name == name:
            return d
    names = ", ".join(d.name for d in every) or "-"
    raise ValueError(f"unknown demo {name!r}; use one of: {names}")


def read_packaged_spec(package: str, resource: str = "demo.yaml") -> dict[str, Any]:
    """A spec shipped inside a package (a family's ``demo.yaml``), as a dict."""
    from importlib import resources

    import yaml

    spec: dict[str, Any] = yaml.safe_load(resources.files(package).joinpath(resource).read_text())
    return spec


def with_backend(spec: dict[str, Any], backend: str) -> dict[str, Any]:
    """The spec with every ``llm`` simulator on ``backend`` and the backend in the run name;
    unchanged for ``llamacpp`` (the spec's own bundled model).

    ``simulators`` entries lose their ``model``; the roles of ``parties`` entries lose their
    ``model`` and ``backend_options`` (load options of the bundled model), and an entry with
    a role moved is labelled by the backend (it no longer plays the bundled model)."""
    if backend == "llamacpp":
        return spec
    for sim in spec.get("simulators", []):
        if sim.get("name") == "llm":
            sim["backend"] = backend
            sim.pop("model", None)
    for entry in spec.get("parties", []):
        roles: dict[str, Any] = {}
        for role, raw in entry["roles"].items():
            sim = dict(raw)
            if sim.get("name") == "llm":
                sim["backend"] = backend
                sim.pop("model", None)
                sim.pop("backend_options", None)
            roles[role] = sim
        if any(sim.get("name") == "llm" for sim in roles.values()):
            entry["label"] = backend
        entry["roles"] = roles
    spec["name"] = f"{spec['name']}-{backend}"
    return spec


def packaged_demo(name: str, summary: str, package: str, resource: str = "demo.yaml") -> Demo:
    """A demo that runs a family's packaged spec as it is (offline data), with ``--backend``
    replacing the LLM simulators' backend."""

    def build(request: DemoRequest) -> DemoPlan:
        spec = with_backend(read_packaged_spec(package, resource), request.backend)
        about = spec.get("description") or spec["name"]
        return DemoPlan(spec, intro=[f"[bold]behaviorlab demo {name}[/]: {about}"])

    return Demo(name, summary, build)
