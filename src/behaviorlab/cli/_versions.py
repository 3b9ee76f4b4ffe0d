"""``behaviorlab series versions`` and ``series confounders`` (docs/versions.md), registered on
the ``series`` group by ``cli/_timeseries.py``.

- ``versions RUN RUN ... [--label L ...] [--simulator S ...]``: one simulator's runs as versions
  on the same people and items: each metric per version, paired differences, min-ACC / WC-ACC
  with ``--learned-at``, regressed people and items, windowed forgetting per group
  (``--simulator 'llm:*'`` picks the LLM arm beside a baseline; one ``--simulator`` per run
  picks checkpoints held in one run given several times);
- ``confounders RUN --confounder COL ...``: simulators ranked raw and adjusted for confounders.

A RUN is a run name (under ``--out``), a run folder, a ``.sqlite`` file, or a results table
(``.csv`` / ``.tsv`` / ``.parquet``, as ``behaviorlab results --format`` writes it). Both
print tables and write ``--json`` and ``--report`` like the other ``series`` commands; bad
input exits with code 2 and a message saying what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from behaviorlab.cli._series_io import _SUFFIXES, _fail, _need, _num, _p, console, read_table

if TYPE_CHECKING:
    import pandas as pd

    from behaviorlab.analysis import AdjustedRanking, VersionSeries

_USER_ERRORS = (ValueError, FileNotFoundError, LookupError)

OutOpt = Annotated[Path, typer.Option("--out", help="Folder holding one sub-folder per run.")]
JsonOpt = Annotated[
    Path | None, typer.Option("--json", help="Also write the numbers to this JSON file.")
]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Also write a report section: OUT.html (with plots) or OUT.md."),
]
TaskOpt = Annotated[str | None, typer.Option(help="Only this task's trials.")]
ConditionOpt = Annotated[str | None, typer.Option(help="Only this condition's trials.")]


def _load(run: str, out: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """A run's results, its persons table (None for a results table) and its label."""
    path = Path(run)
    if path.suffix.lower() in _SUFFIXES:
        frame = read_table(path)
        ids = sorted(set(frame["run_id"].dropna().astype(str))) if "run_id" in frame else []
        return frame, None, ids[0] if len(ids) == 1 else path.stem
    from behaviorlab.runs import open_run

    try:
        r = open_run(run, out=out)
        return r.to_pandas(), r.persons(), r.run_id
    except _USER_ERRORS as err:
        _fail(err)


def _labels_table(path: Path) -> pd.DataFrame:
    """A table of labels read as text (a version "1" stays "1", not 1.0), blanks missing."""
    if path.suffix.lower() not in (".csv", ".tsv") or not path.is_file():
        return read_table(path)  # parquet keeps its types; read_table names a bad path
    import pandas as pd

    try:
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",", dtype=str)
    except Exception as err:  # any reader error becomes a message naming the file
        _fail(f"{path}: could not be read ({type(err).__name__}: {err})")


def _groups(
    groups_file: Path | None, group_by: str | None, persons: pd.DataFrame | None
) -> dict[str, Any] | None:
    if group_by is None:
        if groups_file is not None:
            _fail("--groups FILE needs --group-by COL: the file's column holding the group")
        return None
    table, source = (read_table(groups_file), str(groups_file)) if groups_file else (persons, "")
    if table is None:
        _fail(
            "--group-by reads the first run's persons table, and a results table has none: "
            "give --groups FILE with person_id and the group column"
        )
    where = source or "the first run's persons table"
    _need(table, where, {"person_id (the key)": "person_id", "--group-by": group_by})
    return dict(zip(table["person_id"].astype(str), table[group_by], strict=True))


