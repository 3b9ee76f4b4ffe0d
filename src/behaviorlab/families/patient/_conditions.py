"""The baseline patient as a condition: ``name_and_style`` shows the patient only its name
and its conversational style (no cognitive model), so what a judge still reads from its
sessions is what any patient in that style shows. Planted transcripts are not sessions: this
condition leaves them out (the ``full`` arm reads them)."""

from __future__ import annotations

from behaviorlab.data._records import Person
from behaviorlab.families.patient._data import PLANTED_KIND
from behaviorlab.families.patient._model import STYLE_TEXT
from behaviorlab.families.patient._task import PATIENT, PatientConfigError
from behaviorlab.runs._conditions import condition
from behaviorlab.tasks._base import Trial

NAME_AND_STYLE = "name_and_style"


def baseline_persona(person: Person, style: str) -> Person:
    """Only the name and the style of ``person``."""
    name = str(person.attributes.get("name", "the patient"))
    return Person(
        person_id=person.person_id,
        description=f"Name: {name}\nConversational style ({style}): {STYLE_TEXT[style]}",
        attributes={"name": name, "style": style},
    )


@condition(NAME_AND_STYLE)
def name_and_style(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The baseline patient: its name and style only (module docstring)."""
    out: list[Trial] = []
    for t in trials:
        if t.input.task != PATIENT:
            raise PatientConfigError(
                f"condition {NAME_AND_STYLE!r} applies to patient_session trials only; trial "
                f"{t.key} is of task {t.input.task!r}"
            )
        if t.input.meta.get("kind") == PLANTED_KIND:
            continue
        style = str(t.input.meta["style"])
        meta = {**t.input.meta, "arm": "baseline"}
        persona = baseline_persona(t.person, style)
        out.append(
            t.model_copy(
                update={"input": t.input.model_copy(update={"persona": persona, "meta": meta})}
            )
        )
    return out
