"""The next-action family (OPeRA): what it tells the core."""

from __future__ import annotations

from behaviorlab.data._opera_synth import make_synthetic_opera
from behaviorlab.families.next_action._plan import full_scope, plan_notes
from behaviorlab.families.next_action._report import next_action_blocks, next_action_sections
from behaviorlab.families.next_action._task import NEXT_ACTION
from behaviorlab.plugins._family import (
    Demo,
    DemoPlan,
    DemoRequest,
    Family,
    family,
    read_packaged_spec,
)

BANNER = "SYNTHETIC DATA: invented shoppers on an invented shop, NOT OPeRA, NOT REAL PEOPLE"


def _demo(request: DemoRequest) -> DemoPlan:
    """Next action of SYNTHETIC shoppers in OPeRA's layout, offline."""
    data_dir = request.out / "opera-demo-data"
    make_synthetic_opera(data_dir)  # deterministic; a rerun rewrites the same files
    spec = read_packaged_spec(__package__ or "behaviorlab.families.next_action")
    spec["data"]["options"]["path"] = str(data_dir)
    if request.backend != "llamacpp":
        llm = spec["simulators"][0]
        spec["simulators"][0] = {
            "name": "llm",
            "backend": request.backend,
            "answer": "generate",
            "subset": llm["subset"],
        }
        spec["name"] = f"{spec['name']}-{request.backend}"
    intro = [
        f"[bold yellow]{BANNER}[/]",
        "[bold]behaviorlab demo opera[/]: next action, step by step, on synthetic shopping "
        f"sessions in OPeRA's layout ({data_dir}); split: the data's own (each shopper's last "
        f"session is test). LLM ({request.backend}): 2 test shoppers' first 6 steps (full, "
        "no_persona), first 3 (other conditions); baselines: the whole test split.",
    ]
    outro = [f"[bold yellow]{BANNER}[/]: the numbers above say nothing about people."]
    return DemoPlan(spec, intro=intro, outro=outro, estimate=True)


FAMILY = family(
    Family(
        name=NEXT_ACTION,
        summary="OPeRA-style web behavior: the next click / input / terminate and its rationale.",
        tasks=(NEXT_ACTION,),
        report_blocks=next_action_blocks,
        report_sections=next_action_sections,
        plan_notes=plan_notes,
        full_scope=full_scope,
        demos=(
            Demo("opera", "next action of SYNTHETIC shoppers in OPeRA's layout, offline", _demo),
        ),
        splits=("person", "data", "time"),
        metric_labels={"accuracy": "exact match"},  # OPeRA's name; `accuracy` in results
        docs="docs/next-action.md",
    )
)
