"""The scenario family: dilemmas and test items where the subject is the agent itself.

It brings the scenario loader (``scenario_file``, the illustrative ``scenario_examples``) with
the PacifAIst and difference-awareness adapters, the ``scenario`` task (refusal and deferral
detection, the optional judge of open answers), its metrics (P-Score, DiffAware / CtxtAware),
its report blocks and ``behaviorlab demo scenario``. Each scenario is the unit intervals are
clustered by (docs/scenario.md).
"""

from behaviorlab.families.scenario import _adapters, _metrics  # noqa: F401  (register)
from behaviorlab.families.scenario._data import (
    ScenarioDataError,
    ScenarioMapping,
    load_scenarios,
    scenarios_from_frame,
)
from behaviorlab.families.scenario._family import FAMILY
from behaviorlab.families.scenario._judge import JudgeVerdict, ScenarioJudge
from behaviorlab.families.scenario._metrics import FIRST_OPTION, awareness_table, scenario_table
from behaviorlab.families.scenario._task import (
    REFUSAL_PATTERNS,
    SCENARIO,
    ScenarioTask,
    detect_refusal,
)

__all__ = [
    "FAMILY",
    "FIRST_OPTION",
    "REFUSAL_PATTERNS",
    "SCENARIO",
    "JudgeVerdict",
    "ScenarioDataError",
    "ScenarioJudge",
    "ScenarioMapping",
    "ScenarioTask",
    "awareness_table",
    "detect_refusal",
    "load_scenarios",
    "scenario_table",
    "scenarios_from_frame",
]
