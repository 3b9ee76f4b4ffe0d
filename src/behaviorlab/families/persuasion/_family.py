"""The persuasion family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.persuasion._report import persuasion_blocks
from behaviorlab.families.persuasion._task import PERSUASION
from behaviorlab.plugins._family import (
    Demo,
    DemoPlan,
    DemoRequest,
    Family,
    family,
    read_packaged_spec,
    with_backend,
)

_PACKAGE = __package__ or "behaviorlab.families.persuasion"
OUTRO = (
    "The people here are generated (persuasion_synthetic) with planted dynamics: 30% change "
    "their stance after the arguments, 80% of them toward the arguments' majority side, 10% "
    "move on a retest with nothing shown. The report's persuasion block shows those rates "
    "recovered, the yardstick, and each twin against the no-change, majority-side and "
    "logistic baselines; no_arguments and shuffled_persona are the controls. The bundled "
    "SmolLM2 (135M parameters) is no twin: in this demo (measured once, before the retest "
    "trials were added) it changed its stance in 0.80 of its 20 trials where the people changed in "
    "0.30, put 0.6 to 0.9 of its probability on a change every time, and moved as often with "
    "the arguments withheld; its change accuracy is below the no_change base rate."
)


def _demo(request: DemoRequest) -> DemoPlan:
    spec = with_backend(read_packaged_spec(_PACKAGE), request.backend)
    if request.people is not None:  # --people: how many generated people (half are tested)
        spec["data"]["options"]["people"] = request.people
    intro = [f"[bold]behaviorlab demo persuasion[/]: {spec.get('description', spec['name'])}"]
    return DemoPlan(spec, intro=intro, outro=[OUTRO])


FAMILY = family(
    Family(
        name=PERSUASION,
        summary="Attitude change: twins read the arguments people read and change their "
        "minds (or not) from where those people stood.",
        tasks=(PERSUASION,),
        report_blocks=persuasion_blocks,
        demos=(
            Demo(
                "persuasion",
                "generated attitude data with planted change rates: the bundled SmolLM2 "
                "beside no-change, majority-side and logistic baselines",
                _demo,
            ),
        ),
        metric_labels={
            "change_accuracy": "change accuracy",
            "change_over_base": "change acc. − base",
            "direction_accuracy": "direction accuracy",
            "direction_both_changed": "direction (both moved)",
            "strength_change_r": "strength change r",
            "change_brier": "Brier of P(change)",
        },
        docs="docs/persuasion.md",
    )
)
