"""``behaviorlab series ...``: the methods on behavior over time (docs/time-series.md) on a
table (CSV or Parquet) or on a captured study's events.

- ``early-warning FILE --value COL``: rising variance / lag-1 autocorrelation of one series
  (or one per ``--unit``); with ``--freq`` the file is an event table and each unit's events
  are counted per time bin first;
- ``events --study S``: the same on a captured study's events (the ``collect`` store), events
  per participant per time bin;
- ``did FILE --outcome --unit --time --group``: staggered difference-in-differences;
- ``within-person FILE --treatment --outcome``: within-person effects (MoTR);
- ``versions RUN RUN ...`` and ``confounders RUN --confounder COL``: twins across versions and
  confounder-adjusted rankings (``cli/_versions.py``, docs/versions.md).

Each prints a table, and writes the numbers with ``--json OUT`` and a report section with
``--report OUT.html`` or ``OUT.md``. Bad input exits with code 2 and a message naming the file
and column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from behaviorlab.cli._series_io import (
    _fail,
    _need,
    _num,
    _numeric,
    _outputs,
    _p,
    _shown,
    console,
    read_table,
)
from behaviorlab.cli._versions import confounders_cmd, versions_cmd

if TYPE_CHECKING:
    import pandas as pd

    from behaviorlab.analysis import EarlyWarning

series_app = typer.Typer(
    name="series",
    help="Behavior over time: early warnings, staggered DiD, within-person effects; versions, "
    "confounder-adjusted rankings.",
    no_args_is_help=True,
)


JsonOpt = Annotated[
    Path | None, typer.Option("--json", help="Also write the numbers to this JSON file.")
]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Also write a report section: OUT.html (with plots) or OUT.md."),
]
SeedOpt = Annotated[int, typer.Option(help="Random seed (surrogates, bootstrap).")]
AlphaOpt = Annotated[float, typer.Option(help="Test level / 1 - interval coverage.")]

series_app.command("versions")(versions_cmd)
series_app.command("confounders")(confounders_cmd)

# --- early warnings ----------------------------------------------------------------------


def _warnings(
    series: Mapping[str, Any],
    source: str,
    *,
    window: float,
    detrend: str,
    bandwidth: float,
    indicators: Sequence[str],
    transform: str,
    surrogate: str,
    surrogates: int,
    alpha: float,
    seed: int,
) -> dict[str, EarlyWarning]:
    from behaviorlab.analysis import early_warning

    if transform not in ("none", "anscombe", "log1p"):
        _fail(f"--transform is none, anscombe or log1p, not {transform!r}")
    out: dict[str, EarlyWarning] = {}
    for label, values in series.items():
        try:
            out[label] = early_warning(
                values,
                window=window,
                detrend=detrend,  # type: ignore[arg-type]
                bandwidth=bandwidth,
                indicators=tuple(indicators),
                transform=None if transform == "none" else transform,  # type: ignore[arg-type]
                surrogate=surrogate,  # type: ignore[arg-type]
                n_surrogates=surrogates,
                alpha=alpha,
                seed=seed,
            )
        except ValueError as err:
            where = f"{source}, series {label!r}" if len(series) > 1 else source
            _fail(f"{where}: {err}")
    return out


def _print_warnings(results: Mapping[str, EarlyWarning], unit: str) -> None:
    first = next(iter(results.values()))
    names = list(first.indicators.columns)
    table = Table(title="Early warnings", title_justify="left")
    table.add_column(unit)
    table.add_column("warns")
    table.add_column("p (joint)", justify="right")
    for n in names:
        table.add_column(f"tau {n}", justify="right")
        table.add_column(f"p {n}", justify="right")
    table.add_column("points", justify="right")
    for label, r in results.items():
        cells = [label, "yes" if r.warns else "no", _p(r.p_value)]
        for n in names:
            cells += [_num(r.tau[n]), _p(r.p_values[n])]
        cells.append(str(len(r.indicators) + r.window - 1))
        table.add_row(*(Text(c) for c in cells))
    console.print(table)
    console.print(
        f"window {first.window} points, {first.detrend} detrending, {first.n_surrogates} "
        f"{first.surrogate} surrogates, level {first.alpha:g}"
        + (f", {first.transform} transform" if first.transform else ""),
        highlight=False,
        soft_wrap=True,
    )


def _ew_payload(results: Mapping[str, EarlyWarning], **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "series": {
            label: r.to_dict() | {"indicators": r.indicators.reset_index().to_dict("list")}
            for label, r in results.items()
        },
    }


WindowOpt = Annotated[
    float,
    typer.Option(help="Rolling window: a fraction of the length (0.25) or a number of points."),
]
DetrendOpt = Annotated[str, typer.Option(help="gaussian, linear or none.")]
BandwidthOpt = Annotated[
    float, typer.Option(help="Gaussian detrending bandwidth: a fraction or a number of points.")
]
IndicatorOpt = Annotated[
    list[str] | None,
    typer.Option("--indicator", help="variance, ac1, skew (repeat; default both)."),
]
SurrogateOpt = Annotated[str, typer.Option(help="ar1 or phase.")]
SurrogatesOpt = Annotated[int, typer.Option(help="Number of surrogate series (at least 19).")]


@series_app.command("early-warning")
def early_warning_cmd(
    file: Annotated[Path, typer.Argument(help="A CSV or Parquet table, or a run folder.")],
    value: Annotated[
        str | None, typer.Option(help="The column holding the series (not with --freq).")
    ] = None,
    time: Annotated[
        str | None,
        typer.Option(help="Orders the rows (default: as given); with --freq, the event time."),
    ] = None,
    unit: Annotated[
        str | None, typer.Option(help="One series per value of this column (a participant).")
    ] = None,
    freq: Annotated[
        str | None,
        typer.Option(help="Count the rows (events) per bin of this size (1D, 1h, 15min) first."),
    ] = None,
    mean: Annotated[
        bool, typer.Option(help="Average --value over the rows of each --time (and --unit).")
    ] = False,
    window: WindowOpt = 0.25,
    detrend: DetrendOpt = "gaussian",
    bandwidth: BandwidthOpt = 0.2,
    indicator: IndicatorOpt = None,
    transform: Annotated[
        str, typer.Option(help="none, anscombe or log1p (counts; default anscombe with --freq).")
    ] = "",
    surrogate: SurrogateOpt = "ar1",
    surrogates: SurrogatesOpt = 500,
    alpha: AlphaOpt = 0.05,
    seed: SeedOpt = 0,
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """Is a series approaching a critical transition? Rising variance and lag-1
    autocorrelation, tested against surrogate series."""
    frame = read_table(file)
    if freq is not None:
        if time is None:
            _fail("--freq counts events per time bin: name their timestamp column with --time")
        if value is not None:
            _fail(
                "--value and --freq exclude each other: --freq counts rows, --value reads a series"
            )
        _need(frame, file, {"--time": time, "--unit": unit})
        from behaviorlab.analysis import binned_counts

        try:
            counts = binned_counts(frame, time=time, freq=freq, by=unit)
        except ValueError as err:
            _fail(f"{file}: {err}")
        series: dict[str, Any] = {str(c): counts[c] for c in counts.columns}
        transform = transform or "anscombe"
    else:
        if value is None:
            _fail("name the series' column with --value (or count events with --freq)")
        _need(frame, file, {"--value": value, "--time": time, "--unit": unit})
        if time is not None:
            frame = frame.sort_values(time, kind="stable")
            keys = [time] if unit is None else [unit, time]
            if mean:  # a run's trials: several people (rows) per step
                import pandas as pd

                _numeric(frame, file, value, "--value")
                numbers = frame.assign(**{value: pd.to_numeric(frame[value], errors="coerce")})
                frame = numbers.groupby(keys, sort=True)[value].mean().reset_index()
            twice = frame.duplicated(keys)
            if twice.any():
                first = frame.index[twice.to_numpy()][0]
                who = f"{unit} {_shown(frame.loc[first, unit])}, " if unit is not None else ""
                _fail(
                    f"{file}: {who}{time} {_shown(frame.loc[first, time])} has two rows; a "
                    "series has one value "
                    "per time (aggregate first, or count events with --freq)"
                )
        if unit is None:
            series = {value: _values(frame, file, value, time)}
        else:
            series = {
                str(k): _values(rows, file, value, time)
                for k, rows in frame.groupby(unit, sort=True)
            }
        transform = transform or "none"
    results = _warnings(
        series,
        str(file),
        window=window,
        detrend=detrend,
        bandwidth=bandwidth,
        indicators=indicator or ("variance", "ac1"),
        transform=transform,
        surrogate=surrogate,
        surrogates=surrogates,
        alpha=alpha,
        seed=seed,
    )
    _print_warnings(results, unit or "series")
    from behaviorlab.report._time_series import early_warning_section

    what = f"Series from {file.name}" + (
        f": rows counted per {freq} bin" + (f" and {unit}" if unit else "") if freq else ""
    )
    _outputs(
        _ew_payload(results, source=str(file), freq=freq, unit=unit),
        [early_warning_section(results, what=what + ".")],
        json_out=json_out,
        report=report,
        title=f"Early warnings: {file.name}",
        subtitle=str(file),
    )


def _values(frame: pd.DataFrame, path: Path, value: str, time: str | None) -> Any:
    import pandas as pd

    col = pd.to_numeric(frame[value], errors="coerce")
    bad = col.isna() & frame[value].notna()
    if bad.any():
        row = frame.index[bad.to_numpy()][0]
        _fail(f"{path}: column {value!r} holds {frame.loc[row, value]!r} (row {row}), not a number")
    return col.set_axis(frame[time]) if time is not None else col.reset_index(drop=True)


@series_app.command("events")
def events_cmd(
    study: Annotated[str, typer.Option("--study", help="The study id.")],
    freq: Annotated[str, typer.Option(help="Bin size: 1D, 1h, 15min (a pandas offset).")] = "1D",
    action: Annotated[
        list[str] | None,
        typer.Option("--action", help="Count only these action types (repeat; default all)."),
    ] = None,
    pooled: Annotated[
        bool, typer.Option(help="One series for the whole study instead of one per participant.")
    ] = False,
    clock: Annotated[
        str, typer.Option(help="client (the browser's event time) or received (the server's).")
    ] = "client",
    window: WindowOpt = 0.25,
    detrend: DetrendOpt = "gaussian",
    bandwidth: BandwidthOpt = 0.2,
    indicator: IndicatorOpt = None,
    transform: Annotated[str, typer.Option(help="none, anscombe or log1p.")] = "anscombe",
    surrogate: SurrogateOpt = "ar1",
    surrogates: SurrogatesOpt = 500,
    alpha: AlphaOpt = 0.05,
    seed: SeedOpt = 0,
    db: Annotated[
        str,
        typer.Option(
            "--db",
            envvar="BEHAVIORLAB_CAPTURE_DB",
            help="The capture store: a SQLite file or a postgresql:// URL.",
        ),
    ] = "capture.sqlite",
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """Early warnings on a captured study: its events per participant per time bin."""
    import pandas as pd

    from behaviorlab.analysis import binned_counts

    if clock not in ("client", "received"):
        _fail(f"--clock is client or received, not {clock!r}")
    if not Path(db).exists() and not db.startswith(("postgresql://", "postgres://")):
        _fail(f"no store at {db!r}; pass --db (the file `collect serve` wrote)")
    from behaviorlab.collect._store import StoreUnavailable, open_store

    try:
        store = open_store(db)
    except (ImportError, StoreUnavailable) as err:
        _fail(err)
    try:
        if store.get_study(study) is None:
            known = ", ".join(s.study_id for s in store.list_studies()) or "none"
            _fail(f"{db}: no study {study!r} (studies: {known})")
        rows = store.events_of(study)
    finally:
        store.close()
    events = pd.DataFrame(
        {
            "participant_id": [r.participant_id for r in rows],
            "ts": [r.client_ts if clock == "client" else r.received_at for r in rows],
            "action_type": [r.action_type for r in rows],
        }
    )
    if action:
        events = events.loc[events["action_type"].isin(action)]
    if events.empty:
        kinds = f" of type {', '.join(action)}" if action else ""
        _fail(f"{db}: study {study!r} has no events{kinds} to count")
    try:
        counts = binned_counts(
            events, time="ts", freq=freq, by=None if pooled else "participant_id"
        )
    except ValueError as err:
        _fail(f"{db}, study {study!r}: {err} (the {clock} clock; try --clock received)")
    series = {str(c): counts[c] for c in counts.columns}
    source = f"{db}, study {study!r} ({len(counts)} bins of {freq})"
    results = _warnings(
        series,
        source,
        window=window,
        detrend=detrend,
        bandwidth=bandwidth,
        indicators=indicator or ("variance", "ac1"),
        transform=transform,
        surrogate=surrogate,
        surrogates=surrogates,
        alpha=alpha,
        seed=seed,
    )
    _print_warnings(results, "study" if pooled else "participant")
    from behaviorlab.report._time_series import early_warning_section

    kinds = f"{', '.join(action)} events" if action else "events"
    what = (
        f"Study {study}: {kinds} per {freq} bin ({clock} clock)"
        + ("" if pooled else ", one series per participant")
        + "."
    )
    _outputs(
        _ew_payload(results, study=study, freq=freq, clock=clock, actions=action or []),
        [early_warning_section(results, what=what)],
        json_out=json_out,
        report=report,
        title=f"Early warnings: study {study}",
        subtitle=source,
    )


# --- staggered difference-in-differences -------------------------------------------------


@series_app.command("did")
def did_cmd(
    file: Annotated[Path, typer.Argument(help="A long panel: one row per unit and period.")],
    outcome: Annotated[str, typer.Option(help="The outcome column.")],
    unit: Annotated[str, typer.Option(help="The unit column (a person, a twin).")],
    time: Annotated[str, typer.Option(help="The period column (numbers).")],
    group: Annotated[
        str, typer.Option(help="The first treated period; 0 or empty for never treated.")
    ],
    control: Annotated[str, typer.Option(help="never-treated or not-yet-treated.")] = (
        "never-treated"
    ),
    cluster: Annotated[
        str | None, typer.Option(help="Cluster the bootstrap by this column (default: unit).")
    ] = None,
    boot: Annotated[int, typer.Option(help="Multiplier-bootstrap draws.")] = 999,
    alpha: AlphaOpt = 0.05,
    seed: SeedOpt = 0,
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """What did a treatment adopted at different times do? ATT(g, t) (Callaway–Sant'Anna),
    by event time and overall."""
    from behaviorlab.analysis import staggered_did

    kinds = {"never-treated": "never_treated", "not-yet-treated": "not_yet_treated"}
    chosen = kinds.get(control.replace("_", "-"))
    if chosen is None:
        _fail(f"--control is never-treated or not-yet-treated, not {control!r}")
    panel = read_table(file)
    columns = {"--outcome": outcome, "--unit": unit, "--time": time, "--group": group}
    _need(panel, file, columns | {"--cluster": cluster})
    for option in ("--outcome", "--time", "--group"):
        _numeric(panel, file, columns[option], option)
    try:
        result = staggered_did(
            panel,
            outcome=outcome,
            unit=unit,
            time=time,
            group=group,
            control=chosen,  # type: ignore[arg-type]
            cluster=cluster,
            n_boot=boot,
            alpha=alpha,
            seed=seed,
        )
    except ValueError as err:
        _fail(f"{file}: {err}")
    level = round((1 - alpha) * 100)
    table = Table(title=f"ATT by event time ({outcome})", title_justify="left")
    for name in ("event time", "ATT", "se", f"{level}% interval", "uniform band"):
        table.add_column(name, justify="right")
    for r in result.event_time.to_dict("records"):
        table.add_row(
            str(int(r["event_time"])),
            _num(r["att"]),
            _num(r["se"]),
            f"[{_num(r['low'])}, {_num(r['high'])}]",
            f"[{_num(r['uniform_low'])}, {_num(r['uniform_high'])}]",
        )
    console.print(table)
    o = result.overall
    console.print(
        f"overall ATT {_num(o['att'])} (se {_num(o['se'])}, {level}% interval "
        f"[{_num(o['low'])}, {_num(o['high'])}]); {result.n_units} units, "
        f"{len(result.cells)} ATT(g, t) cells, {chosen.replace('_', '-')} controls"
        + (
            f"; {len(result.dropped)} units treated in the first period left out"
            if result.dropped
            else ""
        ),
        highlight=False,
        soft_wrap=True,
    )
    from behaviorlab.report._time_series import did_section

    _outputs(
        {"source": str(file), **result.to_dict()},
        [did_section(result, outcome=outcome)],
        json_out=json_out,
        report=report,
        title=f"Staggered difference-in-differences: {file.name}",
        subtitle=f"{outcome} by {unit} and {time}, first treated at {group}",
    )


# --- within-person effects ---------------------------------------------------------------


@series_app.command("within-person")
def within_person_cmd(
    file: Annotated[Path, typer.Argument(help="One row per period (of each person).")],
    treatment: Annotated[str, typer.Option(help="The 0/1 treatment column.")],
    outcome: Annotated[str, typer.Option(help="The outcome column.")],
    time: Annotated[
        str | None, typer.Option(help="Orders the periods (default: as given).")
    ] = None,
    person: Annotated[
        str | None, typer.Option(help="One series per value of this column (default: one).")
    ] = None,
    lags: Annotated[int, typer.Option(help="Lags of treatment and outcome in the model.")] = 1,
    outcome_kind: Annotated[
        str, typer.Option(help="auto, continuous or binary (logistic).")
    ] = "auto",
    interaction: Annotated[
        bool, typer.Option(help="Add the treatment x last-outcome interaction.")
    ] = False,
    boot: Annotated[int, typer.Option(help="Block-bootstrap replicates (at least 50).")] = 500,
    block_length: Annotated[
        int | None, typer.Option(help="Bootstrap block length (default lags + 1).")
    ] = None,
    alpha: AlphaOpt = 0.05,
    seed: SeedOpt = 0,
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """What does a treatment do within one person, with carry-over? The g-formula on a fitted
    model of the person (MoTR), beside the naive difference in means."""
    from behaviorlab.analysis import within_person_effect

    if outcome_kind not in ("auto", "continuous", "binary"):
        _fail(f"--outcome-kind is auto, continuous or binary, not {outcome_kind!r}")
    frame = read_table(file)
    _need(
        frame,
        file,
        {"--treatment": treatment, "--outcome": outcome, "--time": time, "--person": person},
    )
    for column, option in ((treatment, "--treatment"), (outcome, "--outcome")):
        _numeric(frame, file, column, option)
    try:
        result = within_person_effect(
            frame,
            treatment=treatment,
            outcome=outcome,
            time=time,
            person=person,
            lags=lags,
            outcome_kind=outcome_kind,  # type: ignore[arg-type]
            interaction=interaction,
            n_boot=boot,
            block_length=block_length,
            alpha=alpha,
            seed=seed,
        )
    except ValueError as err:
        _fail(f"{file}: {err}")
    level = round((1 - alpha) * 100)
    table = Table(title=f"Within-person effects of {treatment} on {outcome}", title_justify="left")
    many = person is not None
    for name in [*(["person"] if many else []), "estimand", "effect", f"{level}% interval"]:
        table.add_column(name, justify="left" if name in ("person", "estimand") else "right")
    table.add_column("periods", justify="right")
    for r in result.table.to_dict("records"):
        cells = [*([str(r["person"])] if many else []), str(r["estimand"]), _num(r["value"])]
        cells += [f"[{_num(r['low'])}, {_num(r['high'])}]", str(int(r["n_periods"]))]
        table.add_row(*(Text(c) for c in cells))
    console.print(table)
    console.print(
        f"{result.outcome_kind} outcome model, {result.lags} lag(s), {result.n_boot} "
        "block-bootstrap replicates; apte: this period treated vs not; sustained: always vs "
        "never; naive: difference in means",
        highlight=False,
        soft_wrap=True,
    )
    for note in result.notes:
        console.print(Text(f"note: {note}"), soft_wrap=True)
    from behaviorlab.report._time_series import within_person_section

    _outputs(
        {"source": str(file), **result.to_dict()},
        [within_person_section(result, treatment=treatment, outcome=outcome)],
        json_out=json_out,
        report=report,
        title=f"Within-person effects: {file.name}",
        subtitle=f"{treatment} on {outcome}",
    )
