"""``behaviorlab sweep``: a spec's factorial sweep (docs/sensitivity.md).

- ``sweep design SPEC``: the factors, their levels and how many cells × trials the sweep runs
  (planned, no model called);
- ``sweep effects RUN``: each factor's effect on the actions and rationales of a stored run's
  cells beside the seed noise floor, and the share of variance each explains.

A command of its own, not an option of ``gap``: ``gap`` compares each arm with the people one
by one, a sweep reads the arms together as one factorial design, with options (reference
levels, which sweep) that mean nothing to ``gap``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from behaviorlab.cli._series_io import _fail, _num, _outputs, console
from behaviorlab.runs._spec import MAX_RESAMPLES

if TYPE_CHECKING:
    from behaviorlab.analysis import Sensitivity
    from behaviorlab.runs import ExperimentSpec

sweep_app = typer.Typer(
    help="Sensitivity sweeps: temperature, model, prompt wording and seed crossed in a spec's "
    "sweep: block; their effects beside the seed noise floor.",
    no_args_is_help=True,
)

_USER_ERRORS = (ValueError, FileNotFoundError, LookupError)


def _print(line: str = "") -> None:
    console.print(line, highlight=False, markup=False, soft_wrap=True)


async def _trials_per_cell(spec: ExperimentSpec) -> Counter[str]:
    from behaviorlab.runs import plan
    from behaviorlab.runs._types import trials_per_label

    p = plan(spec, None)
    try:
        return trials_per_label(p)
    finally:
        await p.aclose()


def _design_lines(spec: ExperimentSpec, per_cell: Counter[str]) -> list[str]:
    sweep = spec.sweep
    assert sweep is not None
    base = ", ".join(f"{k}: {v}" for k, v in sweep.simulator.items() if k != "name")
    lines = [f"sweep {sweep.label!r} of {sweep.simulator['name']}" + (f" ({base})" if base else "")]
    for factor, levels in sweep.levels().items():
        shown = [
            f"{lv} (condition full)" if factor == "prompt" and lv == "default" else lv
            for lv in levels
        ]
        lines.append(f"  {factor}: {', '.join(shown)}")
    cells = [c for _, c in sweep.cells()]
    counts = sorted({per_cell.get(c["label"], 0) for c in cells})
    if len(counts) == 1:
        lines.append(sweep.describe(counts[0]))
    else:
        total = sum(per_cell.get(c["label"], 0) for c in cells)
        lines.append(
            f"{sweep.describe()}, {counts[0]} to {counts[-1]} trials each (subsets or "
            f"conditions differ) = {total} trials"
        )
    if "seed" not in sweep.levels() or len(sweep.levels()["seed"]) < 2:
        lines.append(
            "no seed factor of two or more levels: the effects will have no noise floor to be "
            "read against (add seed: [0, 1, 2])"
        )
    return lines


@sweep_app.command("design")
def design_cmd(
    spec: Annotated[Path, typer.Argument(help="Experiment spec (YAML) with a sweep: block.")],
) -> None:
    """The sweep's factors and levels, and how many cells × trials it runs (the plan is made,
    no model is called; `behaviorlab plan SPEC` says what it costs)."""
    from behaviorlab.runs import load_spec

    try:
        loaded = load_spec(spec)
        if loaded.sweep is None:
            _fail(f"{spec}: no sweep: block; see docs/sensitivity.md for one")
        per_cell = asyncio.run(_trials_per_cell(loaded))
    except _USER_ERRORS as exc:
        _fail(exc)
    for line in _design_lines(loaded, per_cell):
        _print(line)


def _reference(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        factor, eq, level = pair.partition("=")
        if not eq or not factor or not level:
            _fail(f"--reference takes FACTOR=LEVEL (e.g. prompt=default), not {pair!r}")
        out[factor] = level
    return out


def _summary_lines(result: Sensitivity) -> list[str]:
    pct = round(result.level * 100)
    lines = [
        f"sweep {result.prefix!r}: "
        + " × ".join(f"{len(v)} {k}" for k, v in result.factors.items())
        + f" = {len(result.cells)} cells, {result.n_people} people"
    ]
    for metric in dict.fromkeys(result.effects["metric"]):
        lines += ["", f"{metric}: effect [{pct}%]   (seed floor at the factor's cell count)"]
        for r in result.effects.loc[result.effects["metric"] == metric].to_dict("records"):
            within = r["within_noise"]
            reading = (
                ""
                if within is None
                else ("  within seed noise" if within else "  beyond seed noise")
            )
            lines.append(
                f"  {r['factor']} {r['level']} vs {r['reference']}: {_num(r['value'])} "
                f"[{_num(r['low'])}, {_num(r['high'])}]   floor {_num(r['floor'])}{reading}"
            )
        floor = result.floor(metric)
        if floor is not None:
            lines.append(
                f"  seed, any two (RMS): {_num(floor['value'])} "
                f"[{_num(floor['low'])}, {_num(floor['high'])}]   the noise floor"
            )
        var = result.variance.loc[result.variance["metric"] == metric]
        if not var.empty:
            shares = ", ".join(
                f"{r['factor']} {_num(r['share'], 2)} [{_num(r['low'], 2)}, {_num(r['high'], 2)}]"
                + (
                    f" (null {_num(r['null_share'], 2)})"
                    if r["null_share"] == r["null_share"]
                    else ""
                )
                for r in var.to_dict("records")
            )
            lines.append(f"  share of variance (a null factor's from the seed noise): {shares}")
    if not result.rationales.empty:
        lines += ["", f"rationale distance (1 - ROUGE-L) [{pct}%]"]
        for r in result.rationales.to_dict("records"):
            what = "any two seeds" if r["factor"] == "seed" else f"{r['level']} vs {r['reference']}"
            text = (
                f"  {r['factor']} {what}: {_num(r['value'])} [{_num(r['low'])}, {_num(r['high'])}]"
            )
            if r["factor"] != "seed" and r["excess"] == r["excess"]:
                text += (
                    f"   above the seed floor {_num(r['excess'])} "
                    f"[{_num(r['excess_low'])}, {_num(r['excess_high'])}]"
                )
            lines.append(text)
    if result.notes:
        lines += ["", *result.notes]
    return lines


def _payload(result: Sensitivity) -> dict[str, Any]:
    return {
        "sweep": result.prefix,
        "factors": result.factors,
        "reference": result.reference,
        "people": result.n_people,
        "level": result.level,
        "n_resamples": result.n_resamples,
        "effects": result.effects.to_dict("records"),
        "noise_floor": result.noise_floor.to_dict("records"),
        "variance": result.variance.to_dict("records"),
        "rationales": result.rationales.to_dict("records"),
        "cells": result.cells.to_dict("records"),
        "notes": list(result.notes),
    }


@sweep_app.command("effects")
def effects_cmd(
    run: Annotated[str, typer.Argument(help="Run name (under --out), folder or .sqlite file.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder holding one sub-folder per run.")
    ] = Path("runs"),
    sweep: Annotated[
        str | None, typer.Option(help="The sweep's label, when the run holds several.")
    ] = None,
    condition: Annotated[
        str | None,
        typer.Option(help="The condition to read, when the cells answer under several."),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(help="FACTOR=LEVEL: measure this factor's effects from LEVEL (repeatable)."),
    ] = None,
    resamples: Annotated[
        int, typer.Option(help="Bootstrap resamples.", min=100, max=MAX_RESAMPLES)
    ] = 2000,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the tables as JSON.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a report section (.html or .md).")
    ] = None,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial",
            help="Read an unfinished run's cells present (the notes name what is missing).",
        ),
    ] = False,
) -> None:
    """Each factor's effect on accuracy, the answer distribution and the rationales, beside
    the seed-to-seed noise floor, and the share of variance each explains."""
    from behaviorlab.analysis import sensitivity
    from behaviorlab.runs import open_run

    refs = _reference(reference or [])
    try:
        r = open_run(run, out=out)
        result = sensitivity(
            r,  # the run's spec says which cells and trials the sweep asked for
            sweep=sweep,
            reference=refs,
            condition=condition,
            n_resamples=resamples,
            allow_partial=partial,
        )
    except _USER_ERRORS as exc:
        _fail(exc)
    for line in _summary_lines(result):
        _print(line)
    from behaviorlab.report._sensitivity import sensitivity_section

    _outputs(
        _payload(result),
        [sensitivity_section(result)],
        json_out=json_out,
        report=report,
        title=f"Sensitivity: {r.run_id}",
        subtitle=f"sweep {result.prefix!r}, {result.n_people} people",
    )