def versions_cmd(
    runs: Annotated[list[str], typer.Argument(help="The versions' runs, in version order.")],
    label: Annotated[
        list[str] | None, typer.Option("--label", help="A version's label (one per run).")
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="Metrics per version; the first a per-trial one."),
    ] = None,
    task: TaskOpt = None,
    simulator: Annotated[
        list[str] | None,
        typer.Option(
            "--simulator",
            help="The simulator (a name or a glob such as 'llm:*'), if a run has several: once "
            "for every run, or once per run in order (the same run may repeat).",
        ),
    ] = None,
    condition: ConditionOpt = None,
    learned_at: Annotated[
        Path | None,
        typer.Option(help="A table: each unit and the version label that learned it."),
    ] = None,
    learned_by: Annotated[str, typer.Option(help="person_id or item_id: what a unit is.")] = (
        "person_id"
    ),
    version_column: Annotated[
        str, typer.Option(help="The --learned-at column holding the version label.")
    ] = "version",
    groups: Annotated[
        Path | None, typer.Option(help="A table with person_id and the --group-by column.")
    ] = None,
    group_by: Annotated[
        str | None, typer.Option(help="Person groups for forgetting (a persona attribute).")
    ] = None,
    window: Annotated[
        int, typer.Option(help="Consecutive versions a forgetting window spans.")
    ] = 2,
    correction: Annotated[str, typer.Option(help="holm or fdr_bh.")] = "holm",
    family: Annotated[
        str,
        typer.Option(help="What a correction covers: series (every step together) or step."),
    ] = "series",
    alpha: Annotated[float, typer.Option(help="Level of the regression tests.")] = 0.05,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.", min=100)] = 2000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    out: OutOpt = Path("runs"),
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """One simulator's runs as versions on the same people and items: each metric per version
    with person-clustered intervals, paired differences, min-ACC / WC-ACC (with --learned-at),
    the people and items that regressed, windowed forgetting per person group."""
    from behaviorlab.analysis import versions

    if label and len(label) != len(runs):
        _fail(f"{len(label)} --label for {len(runs)} runs: give one label per run, in order")
    if learned_by not in ("person_id", "item_id"):
        _fail(f"--learned-by is person_id or item_id, not {learned_by!r}")
    if correction not in ("holm", "fdr_bh"):
        _fail(f"--correction is holm or fdr_bh, not {correction!r}")
    if family not in ("series", "step"):
        _fail(f"--family is series or step, not {family!r}")
    if simulator and len(simulator) not in (1, len(runs)):
        _fail(
            f"{len(simulator)} --simulator for {len(runs)} runs: give one for every run, or one "
            "per run in order"
        )
    cache: dict[str, tuple[pd.DataFrame, pd.DataFrame | None, str]] = {}
    loaded = [cache[r] if r in cache else cache.setdefault(r, _load(r, out)) for r in runs]
    names = [x[2] for x in loaded]
    # a run given several times (checkpoints as simulators): versions names them by simulator
    labels = list(label) if label else (names if len(set(names)) == len(names) else None)
    learned = None
    if learned_at is not None:
        table = _labels_table(learned_at)
        _need(table, learned_at, {"--learned-by": learned_by, "--version-column": version_column})
        learned = table[[learned_by, version_column]]
    try:
        result = versions(
            [x[0] for x in loaded],
            labels,
            metrics=metric or ["accuracy"],
            task=task,
            simulator=simulator,
            condition=condition,
            learned_at=learned,
            learned_by=learned_by,  # type: ignore[arg-type]
            groups=_groups(groups, group_by, loaded[0][1]),
            window=window,
            correction=correction,  # type: ignore[arg-type]
            family=family,  # type: ignore[arg-type]
            alpha=alpha,
            n_resamples=resamples,
            seed=seed,
        )
    except _USER_ERRORS as err:
        where = f"{learned_at} (rows counted under the header), " if learned_at else ""
        _fail(f"{where}{err}" if str(err).startswith("learned_at") else err)
    _print_versions(result)
    from behaviorlab.cli._series_io import _outputs
    from behaviorlab.report._versions import versions_section

    _outputs(
        {"runs": runs, **result.to_dict()},
        [versions_section(result)],
        json_out=json_out,
        report=report,
        title="Across versions: " + ", ".join(result.labels),
        subtitle=f"{result.n_people} people, {result.n_items} items, {result.n_trials} trials",
    )


def _ci(value: Any, low: Any, high: Any) -> str:
    return f"{_num(value)} [{_num(low)}, {_num(high)}]"


