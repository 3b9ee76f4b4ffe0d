"""Experiments: specs, conditions, the resumable runner and the Python API."""

from behaviorlab.runs._api import Run, open_run, run
from behaviorlab.runs._conditions import Condition, condition, conditions, derangement
from behaviorlab.runs._import import (
    AnswerColumns,
    AnswerImportError,
    ImportSummary,
    UnmatchedRow,
    import_answers,
)
from behaviorlab.runs._lifecycle import run_async
from behaviorlab.runs._planning import plan
from behaviorlab.runs._spec import (
    DataSpec,
    ExecutorSpec,
    ExperimentSpec,
    PartiesSpec,
    SimulatorSpec,
    SpecError,
    SplitSpec,
    SubsetSpec,
    ThroughputSpec,
    load_spec,
    parse_spec,
)
from behaviorlab.runs._sweep import SweepFactors, SweepSpec
from behaviorlab.runs._types import Job, Plan, RunSummary

__all__ = [
    "AnswerColumns",
    "AnswerImportError",
    "Condition",
    "DataSpec",
    "ExecutorSpec",
    "ExperimentSpec",
    "ImportSummary",
    "Job",
    "PartiesSpec",
    "Plan",
    "Run",
    "RunSummary",
    "SimulatorSpec",
    "SpecError",
    "SplitSpec",
    "SubsetSpec",
    "SweepFactors",
    "SweepSpec",
    "ThroughputSpec",
    "UnmatchedRow",
    "condition",
    "conditions",
    "derangement",
    "import_answers",
    "load_spec",
    "open_run",
    "parse_spec",
    "plan",
    "run",
    "run_async",
]
