"""The debate family: what it tells the core."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
from rich.markup import escape

from behaviorlab.analysis import Estimate
from behaviorlab.families.debate._metrics import debate_reports, drift_differences, drift_table
from behaviorlab.families.debate._report import debate_blocks
from behaviorlab.families.debate._task import DEBATE
from behaviorlab.plugins._family import (
    Demo,
    DemoPlan,
    DemoRequest,
    Family,
    family,
    read_packaged_spec,
    with_backend,
)

if TYPE_CHECKING:
    from behaviorlab.runs import Run

_PACKAGE = __package__ or "behaviorlab.families.debate"
OUTRO = (
    "Read the smollm2 rows with care: the bundled SmolLM2 (135M parameters) does not debate. "
    "In this demo (measured once, about 7 minutes on 2 shared cores) it rated every report 1 "
    "whatever its identity, gave empty speeches, and its own default is 1 too, so no agent "
    "has a gap to close and it has no drift row; the report's reading says so. The scripted "
    "rows are the yardsticks: drift-0.25 closes 1 - 0.75**r of the gap by round r (0.25, "
    "0.44), degroot follows its closed form, stubborn closes nothing."
)


WIDTH = 80
DEMO_RESAMPLES = 500


def _cell(est: object) -> str:
    if not isinstance(est, Estimate) or est.value != est.value:
        return "—"
    return f"{est.value:.2f} [{est.low:.2f}, {est.high:.2f}]"


def _by_round(table: pd.DataFrame, label: str, value: str) -> list[str]:
    """``table`` as one line per (simulator, ``label``) with a column per round, or one line
    per round when the rounds do not fit in 80 columns."""
    rounds = sorted(int(r) for r in table["round"].unique())
    sim_w = max(len("simulator"), *(len(str(s)) for s in table["simulator"])) + 2
    arm_w = max(len(label), *(len(str(a)) for a in table[label])) + 2
    cells = {
        (str(r["simulator"]), str(r[label]), int(r["round"])): _cell(r[value])
        for r in table.to_dict(orient="records")
    }
    cell_w = max(len(c) for c in cells.values()) + 2
    keys = list(dict.fromkeys((s, a) for s, a, _ in cells))
    if sim_w + arm_w + cell_w * len(rounds) <= WIDTH:
        lines = [f"{'simulator':<{sim_w}}{label:<{arm_w}}"]
        lines[0] += "".join(f"{'round ' + str(r):<{cell_w}}" for r in rounds)
        for s, a in keys:
            row = "".join(f"{cells.get((s, a, r), '—'):<{cell_w}}" for r in rounds)
            lines.append(f"{s:<{sim_w}}{a:<{arm_w}}{row}")
    else:
        lines = [f"{'simulator':<{sim_w}}{label:<{arm_w}}{'round':<7}{value}"]
        lines += [f"{s:<{sim_w}}{a:<{arm_w}}{r:<7}{c}" for (s, a, r), c in cells.items()]
    return [escape(line.rstrip()) for line in lines]


def _finish(run: Run) -> Sequence[str]:
    """After the demo: the pooled drift table (the scripted references and the controls are
    its other rows) and each control's paired difference from the full debate."""
    reports = debate_reports(run.to_pandas())
    drift = drift_table(reports, per_topic=False, n_resamples=DEMO_RESAMPLES)
    if drift.empty:
        return ["[bold]Drift[/]: no debate has attitude reports after round 0, so no drift"]
    lines = [
        "",
        "[bold]Drift toward each model's own default[/] (share of the gap closed by round, "
        f"pooled over topics; 95% intervals, {DEMO_RESAMPLES} resamples)",
        *_by_round(drift, "arm", "share"),
    ]
    diffs = drift_differences(reports, n_resamples=DEMO_RESAMPLES)
    if not diffs.empty:
        lines += [
            "",
            "[bold]Controls minus the full debate[/] (paired by debate setup)",
            *_by_round(diffs, "condition", "difference"),
        ]
    return [*lines, ""]


def _demo(request: DemoRequest) -> DemoPlan:
    spec = with_backend(read_packaged_spec(_PACKAGE), request.backend)
    intro = [f"[bold]behaviorlab demo debate[/]: {spec.get('description', spec['name'])}"]
    return DemoPlan(spec, intro=intro, outro=[OUTRO], finish=_finish)


FAMILY = family(
    Family(
        name=DEBATE,
        summary="Debates between N agents with identities: attitude trajectories and drift "
        "toward the model's own default, with same-identity, retest and reference controls.",
        tasks=(DEBATE,),
        report_blocks=debate_blocks,
        demos=(
            Demo(
                "debate",
                "3 agents debate 2 topics with the bundled SmolLM2 (which does not debate "
                "well), beside scripted drift, DeGroot and stubborn agents",
                _demo,
            ),
        ),
        docs="docs/debate.md",
    )
)
