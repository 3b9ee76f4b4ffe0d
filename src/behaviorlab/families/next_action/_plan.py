"""What ``behaviorlab plan`` says about a next-action spec beyond its estimate: the spec on its
whole test split (a demo or a pilot runs a slice), and the measured time per call
extrapolated to the released OPeRA filtered test split."""

from __future__ import annotations

from behaviorlab.runs._estimate import Estimate, format_seconds
from behaviorlab.runs._spec import ExperimentSpec

OPERA_FILTERED_TEST_ROWS = 992
"""Action rows of the released OPeRA filtered test split (dataset card)."""


def full_scope(spec: ExperimentSpec) -> ExperimentSpec | None:
    """The same spec on the whole test split (no ``subset``, no ``max_steps``, no
    ``data.people``); None when the spec already covers it."""
    sliced = (
        any(s.subset is not None for s in spec.simulators)
        or spec.task_options.get("max_steps") is not None
        or spec.data.people is not None
    )
    if not sliced:
        return None
    data = spec.data.model_copy(update={"people": None})
    sims = [s.model_copy(update={"subset": None}) for s in spec.simulators]
    opts = {k: v for k, v in spec.task_options.items() if k != "max_steps"}
    return spec.model_copy(update={"data": data, "simulators": sims, "task_options": opts})


def plan_notes(spec: ExperimentSpec, estimate: Estimate) -> list[str]:
    """Extrapolate the measured per-call time to the released OPeRA filtered test split."""
    out: list[str] = []
    conds: dict[str, int] = {}
    for c in estimate.cells:
        if c.simulator in estimate.llm:
            conds[c.simulator] = conds.get(c.simulator, 0) + 1
    for label, n_cond in conds.items():
        tp = estimate.throughput.get(label)
        if tp is None:
            continue
        secs = OPERA_FILTERED_TEST_ROWS * n_cond * tp.seconds
        out.append(
            f"real OPeRA (filtered test split, {OPERA_FILTERED_TEST_ROWS} action rows) × "
            f"{n_cond} conditions with {label}: ~{format_seconds(secs)} at {tp.seconds:.3g} s "
            "per call (prompts cut to the same budget; real pages fill the budget more often)"
        )
    return out
