"""How the ``llm`` simulator asks next-action trials and reads the answers.

- History lines are the numbered lines of :func:`history_lines` (the step's own number, the
  page title, the action, the rationale), so consecutive steps share their prompt prefix.
- An answer is validated with ``jsonschema`` against :func:`validation_schema`, the answer
  schema with the task's two deliberate exemptions: a ``click_type`` off the list is allowed
  on a non-click (the click type matters for clicks only), and a ``semantic_id`` off the page
  on a terminate (leaving names no element). The length caps of ``input_text`` and
  ``rationale`` bind the generation (constrained decoding) but do not make an answer
  invalid: a long rationale is still an action that can be scored.
- The answer's compact string is ``click:<id>`` / ``input:<id>=<text>`` / ``terminate``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from behaviorlab.data._records import Step
from behaviorlab.families.next_action._actions import HISTORY_FORMAT, answer_compact, history_lines
from behaviorlab.simulators._prompts import Prompting


def validation_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The answer schema with the click-type and target exemptions (module docstring)."""
    out: dict[str, Any] = copy.deepcopy(dict(schema))
    props: dict[str, Any] = out.get("properties", {})
    for key in ("input_text", "rationale"):
        if isinstance(props.get(key), dict):
            props[key].pop("maxLength", None)
    rules: list[dict[str, Any]] = []
    click = props.get("click_type", {})
    if isinstance(click, dict) and "enum" in click:
        rules.append(
            {
                "if": {"properties": {"action_type": {"const": "click"}}},
                "then": {"properties": {"click_type": {"enum": click.pop("enum")}}},
            }
        )
    target = props.get("semantic_id", {})
    if isinstance(target, dict) and "enum" in target:
        rules.append(
            {
                "if": {"properties": {"action_type": {"const": "terminate"}}},
                "else": {"properties": {"semantic_id": {"enum": target.pop("enum")}}},
            }
        )
    if rules:
        out["allOf"] = [*out.get("allOf", []), *rules]
    return out


class NextActionPrompting(Prompting):
    """Next-action history lines, validation exemptions and compact action strings."""

    template_parts: ClassVar[tuple[str, ...]] = (HISTORY_FORMAT,)

    def history_lines(self, history: Sequence[Step]) -> list[str]:
        return history_lines(history)

    def validation_schema(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        return validation_schema(schema)

    def choice_of(self, value: Mapping[str, Any]) -> str:
        return answer_compact(value)
