"""The run manifest records the task's prompting: a family that changes its own wording
(history lines, framings) shows as a different template hash, the shared templates aside."""

from __future__ import annotations

from typing import ClassVar

from behaviorlab.families.survey import SurveyTask
from behaviorlab.runs._manifest import task_manifest
from behaviorlab.simulators._prompts import DEFAULT_PROMPTING, Prompting
from behaviorlab.tasks import task


class _Reworded(Prompting):
    template_parts: ClassVar[tuple[str, ...]] = ("Earlier, the person did:",)


class _RewordedAgain(Prompting):
    template_parts: ClassVar[tuple[str, ...]] = ("Before this, the person did:",)


def test_the_manifest_tells_prompt_wordings_apart() -> None:
    @task("manifest_probe_a", replace=True)
    class A(SurveyTask):
        name = "manifest_probe_a"
        prompting = _Reworded()

    @task("manifest_probe_b", replace=True)
    class B(SurveyTask):
        name = "manifest_probe_b"
        prompting = _RewordedAgain()

    a, b = task_manifest("manifest_probe_a"), task_manifest("manifest_probe_b")
    assert a["prompting"].endswith("._Reworded") and b["prompting"].endswith("._RewordedAgain")
    assert a["template_hash"] != b["template_hash"]
    assert a["template_hash"] == _Reworded().template_hash()
    # survey's own prompting differs from the default one a task without any gets
    survey = task_manifest("survey")
    assert survey["template_hash"] == SurveyTask.prompting.template_hash()
    assert survey["template_hash"] != DEFAULT_PROMPTING.template_hash()
    assert task_manifest("no_such_task")["template_hash"] == DEFAULT_PROMPTING.template_hash()
