"""The patient family: what it tells the core."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from behaviorlab.families.patient._rating import rating_form
from behaviorlab.families.patient._report import compact_lines, patient_blocks
from behaviorlab.families.patient._task import PATIENT
from behaviorlab.plugins._family import (
    Demo,
    DemoPlan,
    DemoRequest,
    Family,
    family,
    read_packaged_spec,
)
from behaviorlab.runs._estimate import Estimate
from behaviorlab.runs._spec import ExperimentSpec

if TYPE_CHECKING:
    from behaviorlab.runs import Run

_PACKAGE = __package__ or "behaviorlab.families.patient"
OUTRO = (
    "A training and research simulator, not a clinical tool. Read the table above from the "
    "top (its intervals, per-label F1 and consistency are in report.html / report.md): "
    "the judge-check rows say how well each judge reads planted statements (the keyword "
    "yardstick reads explicit words only); a patient row means something only above its "
    "chance line and beside the name_and_style baseline; a judge on the patient's own model "
    "flatters it, so read the other-model judge. The scripted patients are the yardsticks: "
    "scripted-explicit states every label in its own words, scripted-implicit never does. "
    "Read the smollm2 rows with care: in one measured run (4 models, 3 turns; about 6 "
    "minutes on 2 shared cores) the bundled SmolLM2 patient echoed the therapist's line "
    "instead of playing its case, and both bundled judges (SmolLM2, Gemma 3 270M) gave nearly "
    "one reading for every transcript, so their rows sat on their chance lines; the report "
    "warns when a judge does that."
)


def with_party_backend(spec: dict[str, Any], backend: str) -> dict[str, Any]:
    """The spec with every ``llm`` party and the same-model judge on ``backend`` (the
    other-model judge too, on another model name, for ``mock``); unchanged for ``llamacpp``."""
    if backend == "llamacpp":
        return spec
    for entry in spec.get("parties", []):
        for role, sim in list(entry["roles"].items()):
            if sim.get("name") == "llm":
                moved = {k: v for k, v in sim.items() if k not in ("model", "backend_options")}
                entry["roles"][role] = {**moved, "backend": backend}
                entry["label"] = backend
    judges = []
    for judge in spec["task_options"].get("judges", []):
        judge = dict(judge)
        if judge.get("label") == "same-model":
            judge = {"label": "same-model", "kind": "llm", "backend": backend}
        elif judge.get("label") == "other-model" and backend == "mock":
            judge = {
                "label": "other-model",
                "kind": "llm",
                "backend": "mock",
                "model": "mock-judge",
            }
        judges.append(judge)
    spec["task_options"]["judges"] = judges
    spec["name"] = f"{spec['name']}-{backend}"
    return spec


def plan_notes(spec: ExperimentSpec, estimate: Estimate) -> list[str]:
    """The judges' calls, which the parties' counts above leave out."""
    judges = [j for j in spec.task_options.get("judges") or [] if j.get("kind", "llm") == "llm"]
    if not judges:
        return []
    left = sum(c.trials - c.stored for c in estimate.cells)
    names = ", ".join(str(j.get("label", f"judge-{i}")) for i, j in enumerate(judges))
    lines = [
        f"judges: {len(judges)} LLM judge(s) ({names}) read each of the {left} trials still "
        f"to run: up to {left * len(judges)} judge calls (one per trial and judge, fewer when "
        "the call cache holds them), not in the counts above"
    ]
    timed = [
        ((c.trials - c.stored) * len(judges), tp.seconds)
        for c in estimate.cells
        if (tp := estimate.throughput.get(c.simulator)) is not None and tp.per == "call"
    ]
    if timed and (calls := sum(n for n, _ in timed)):
        seconds = sum(n * s for n, s in timed)
        lines.append(
            f"judges' time: about {seconds:.0f} s more for those {calls} calls at the "
            f"measured {seconds / calls:.2f} s per call (a stored trial's calls count its "
            "judges' readings), not in the time above"
        )
    return lines


def _finish(run: Run) -> Sequence[str]:
    """After the demo: the judge check and the patients' fidelity, compactly (80 columns)."""
    lines = compact_lines(run.to_pandas())
    if not lines:
        return []
    return [
        "",
        "[bold]Simulated patients[/]: what each judge reads from the transcript alone, mean "
        "Jaccard (style: share right) and (its permutation chance line); judge check rows: "
        "planted statements",
        *(escape(line) for line in lines),
        "",
    ]


def _demo(request: DemoRequest) -> DemoPlan:
    spec = with_party_backend(read_packaged_spec(_PACKAGE), request.backend)
    intro = [f"[bold]behaviorlab demo patient[/]: {spec.get('description', spec['name'])}"]
    return DemoPlan(spec, intro=intro, outro=[OUTRO], finish=_finish)


FAMILY = family(
    Family(
        name="patient",
        summary="Simulated CBT patients from cognitive models (PATIENT-Ψ shape) in sessions "
        "with a therapist, judged from the transcript alone: fidelity with a permutation "
        "chance line, a name-and-style baseline and a planted-statement judge check. "
        "Training and research only, not a clinical tool.",
        tasks=(PATIENT,),
        report_blocks=patient_blocks,
        plan_notes=plan_notes,
        rating_form=rating_form,
        demos=(
            Demo(
                "patient",
                "simulated patients (bundled SmolLM2 and scripted) in scripted therapy "
                "sessions, judged from the transcript; a judge check on planted statements",
                _demo,
            ),
        ),
        docs="docs/patient.md",
    )
)