def _print_versions(result: VersionSeries) -> None:
    pv = result.per_version
    metrics = list(dict.fromkeys(pv["metric"]))
    level = round(result.level * 100)
    table = Table(title=f"Per version ({level}% intervals, paired)", title_justify="left")
    table.add_column("version")
    for m in metrics:
        table.add_column(m, justify="right")
    for v in result.labels:
        cells = [
            _ci(r["value"], r["low"], r["high"])
            for m in metrics
            for r in pv.loc[(pv["metric"] == m) & (pv["version"] == v)].to_dict("records")
        ]
        table.add_row(Text(v), *cells)
    console.print(table)
    diffs = Table(title="Differences", title_justify="left")
    for name in ("metric", "from", "to", "difference"):
        diffs.add_column(name, justify="right" if name == "difference" else "left")
    for r in result.differences.to_dict("records"):
        diffs.add_row(
            *(Text(str(r[k])) for k in ("metric", "before", "after")),
            _ci(r["value"], r["low"], r["high"]),
        )
    console.print(diffs)
    if result.continual is not None:
        cont = Table(title="Continual evaluation", title_justify="left")
        names = ("version", "groups learned", "min-ACC", "corrected", "WC-ACC", "corrected ")
        for name in (*names, "earlier groups"):
            cont.add_column(name, justify="left" if name == "version" else "right")
        for r in result.continual.to_dict("records"):
            cont.add_row(
                Text(str(r["version"])),
                str(r["k"]),
                _num(r["min_acc"]),
                _ci(r["min_acc_corrected"], r["min_acc_low"], r["min_acc_high"]),
                _num(r["wc_acc"]),
                _ci(r["wc_acc_corrected"], r["wc_acc_low"], r["wc_acc_high"]),
                _ci(r["final_acc"], r["final_acc_low"], r["final_acc_high"]),
            )
        console.print(cont)
    reg = result.regressions
    over = "every step together" if result.family == "series" else "each step apart"
    console.print(Text(f"regressions: {result.correction} over {over}, level {result.alpha:g}"))
    for (a, b), part in reg.groupby(["before_version", "after_version"], sort=False):
        hit = part.loc[part["regressed"]]
        shown = ", ".join(
            f"{r['kind']} {r['unit']} (p {_p(r['p_adjusted'])})"
            for r in hit.head(8).to_dict("records")
        )
        console.print(
            Text(f"regressed {a} -> {b}: {len(hit)}" + (f": {shown}" if shown else "")),
            soft_wrap=True,
        )
    fg = Table(title=f"Windowed forgetting (window {result.window})", title_justify="left")
    for name in ("group", "people", "forgetting", "corrected", "largest drop"):
        fg.add_column(name, justify="left" if name in ("group", "largest drop") else "right")
    for r in result.forgetting.to_dict("records"):
        fg.add_row(
            Text(str(r["group"])),
            str(r["people"]),
            _num(r["value"]),
            _ci(r["corrected"], r["low"], r["high"]),
            Text(f"{r['from_version']} -> {r['to_version']}"),
        )
    console.print(fg)
    for note in result.notes:
        console.print(Text(f"note: {note}"), soft_wrap=True)


def confounders_cmd(
    run: Annotated[str, typer.Argument(help="A run (name, folder, .sqlite) or results table.")],
    confounder: Annotated[
        list[str], typer.Option("--confounder", help="A column of the results, persons or items.")
    ],
    metric: Annotated[str, typer.Option(help="A per-trial metric.")] = "accuracy",
    items: Annotated[
        Path | None, typer.Option(help="A table of item attributes (an item_id column).")
    ] = None,
    persons: Annotated[
        Path | None,
        typer.Option(help="A table of person attributes (default: the run's persons)."),
    ] = None,
    task: TaskOpt = None,
    condition: ConditionOpt = None,
    level: Annotated[float, typer.Option(help="Interval coverage.")] = 0.95,
    out: OutOpt = Path("runs"),
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """Rank simulators on a per-trial metric raw and adjusted for known confounders
    (regression adjustment, person-clustered standard errors), side by side."""
    from behaviorlab.analysis import adjusted_ranking

    frame, run_persons, run_label = _load(run, out)
    try:
        result = adjusted_ranking(
            frame,
            confounder,
            metric=metric,
            task=task,
            condition=condition,
            persons=read_table(persons) if persons else run_persons,
            items=read_table(items) if items else None,
            level=level,
        )
    except _USER_ERRORS as err:
        _fail(f"{run}: {err}")
    _print_ranking(result)
    from behaviorlab.cli._series_io import _outputs
    from behaviorlab.report._versions import confounders_section

    _outputs(
        {"run": run, **result.to_dict()},
        [confounders_section(result)],
        json_out=json_out,
        report=report,
        title=f"Rankings adjusted for confounders: {run_label}",
        subtitle=f"{result.metric} adjusted for {', '.join(result.confounders)}",
    )


def _print_ranking(result: AdjustedRanking) -> None:
    level = round(result.level * 100)
    table = Table(
        title=f"{result.metric}: raw and adjusted for {', '.join(result.confounders)} "
        f"({level}% intervals)",
        title_justify="left",
    )
    for name in ("arm", "trials", "raw", "rank", "adjusted", "rank "):
        table.add_column(name, justify="left" if name == "arm" else "right")
    for r in result.table.to_dict("records"):
        table.add_row(
            Text(str(r["arm"])),
            str(r["trials"]),
            _ci(r["raw"], r["raw_low"], r["raw_high"]),
            str(r["raw_rank"]),
            _ci(r["adjusted"], r["adjusted_low"], r["adjusted_high"]),
            str(r["adjusted_rank"]),
        )
    console.print(table)
    verdict = "changes" if result.ranking_changed else "does not change"
    console.print(Text(f"adjustment {verdict} the ranking"), soft_wrap=True)
    for note in result.notes:
        console.print(Text(f"note: {note}"), soft_wrap=True)
